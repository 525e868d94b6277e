"""A serial worker: items handled one after another, in order, on a short-lived daemon thread.

What Chatlayer does with a queue: the caller is answered at once and the work follows. Used for
pushed messages reaching an emulated chat and for messages injected into a webhook channel.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger("toolkit")
T = TypeVar("T")


class SerialWorker(Generic[T]):
    """``put(item)`` queues ``item`` for ``handle(item)``; a thread runs while the queue has items.

    A failing item is logged (``what`` names the work) and never stops the items after it.
    """

    def __init__(self, handle: Callable[[T], object], *, name: str, what: str) -> None:
        self._handle, self._name, self._what = handle, name, what
        self._queue: deque[T] = deque()
        self._cond = threading.Condition()
        self._busy = False

    def put(self, item: T) -> None:
        with self._cond:
            self._queue.append(item)
            if not self._busy:
                self._busy = True
                threading.Thread(target=self._drain, name=self._name, daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued item has been handled (True), or ``timeout`` passed (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy, timeout)

    def pending(self) -> int:
        """How many queued items wait to be handled."""
        with self._cond:
            return len(self._queue)

    def idle(self) -> bool:
        """Whether every queued item has been handled."""
        with self._cond:
            return not self._busy

    def _drain(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._busy = False
                    self._cond.notify_all()
                    return
                item = self._queue.popleft()
            try:
                self._handle(item)
            except Exception:  # a broken item must not stop the ones after it
                logger.exception("%s failed", self._what)
