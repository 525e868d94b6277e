"""ipywidgets views: the live log (``LogView``) and the chat (``ChatView``).

This package is the only place that imports ipywidgets; it is loaded lazily, so ``import toolkit``
never needs ipywidgets or a kernel.
"""

from __future__ import annotations

from typing import Any

_NAMES = {"LogView": ".logview", "ChatView": ".chat"}


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        import importlib

        return getattr(importlib.import_module(_NAMES[name], __name__), name)
    raise AttributeError(f"module 'toolkit.widgets' has no attribute {name!r}")
