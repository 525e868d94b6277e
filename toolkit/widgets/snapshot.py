"""What a closed view leaves on the page: its last picture, frozen, with a note saying why it stopped.

Closing a live widget would blank its output area, so after *Run All* of a notebook whose last cell
closes its views the reader saw nothing. A view therefore closes its live parts (controls, timer,
subscriptions) and keeps one static HTML child holding its last state and a "stopped" note.
Stopping the server a view depends on does the same (:class:`ServerWatch`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Protocol

import ipywidgets as w

from ..html.templates import macro
from ..server.lifecycle import Server, on_serve


def running_cell() -> str:
    """``"cell [12]"`` for the notebook cell running now, ``""`` outside a kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return ""
    shell = get_ipython()
    count = getattr(shell, "execution_count", None)
    if isinstance(count, int) and getattr(shell, "kernel", None) is not None:
        count -= 1  # ipykernel counts the running cell already (its reply says execution_count - 1)
    return f"cell [{count}]" if isinstance(count, int) and count > 0 else ""


def current_cell() -> str:
    """``"the view in cell [12]"`` for the notebook cell running now, ``"a newer view"`` outside IPython."""
    cell = running_cell()
    return f"the view in {cell}" if cell else "a newer view"


def note_html(note: str) -> str:
    """The grey line above a frozen view: ``"Stopped: ... its last state is shown."`` (plain text: no
    emoji, which some systems draw as a box)."""
    return str(macro("widgets.html", "stopped_note")(note))


def freeze(box: w.Box, html: str, note: str) -> w.HTML:
    """Replace ``box``'s children by one HTML widget: ``html`` (its last state) and ``note`` above it.

    Returns the new child. ``box`` stays open, so the notebook keeps showing it.
    """
    frozen = w.HTML(note_html(note) + html, layout=w.Layout(min_width="0"))
    frozen.add_class("tk-frozen")
    box.children = (frozen,)
    return frozen


class Closable(Protocol):
    def close(self, note: str | None = None, *, keep: bool = True) -> None: ...


class ServerWatch:
    """Freezes ``view`` (its :meth:`close` with a note) when the server it depends on is stopped.

    ``server`` is that server; with ``app`` instead, it is whichever server serves ``app``, now or
    later (a re-run ``app.serve()`` cell replaces the server: the view follows the new one rather than
    freezing). A stop at interpreter exit freezes nothing. ``changed()`` runs on every start and
    stop the watch sees (the log view redraws its "served at" link). The view keeps the watch
    (``view._watch = ServerWatch(...)``); the watch holds the view weakly.

    >>> view._watch = ServerWatch(view, "this log view no longer updates", app=app)  # doctest: +SKIP
    """

    def __init__(self, view: Closable, what: str, *, server: Server | None = None, app: Any = None,
                 changed: Callable[[], object] | None = None) -> None:
        self._view = weakref.ref(view)
        self.what, self.app, self.changed = what, app, changed
        self.server: Server | None = None
        if app is not None:
            on_serve(self.follow)
            server = getattr(app, "server", None)
        if isinstance(server, Server):
            self.follow(server)

    def follow(self, server: Server) -> None:
        """Watch ``server`` from now on (ignored when it serves another app than ``app``)."""
        if server is self.server or (self.app is not None and server.app is not self.app):
            return
        self.server = server
        server.on_stop(lambda: self._stopped(server))
        if self.changed is not None:
            self.changed()

    def note(self) -> str:
        """``"Stopped with its server in cell [7]: <what>; its last state is shown."``"""
        cell = running_cell()
        where = f" in {cell}" if cell else ""
        return f"Stopped with its server{where}: {self.what}; its last state is shown."

    def _stopped(self, server: Server) -> None:
        view = self._view()
        if view is None or server is not self.server:
            return
        if server.stop_reason == "stop":
            view.close(self.note())
        elif self.changed is not None:
            self.changed()
