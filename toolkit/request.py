"""``toolkit.Request``: what a handler may ask for with a ``request`` parameter, and the parsing of
raw bodies the way Chatlayer sends them (JSON whatever the Content-Type says; empty is fine).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from .errors import BadRequest, PayloadTooLarge, article

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEPTH_CEILING = 128  # the highest max_body_depth: every reader of the log copes with this much nesting
# A JSON string (brackets in it do not nest), consumed whole even when unterminated, so the scan never
# restarts inside one: quadratic otherwise ('"\\' * 30000 took 28 s).
_STRINGS = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only headers that keep their original spelling."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): (k, str(v)) for k, v in (items or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __repr__(self) -> str:
        return f"Headers({dict(self)!r})"


@dataclass(frozen=True)
class Request:
    """One API-step call: method, path, query, headers, parsed JSON body and the raw bytes."""

    method: str = "POST"
    path: str = "/"
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Headers = field(default_factory=Headers)
    body: Mapping[str, Any] = field(default_factory=dict)
    raw: bytes = b""

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bytes = b"",
        max_body_bytes: int | None = None,
        size: int | None = None,
        max_depth: int = DEPTH_CEILING,
    ) -> Request:
        """Parse a raw request (``size``: the declared length when the body was not read;
        ``max_depth``: the deepest nesting accepted, the ``max_body_depth`` setting).

        Raises :class:`BadRequest` / :class:`PayloadTooLarge`.
        """
        hdrs = headers if type(headers) is Headers else Headers(headers)  # no ABC check per request
        size = len(raw) if size is None else size
        if max_body_bytes is not None and size > max_body_bytes:
            raise PayloadTooLarge(
                f"Request body is {size:,} bytes, over the max_body_bytes limit of "
                f"{max_body_bytes:,}.",
                hint="Send fewer Body rows from the API step, or raise the max_body_bytes setting.",
            )
        body = parse_body(raw, hdrs.get("Content-Type", ""), max_depth)
        return cls(method.upper(), path, dict(query or {}), hdrs, body, raw)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


class Incoming(NamedTuple):
    """One request as it arrives, before it is parsed: what :meth:`toolkit.App.handle` answers.

    The server, the test client, ``app.call``, the emulator, replays and fixtures each build one.
    Immutable (a named tuple: about four times cheaper to build than a frozen dataclass, and one is
    built per request).

    Args:
        method: the HTTP method (any case).
        path: the path as requested, e.g. ``"/orders/A-1"``.
        query: the query string's parameters.
        headers: the request headers (any spelling).
        raw: the body bytes as received (``b""``: none).
        source: who sent it, as the log shows it: ``"http"``, ``"call"``, ``"emulator"``, ``"replay"``...
        started: ``time.perf_counter()`` when it arrived (default: when ``handle`` starts), so the
            log's time includes reading the body.
        body_size: the declared length when the body was not read (too large); default ``len(raw)``.

    >>> Incoming("POST", "/orders", raw=b'{"order_id": "A-1"}').method
    'POST'
    """

    method: str
    path: str
    query: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None
    raw: bytes = b""
    source: str = "http"
    started: float | None = None
    body_size: int | None = None

    def __repr__(self) -> str:
        return f"<Incoming {self.method} {self.path} from {self.source}>"


def parse_body(raw: bytes, content_type: str = "", max_depth: int = DEPTH_CEILING) -> dict[str, Any]:
    """A JSON object from the body; ``{}`` when empty.

    The body is JSON whatever the Content-Type says (Chatlayer may not set it); only a body that is
    not JSON and is declared as a form (``curl -d 'a=1'``) is read as a form. A body nested deeper
    than ``max_depth`` is refused before it is parsed (the parser recurses once per level).
    """
    if not raw.strip():
        return {}
    try:
        textual = raw.decode()  # UTF-8 (in C; the "utf-8-sig" codec is Python): a BOM is dropped below
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"Request body is not UTF-8 text (bad byte at position {exc.start}).",
            hint="Send the Body as JSON encoded in UTF-8.",
        ) from None
    if textual[:1] == "\ufeff":
        textual = textual[1:]
        if not textual.strip():
            return {}
    if textual.lstrip()[:1] in ("[", "{") and too_deep(textual, max_depth):
        raise _too_deep(max_depth)
    try:
        body = json.loads(textual)
    except RecursionError:  # pragma: no cover - only when the stack is nearly used up already
        raise _too_deep(max_depth) from None
    except json.JSONDecodeError as exc:
        if "application/x-www-form-urlencoded" in content_type.lower():  # e.g. curl -d 'a=1'
            return dict(parse_qsl(textual, keep_blank_values=True))
        raise BadRequest(
            f"Request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.",
            hint="Chatlayer sends the Body rows as one JSON object; when testing by hand send "
            "e.g. {\"order_id\": \"A-1042\"}.",
        ) from None
    if not isinstance(body, dict):
        raise BadRequest(
            f"Request body is JSON but {article(type(body).__name__)}, not an object.",
            hint="Send an object of key/value pairs, e.g. {\"order_id\": \"A-1042\"}; "
            "Chatlayer's Body rows always make one.",
        )
    return body


def too_deep(text: str | bytes, limit: int) -> bool:
    """Whether the objects and arrays of a JSON text nest more than ``limit`` levels, told without
    parsing it (no recursion): strings are dropped, then the running depth of the brackets left."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if text.count("[") + text.count("{") <= limit:  # cannot nest deeper than it has brackets
        return False
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > limit


def _too_deep(limit: int) -> BadRequest:
    return BadRequest(
        f"Request body nests objects or arrays more than {limit} levels deep (the max_body_depth "
        "limit).",
        hint="Send a flatter body: Chatlayer's Body rows make one object of key/value pairs. If the "
        f"depth is meant, raise the max_body_depth setting (at most {DEPTH_CEILING}).",
    )
