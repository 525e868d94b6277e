"""Short errors in notebooks: a :class:`~toolkit.errors.ToolkitError` raised in a cell shows as its
one-paragraph message (what was wrong, then ``Fix:`` what to do), not a 30-line traceback through the
toolkit's internals. Every other exception keeps IPython's full traceback.

Installed when ``toolkit`` is imported in an IPython kernel (through IPython's custom exception hook,
``set_custom_exc``), unless another custom handler is already set. The cell still fails (Run All stops,
nbval and nbclient see the error) unless it is tagged ``raises-exception``; ``%tb`` shows the full
traceback. :func:`uninstall` puts IPython's own display back.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ..errors import ToolkitError

RED, BOLD, RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"


def short_error(error: BaseException, *, colour: bool = False) -> str:
    """``TunnelError: <message>`` and the ``Fix:`` line: the paragraph a notebook shows."""
    name = type(error).__name__
    head = f"{RED}{BOLD}{name}{RESET}" if colour else name
    return f"{head}: {error}\n(%tb shows the full traceback)"


def _show(shell: Any, etype: type[BaseException], value: BaseException, tb: types.TracebackType | None,
          tb_offset: int | None = None) -> list[str]:
    """IPython's custom exception handler: show the short error as the cell's error output."""
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # for %tb and %debug
    stb = [short_error(value, colour=True)]
    shell._showtraceback(etype, value, stb)
    return stb


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if get is not None else None


def install(shell: Any = None) -> bool:
    """Show ToolkitErrors short in ``shell`` (default: the running IPython, if any). Returns whether
    it is installed; a custom exception handler someone else set is left alone."""
    shell = shell if shell is not None else _shell()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if getattr(shell, "custom_exceptions", ()) not in ((), (ToolkitError,)):
        return False
    shell.set_custom_exc((ToolkitError,), _show)
    return True


def uninstall(shell: Any = None) -> None:
    """Back to IPython's full tracebacks for ToolkitErrors."""
    shell = shell if shell is not None else _shell()
    if shell is not None and getattr(shell, "custom_exceptions", ()) == (ToolkitError,):
        shell.set_custom_exc((), None)
