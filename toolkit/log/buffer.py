"""The request log: a bounded, thread-safe ring buffer of :class:`Exchange` with subscribers,
that widgets and tests read; it saves as JSON lines and converts to a DataFrame.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import Any

from ..files import write_atomic
from .exchange import Exchange
from .logger import logger

Subscriber = Callable[[Exchange], None]


class Log:
    """A bounded, thread-safe ring buffer of exchanges (newest last), with subscribers."""

    def __init__(self, size: int = 500, retry_window_s: float = 3.0, deadline_s: float | None = None) -> None:
        self._entries: deque[Exchange] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._seen: OrderedDict[str, float] = OrderedDict()  # fingerprint -> last time, oldest first
        self._next_id = 1
        self.retry_window_s = retry_window_s
        self.deadline_s = deadline_s  # drawn by plot(); the App keeps it equal to its setting
        self.total = 0  # exchanges ever recorded, including those dropped from the buffer

    @classmethod
    def attach(cls, url: str, size: int = 500, poll_s: float = 0.5) -> Log:
        """A log that follows the log database of a running service (its ``log_url``), live.

        ``app.log = Log.attach(url)`` then ``app.log_view()`` shows the service's traffic.
        """
        from .dblog import AttachedLog

        return AttachedLog(url, size, poll_s)

    @property
    def size(self) -> int:
        return self._entries.maxlen or 0

    def resize(self, size: int) -> None:
        with self._lock:
            self._entries = deque(self._entries, maxlen=size)

    def record(self, entry: Exchange) -> Exchange:
        """Store ``entry`` (giving it an id and the retry flag) and tell the subscribers."""
        with self._lock:
            entry.id = self._next_id
            self._next_id += 1
            self.total += 1
            fp, seen = entry.fingerprint, self._seen
            if fp:
                last = seen.pop(fp, None)
                if last is not None and entry.time - last <= self.retry_window_s:
                    entry.flags.append("retry")
                seen[fp] = entry.time  # newest last; older times never flag, so only the count is capped
                if len(seen) > max(4 * self.size, 64):
                    seen.popitem(last=False)
            self._entries.append(entry)
            subscribers = self._subscribers  # replaced, never changed in place: no copy needed
        for callback in subscribers:
            try:
                callback(entry)
            except Exception:  # a failing subscriber never breaks serving
                logger.exception("log subscriber %r failed", callback)
        return entry

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(exchange)`` after each new exchange. Returns the unsubscribe function."""
        with self._lock:
            self._subscribers = [*self._subscribers, callback]

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    subscribers = list(self._subscribers)
                    subscribers.remove(callback)
                    self._subscribers = subscribers

        return unsubscribe

    def clear(self) -> None:
        """Forget every exchange (subscribers stay)."""
        with self._lock:
            self._entries.clear()
            self._seen.clear()

    def entries(self) -> list[Exchange]:
        """A snapshot, oldest first."""
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> Exchange:
        return self.entries()[index]

    def last(self) -> Exchange | None:
        with self._lock:
            return self._entries[-1] if self._entries else None

    def find(self, id: int) -> Exchange | None:
        return next((e for e in self.entries() if e.id == id), None)

    def save(self, path: str | os.PathLike[str]) -> int:
        """Write the exchanges as JSON lines (atomically). Returns how many were written."""
        entries = self.entries()
        lines = "".join(json.dumps(e.to_dict(), ensure_ascii=False, default=str) + "\n" for e in entries)
        write_atomic(path, lines.encode("utf-8"))
        return len(entries)

    def to_frame(self) -> Any:
        """The log as a pandas DataFrame, one row an exchange."""
        import pandas as pd

        columns = list(Exchange.__dataclass_fields__)
        columns.remove("fingerprint")
        frame = pd.DataFrame([e.to_dict() for e in self.entries()], columns=columns)
        frame["time"] = pd.to_datetime(frame["time"], unit="s")
        return frame

    def plot(self, deadline_s: float | None = None, *, title: str = "") -> Any:
        """Latency over time against the deadline, and the answers by status: a matplotlib Figure
        (``fig.axes``: latency, by status). ``deadline_s`` defaults to the app's setting."""
        from .plot import plot_log

        return plot_log(self, deadline_s if deadline_s is not None else self.deadline_s, title=title)

    def __repr__(self) -> str:
        return f"<Log: {len(self)} exchanges>"
