"""The request log: a bounded, thread-safe ring buffer of :class:`Exchange` with subscribers,
that widgets and tests read; it saves as JSON lines and converts to a DataFrame.
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeVar

from ..files import write_atomic
from .exchange import Exchange
from .logger import logger

Subscriber = Callable[[Exchange], None]
F = TypeVar("F", bound=Callable[..., Any])
REFUSED_STATUSES = frozenset({401, 403})  # a request sent again after these is a correction, not a retry
FRAME_EXTRA = ("body", "response", "reply_text")  # to_frame columns beyond the Exchange fields

_in_process: contextvars.ContextVar[bool] = contextvars.ContextVar("toolkit_in_process", default=False)


def in_process(fn: F) -> F:
    """Wrap ``fn`` (e.g. a test client's ``open``) so that the requests it makes count as in-process:
    they are logged like served ones but never flagged, nor remembered, as retries."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = _in_process.set(True)
        try:
            return fn(*args, **kwargs)
        finally:
            _in_process.reset(token)

    return wrapper  # type: ignore[return-value]


class _Seen(NamedTuple):
    """What the retry rule remembers of the last served request with a fingerprint."""

    arrived: float
    finished: float
    status: int
    troubled: bool  # failed (5xx) or ran past the deadline
    named: bool | None = None  # whether the body names a session or user (worked out once, when needed)


IDENTITY_KEYS = frozenset({"sessionid", "session_id", "userid", "user_id", "senderid", "sender_id",
                           "conversationid", "conversation_id", "contactid"})


def names_someone(raw: bytes | None) -> bool:
    """Whether a JSON body names a session or user: a non-empty ``sessionId``, ``userId``,
    ``senderId``, ``conversationId`` (any case, ``_`` or not) or ``user.id`` / ``sender.id``, at the
    top level or one level down. Example: ``names_someone(b'{"sessionId": "s1"}')`` is True."""
    if not raw or b"d" not in raw.lower():
        return False
    try:
        body = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    for key, value in body.items():
        low = str(key).lower()
        if low in IDENTITY_KEYS and value not in (None, ""):
            return True
        if isinstance(value, dict) and (
                (low in ("user", "sender", "internal") and value.get("id") not in (None, ""))
                or any(str(k).lower() in IDENTITY_KEYS and v not in (None, "") for k, v in value.items())):
            return True
    return False


class Log:
    """A bounded, thread-safe ring buffer of exchanges (newest last), with subscribers."""

    def __init__(self, size: int = 500, retry_window_s: float = 3.0, deadline_s: float | None = None) -> None:
        self._entries: deque[Exchange] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._seen: OrderedDict[str, _Seen] = OrderedDict()  # fingerprint -> the last such request
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
            self._flag_retry(entry)
            self._entries.append(entry)
            subscribers = self._subscribers  # replaced, never changed in place: no copy needed
        for callback in subscribers:
            try:
                callback(entry)
            except Exception:  # a failing subscriber never breaks serving
                logger.exception("log subscriber %r failed", callback)
        return entry

    def _flag_retry(self, entry: Exchange) -> None:
        """Flag ``entry`` as a probable platform retry: the same request served over HTTP within
        ``retry_window_s`` of the last one, neither of them refused, and a reason to believe the
        platform sent it again: the earlier one was still running, failed (5xx) or ran past the
        deadline, or the body names a session or user (``sessionId``, ``userId``, ``user.id``, ...), so
        it is the same person. Two users asking the same thing are not a retry. Replays, fixture
        checks, ``app.call``, the test client and the emulator never count; a request refused
        (401/403) or sent again after a refusal (e.g. with corrected credentials) is not a retry: the
        platform sends the same credentials each time. Call with the lock held."""
        fp, seen = entry.fingerprint, self._seen
        if not fp or entry.source != "http" or _in_process.get():
            return
        last = seen.pop(fp, None)
        named = None if last is None else last.named  # same fingerprint, same body: same answer
        if (last is not None and entry.time - last.arrived <= self.retry_window_s
                and REFUSED_STATUSES.isdisjoint((last.status, entry.status))
                and (entry.time < last.finished or last.troubled
                     or (named := names_someone(entry.raw_body()) if named is None else named))):
            entry.flags.append("retry")
        late = self.deadline_s is not None and entry.total_ms > self.deadline_s * 1000
        troubled = entry.status >= 500 or late or "slow" in entry.flags
        seen[fp] = _Seen(entry.time, entry.time + entry.total_ms / 1000, entry.status, troubled, named)
        # newest last; only the count is capped
        if len(seen) > max(4 * self.size, 64):
            seen.popitem(last=False)

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
        """The log as a pandas DataFrame, one row an exchange: the :class:`Exchange` fields plus
        ``body`` (the request body), ``response`` (the JSON answered) and ``reply_text`` (the text
        of the reply's messages, one line each). Secrets are masked as in the log.

        >>> df = app.log.to_frame()                                          # doctest: +SKIP
        >>> df[df.body.map(lambda b: b.get("order_id") == "A-1")].reply_text  # doctest: +SKIP
        """
        import pandas as pd

        from ..html.render import reply_text

        columns = [c for c in Exchange.__dataclass_fields__ if c != "fingerprint"] + list(FRAME_EXTRA)
        rows = [{**e.to_dict(), "reply_text": reply_text(e.response)} for e in self.entries()]
        frame = pd.DataFrame(rows, columns=columns)
        frame["time"] = pd.to_datetime(frame["time"], unit="s")
        return frame

    def plot(self, deadline_s: float | None = None, *, title: str = "") -> Any:
        """Latency over time against the deadline, and the answers by status, on a pyplot figure the
        notebook shows once (as pandas' ``.plot()``). Returns the latency Axes (``ax.figure.axes``:
        latency, by status). ``deadline_s`` defaults to the app's setting."""
        from .plot import plot_log

        return plot_log(self, deadline_s if deadline_s is not None else self.deadline_s, title=title)

    def __repr__(self) -> str:
        return f"<Log: {len(self)} exchanges>"
