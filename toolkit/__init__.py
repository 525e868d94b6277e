"""toolkit: a Jupyter workbench for Chatlayer (Sinch) API-step backends.

Plain Python functions answer the API step; ``app.serve()`` serves them from the kernel;
``app.call()`` runs them in-process; the emulator plays Chatlayer's side.
"""

from typing import TYPE_CHECKING

from .app import DEFAULT_REPLACE_HOOKS as _replace_hooks
from .app import RESPONSE_DEPRECATED, App, Outgoing
from .chatlayer.background import Background
from .config import SETTINGS, Settings
from .emulator import ApiStep, Conversation, Flow, Session, StepResult
from .errors import (
    BadRequest,
    BuilderError,
    ChatlayerError,
    ConfigError,
    HandlerError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PortInUse,
    ReplyError,
    ToolkitError,
    Unauthorized,
)
from .log import Exchange, Log
from .messages import (
    LIST_DEPRECATED,
    buttons,
    card,
    carousel,
    list_message,
    location,
    media,
    phone_button,
    postback,
    quick_replies,
    text,
    url_button,
)
from .reply import Reply, validate
from .request import Incoming, Request
from .server.lifecycle import Server
from .testing.rerun import on_replace as _recheck_on_replace
from .widgets.cellerrors import install as _short_errors_in_notebooks

__version__ = "0.1.0"
_short_errors_in_notebooks()  # in an IPython kernel: a ToolkitError shows as its message and fix

# Redefining a handler in a cell replays its traffic and fixtures and shows what changed under the cell.
if _recheck_on_replace not in _replace_hooks:
    _replace_hooks.append(_recheck_on_replace)

# Heavy or optional parts load on first use, so `import toolkit` stays fast and needs no kernel.
_LAZY = {
    "LogView": "toolkit.widgets.logview",
    "ChatView": "toolkit.widgets.chat",
    "ChatlayerClient": "toolkit.chatlayer.client",  # imports requests
    "V1Emulator": "toolkit.v1emulator.api",
    "LiveBot": "toolkit.chatlayer.live",  # imports requests
    "parity": "toolkit.chatlayer.parity",
    "Table": "toolkit.data",  # imports pandas
    "carousel_from_frame": "toolkit.data.frames",  # takes a pandas frame
    "calibrate": "toolkit.chatlayer.calibrate",
    "Calibration": "toolkit.chatlayer.calibrate",
}


# Old names, kept one release: each warns (DeprecationWarning, shown in a cell) and gives the new one.
_DEPRECATED = {"Response": (Outgoing, RESPONSE_DEPRECATED), "list_": (list_message, LIST_DEPRECATED)}


if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors (not imported at run time)
    from .app import Response as Response  # deprecated: toolkit.Outgoing
    from .chatlayer.calibrate import Calibration, calibrate
    from .chatlayer.client import ChatlayerClient
    from .chatlayer.live import LiveBot
    from .chatlayer.parity import parity
    from .data import Table
    from .data.frames import carousel_from_frame
    from .messages import list_ as list_  # deprecated: toolkit.list_message
    from .v1emulator.api import V1Emulator
    from .widgets.chat import ChatView
    from .widgets.logview import LogView


def __dir__() -> list[str]:
    """Every public name, lazy ones included (what tab completion in a notebook offers)."""
    return sorted(set(__all__) | set(globals()))


def _lazy(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _DEPRECATED:
        import warnings

        new, message = _DEPRECATED[name]
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return new
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")


if not TYPE_CHECKING:  # hidden from type checkers: a misspelt name (toolkit.Tabel) stays a type error
    __getattr__ = _lazy


__all__ = [
    "ApiStep",
    "App",
    "Background",
    "BadRequest",
    "Calibration",
    "BuilderError",
    "ChatlayerClient",
    "ChatlayerError",
    "ChatView",
    "ConfigError",
    "Conversation",
    "Exchange",
    "Flow",
    "HandlerError",
    "Incoming",
    "LiveBot",
    "Log",
    "LogView",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "PortInUse",
    "Reply",
    "ReplyError",
    "Request",
    "Outgoing",
    "Server",
    "Session",
    "SETTINGS",
    "Settings",
    "StepResult",
    "Table",
    "ToolkitError",
    "Unauthorized",
    "V1Emulator",
    "__version__",
    "buttons",
    "calibrate",
    "card",
    "carousel",
    "carousel_from_frame",
    "list_message",
    "location",
    "media",
    "parity",
    "phone_button",
    "postback",
    "quick_replies",
    "text",
    "url_button",
    "validate",
]
