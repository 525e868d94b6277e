"""The request log: one :class:`Exchange` per call, kept in a bounded, thread-safe :class:`Log`
that widgets and tests subscribe to. Secrets are masked and bodies cut before anything is stored.

While a handler runs, :func:`trace` collects what it touched (table versions, outbound calls);
:func:`note_table_read` and :func:`note_outbound` add to it from any layer without imports upward.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .files import write_atomic

logger = logging.getLogger("toolkit")
logger.addHandler(logging.NullHandler())

MASK = "***"
ALWAYS_MASKED = ("authorization", "cookie", "proxy-authorization", "set-cookie", "x-api-key")


@dataclass
class Trace:
    """What one handler call touched: table versions read and outbound HTTP calls made."""

    tables: dict[str, str] = field(default_factory=dict)
    outbound: list[dict[str, Any]] = field(default_factory=list)
    masker: Masker | None = None  # how outbound calls are masked (the app's sensitive_keys)
    after: list[Callable[[], None]] = field(default_factory=list)  # run when the handler returns
    flags: list[str] = field(default_factory=list)  # copied into Exchange.flags, e.g. "stale:orders"


_current: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("toolkit_trace", default=None)


def current_trace() -> Trace | None:
    """The trace of the handler running in this context, if any."""
    return _current.get()


def note_table_read(name: str, version: str) -> None:
    """Record that the running handler read table ``name`` at ``version``."""
    t = _current.get()
    if t is not None:
        t.tables[name] = version


def note_table_error(name: str, message: str) -> None:
    """Record that table ``name`` served its last good version (its reload failed: ``message``).

    The exchange gets the flag ``stale:<name>``; the message itself is on ``Table.error``.
    """
    t = _current.get()
    if t is not None and f"stale:{name}" not in t.flags:
        t.flags.append(f"stale:{name}")


def note_outbound(call: Mapping[str, Any]) -> None:
    """Record an outbound HTTP call made by the running handler."""
    t = _current.get()
    if t is not None:
        t.outbound.append(dict(call))


class trace:  # noqa: N801 - used as a context manager, like a function
    """``with trace() as t:`` collects what the code inside touches into ``t``."""

    def __init__(self, masker: Masker | None = None) -> None:
        self._masker = masker

    def __enter__(self) -> Trace:
        self._trace = Trace(masker=self._masker)
        self._token = _current.set(self._trace)
        return self._trace

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)
        for callback in self._trace.after:
            try:
                callback()
            except Exception:  # e.g. a background job's hook: never breaks the answer
                logger.exception("trace callback %r failed", callback)


@dataclass
class Exchange:
    """One request and its answer, as the log shows it (secrets masked, bodies cut)."""

    method: str
    path: str
    status: int
    handler: str | None = None
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    handler_ms: float = 0.0
    total_ms: float = 0.0
    error: str | None = None
    traceback: str | None = None
    flags: list[str] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)
    outbound: list[dict[str, Any]] = field(default_factory=list)
    source: str = "http"  # "http" (served) or "call" (app.call / test client)
    id: int = 0
    time: float = field(default_factory=time.time)
    fingerprint: str = ""

    def keep_bodies(self, body: bytes, response: bytes, masker: Masker) -> None:
        """Keep the raw bytes; ``body`` and ``response`` decode, mask and cut them when read."""
        self._raw = (body, response, masker)

    def raw_body(self) -> bytes | None:
        """The request body bytes as received (unmasked, uncut; in memory only, never saved).

        ``None`` when the exchange was not recorded by an app (e.g. loaded from a file).
        """
        raw = getattr(self, "_raw", None)
        return raw[0] if raw is not None else None

    @property
    def body(self) -> Any:
        """The request body (JSON, or text when it did not parse), masked and cut."""
        return self._decoded(0)

    @property
    def response(self) -> Any:
        """The response body, masked and cut."""
        return self._decoded(1)

    def _decoded(self, which: int) -> Any:
        cache = self.__dict__.setdefault("_cache", {})
        if which not in cache:
            raw = getattr(self, "_raw", (b"", b"", None))
            cache[which] = raw[2].decode(raw[which]) if raw[2] and raw[which] else None
        return cache[which]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        out = asdict(self)
        out.pop("fingerprint")
        out["body"], out["response"] = self.body, self.response
        return out

    def __repr__(self) -> str:
        who = f" -> {self.handler}" if self.handler else ""
        return f"<Exchange {self.method} {self.path}{who} {self.status}>"


class Masker:
    """Masks the values of sensitive keys (headers and JSON members) and cuts long bodies.

    A key is sensitive when its lower-case name is always masked (Authorization, Cookie, ...) or
    contains one of ``keys``. Answers are memoised: the same keys come back on every request.
    """

    def __init__(self, keys: tuple[str, ...] = (), body_limit: int = 65536) -> None:
        self.keys = tuple(k for k in (k.strip().lower() for k in keys) if k)
        self.body_limit = body_limit
        self._memo: dict[str, bool] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Masker:
        """The masker of a set of settings: ``sensitive_keys``, the HMAC header and the name of the
        required custom header, bodies cut at ``log_body_bytes``."""
        keys = tuple(settings["sensitive_keys"].split(","))
        keys += (settings["hmac_header"], settings["auth_header"].split(":")[0])
        return cls(keys, settings["log_body_bytes"])

    def sensitive(self, name: str) -> bool:
        hit = self._memo.get(name)
        if hit is None:
            low = name.lower()
            hit = low in ALWAYS_MASKED or any(k in low for k in self.keys)
            if len(self._memo) < 10_000:
                self._memo[name] = hit
        return hit

    def __call__(self, value: Any) -> Any:
        """A copy of a JSON value with the values of sensitive keys replaced by ``***``."""
        kind = type(value)
        if kind is dict or (kind is not list and isinstance(value, Mapping)):
            return {k: MASK if self.sensitive(str(k)) else self(v) for k, v in value.items()}
        if kind is list:
            return [self(v) for v in value]
        return value

    def headers(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        """A copy of ``headers`` with sensitive values masked (on every request: kept lean)."""
        memo, out = self._memo, {}
        for k, v in (headers or {}).items():
            hit = memo.get(k)
            out[k] = MASK if (self.sensitive(k) if hit is None else hit) else v
        return out

    def decode(self, raw: bytes) -> Any:
        """Raw JSON bytes as a masked value, cut with a marker when over the limit.

        Bytes that are not JSON come back as text (cut the same way).
        """
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            text = raw[: self.body_limit].decode("utf-8", errors="replace")
            return text + (f"…[cut: {len(raw):,} bytes in all]" if len(raw) > self.body_limit else "")
        masked = self(value)
        return cut(masked, self.body_limit) if len(raw) > self.body_limit else masked


def mask(value: Any, keys: tuple[str, ...] = ()) -> Any:
    """A copy of a JSON value with the values of sensitive keys replaced by ``***``."""
    return Masker(keys)(value)


def cut(value: Any, limit: int) -> Any:
    """``value`` itself when its JSON is at most ``limit`` bytes, else a cut string with a marker."""
    try:
        encoded = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        encoded = repr(value)
    size = len(encoded.encode())
    if size <= limit:
        return value
    return encoded.encode()[:limit].decode(errors="ignore") + f"…[cut: {size:,} bytes in all]"


def fingerprint(method: str, path: str, raw: bytes) -> str:
    """Identifies identical requests within this process (retry detection); never saved.

    Python's own hash: about ten times cheaper than a SHA-1 on every served request.
    """
    return format(hash((method, path, raw)) & 0xFFFF_FFFF_FFFF_FFFF, "x")


Subscriber = Callable[[Exchange], None]


class Log:
    """A bounded, thread-safe ring buffer of exchanges (newest last), with subscribers."""

    def __init__(self, size: int = 500, retry_window_s: float = 3.0) -> None:
        self._entries: deque[Exchange] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._seen: OrderedDict[str, float] = OrderedDict()  # fingerprint -> last time, oldest first
        self._next_id = 1
        self.retry_window_s = retry_window_s
        self.total = 0  # exchanges ever recorded, including those dropped from the buffer

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

    def __repr__(self) -> str:
        return f"<Log: {len(self)} exchanges>"
