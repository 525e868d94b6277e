"""One request and its answer as the log keeps it: :class:`Exchange`."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .masking import Masker

# Exchange.access: how the request fared with access control (auth_bearer, auth_basic, auth_header, hmac)
PASSED = "passed"  # checked and accepted
REFUSED = "refused"  # checked and refused (401)
SKIPPED = "skipped"  # not checked on purpose: an in-process call (app.call) or a replay of one
NOT_REACHED = "not reached"  # the request failed before it was checked (too large, bad JSON, ...)


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
    warnings: list[str] = field(default_factory=list)  # readable: what the reply lost and why ("dropped")
    tables: dict[str, str] = field(default_factory=dict)
    outbound: list[dict[str, Any]] = field(default_factory=list)
    source: str = "http"  # "http" (served) or "call" (app.call / test client)
    id: int = 0
    time: float = field(default_factory=time.time)
    fingerprint: str = ""
    turn: str | None = None  # the conversation turn in flight when it arrived (toolkit.log.turns)
    access: str = NOT_REACHED  # PASSED, REFUSED, SKIPPED or NOT_REACHED (replay trusts only PASSED)

    def keep_bodies(self, body: bytes, response: bytes, masker: Masker, limit: int | None = None) -> None:
        """Keep the raw bytes (``body`` and ``response`` decode, mask and cut them when read) and
        mask the query now (the values as received stay in memory for replays: :meth:`raw_query`).

        ``limit`` (a refused request's ``log_refused_bytes``): keep only the first ``limit`` bytes of
        the body; :attr:`body` is then that prefix as masked text, marked ``… [cut: N bytes]``.
        """
        if limit is not None and len(body) > limit:
            self._cut_from = len(body)
            body = body[:limit]
        self._raw = (body, response, masker)
        if self.query:  # (most API steps send none)
            self._raw_query = self.query
            self.query = masker(self.query)

    def raw_query(self) -> dict[str, Any]:
        """The query as received (unmasked; in memory only, never saved), else the logged one."""
        return dict(getattr(self, "_raw_query", self.query))

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
            cut_from = getattr(self, "_cut_from", 0) if which == 0 else 0
            if cut_from and raw[2]:
                cache[which] = _prefix(raw[0], cut_from, raw[2])
            else:
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


def _prefix(kept: bytes, size: int, masker: Masker) -> str:
    """A refused body's kept prefix as masked text marked as cut (JSON nested deeper than the limit
    within the prefix keeps only the marker, as a whole body would)."""
    from ..request import too_deep

    if kept.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{") and too_deep(kept, masker.depth):
        return f"…[cut: JSON nested more than {masker.depth} levels deep, {size:,} bytes in all]"
    return f"{masker.text(kept.decode('utf-8', errors='replace'))}… [cut: {size:,} bytes]"


def fingerprint(method: str, path: str, raw: bytes) -> str:
    """Identifies identical requests within this process (retry detection); never saved.

    Python's own hash: about ten times cheaper than a SHA-1 on every served request.
    """
    return format(hash((method, path, raw)) & 0xFFFF_FFFF_FFFF_FFFF, "x")
