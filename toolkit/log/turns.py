"""Turn tracing: which conversation turn a request to the app belongs to.

While a conversation turn is in flight (a user message sent to the emulated flow or to the live bot,
until its answer is complete), every request the app's handlers get is stamped with the turn's id
(``Exchange.turn``), so a transcript can say "this turn called /order-status -> 200, 42 ms" and a
log view can filter by turn.

Two ways a request is linked, the first that applies wins:

1. the context variable, set by :class:`in_turn` in the thread that runs the turn (and in threads
   started with a copy of its context): exact, even with several conversations at once;
2. the turns in flight on the app's log: a request served on a server thread (an API step over HTTP,
   the live bot calling through the tunnel) belongs to the one turn in flight on that log. With two
   or more in flight at once it is ambiguous and stays unlinked rather than linked wrongly.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("toolkit_turn", default=None)
_in_flight: dict[int, list[str]] = {}  # id(log) -> turns in flight on it
_lock = threading.Lock()


def current_turn(log: Any = None) -> str | None:
    """The turn a request arriving now belongs to (see the module's docstring), or None."""
    turn = _current.get()
    if turn is not None or log is None or not _in_flight:  # the common case: no lock taken
        return turn
    with _lock:
        flying = _in_flight.get(id(log))
        return flying[0] if flying and len(flying) == 1 else None


class in_turn:  # noqa: N801 - used as a context manager, like a function
    """``with in_turn("chat-1#3", app.log):`` links what the app gets meanwhile to turn ``chat-1#3``.

    ``log`` is the app's log (None: only the context variable is set).
    """

    def __init__(self, turn: str, log: Any = None) -> None:
        self.turn, self._key = turn, None if log is None else id(log)

    def __enter__(self) -> str:
        self._token = _current.set(self.turn)
        if self._key is not None:
            with _lock:
                _in_flight.setdefault(self._key, []).append(self.turn)
        return self.turn

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)
        if self._key is not None:
            with _lock:
                flying = _in_flight.get(self._key, [])
                if self.turn in flying:
                    flying.remove(self.turn)
                if not flying:
                    _in_flight.pop(self._key, None)
