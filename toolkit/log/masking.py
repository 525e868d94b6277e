"""Masking: one :class:`Masker` hides the values of sensitive keys and cuts long bodies before
anything is stored (log, frames, saved logs, fixtures, error messages).

The list of sensitive keys is the ``sensitive_keys`` setting (plus the headers that always carry a
credential); every masker is built from the settings by :meth:`Masker.from_settings`. Copies are
made without recursion and never deeper than the ``max_body_depth`` setting, so any value a masker
returned can be encoded, shown and saved whatever the sender nested.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from ..config import Settings
from ..errors import ConfigError
from ..request import DEPTH_CEILING, too_deep

MASK = "***"
ALWAYS_MASKED = ("authorization", "cookie", "proxy-authorization", "set-cookie", "x-api-key")
# In plain text: key=value pairs (forms, query strings, cookies), and JSON strings, each maybe a key
# followed by its value (JSON that did not parse). Every alternative consumes what it starts (a
# string runs to its end even when unterminated) and a key starts only where no key goes on, so the
# scan stays linear on any input.
_PAIR = r'(?<![\w.%+-])(?P<key>[\w.%+-]++)=(?P<value>[^&\s;,"]*+)'
_STRING = r'"(?:[^"\\]|\\.)*+'
_TEXT = re.compile(rf'"(?P<jkey>(?:[^"\\]|\\.)*+)(?P<end>"?)(?:(?P<colon>\s*+:\s*+)'
                   rf'(?P<jvalue>{_STRING}"?|[^,{{}}\[\]\s"]*+))?|{_PAIR}')
_PAIRS = re.compile(_PAIR)

# The hook for signature headers: name words that mark a signature whatever its scheme (Stripe-Signature,
# X-Hub-Signature-256, X-Hmac, Hash ...), masked by every masker besides the configured hmac_header.
SIGNATURE_HEADER_WORDS: tuple[str, ...] = ("signature", "hmac", "hash")
# ... and header values shaped like a signature under any name: hex or base64(url) of a SHA-1, -256 or
# -512 digest (with or without padding, maybe "sha256=" first), or Stripe's "t=...,v1=...".
_SIGNATURE_VALUE = re.compile(r"(?:sha(?:1|256|512)=)?(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128}"
                              r"|[A-Za-z0-9+/_-]{27}=?|[A-Za-z0-9+/_-]{43}=?|[A-Za-z0-9+/_-]{86}(?:==)?)"
                              r"|t=\d{10,13}\s*,\s*v\d+=.*")
_SIGNATURE_LENGTHS = frozenset(n + prefix for n in (27, 28, 40, 43, 44, 64, 86, 88, 128)
                               for prefix in (0, 5, 7))  # "sha1=", "sha256=" / "sha512="


def signature_shaped(value: str) -> bool:
    """Whether a header value has the shape of a signature (see ``_SIGNATURE_VALUE``): masked whatever
    the header is called. A length check first keeps ordinary headers cheap."""
    plausible = len(value) in _SIGNATURE_LENGTHS or value.startswith("t=")
    return plausible and bool(_SIGNATURE_VALUE.fullmatch(value))


class Masker:
    """Masks the values of sensitive keys (headers, query, JSON members, text) and cuts long bodies.

    A key is sensitive when its lower-case name is always masked (Authorization, Cookie, ...) or
    contains one of ``keys``. Answers are memoised: the same keys come back on every request.
    Values nested deeper than ``depth`` levels are replaced by a marker.
    """

    def __init__(self, keys: tuple[str, ...] = (), body_limit: int = 65536,
                 depth: int = DEPTH_CEILING) -> None:
        self.keys = tuple(k for k in (k.strip().lower() for k in keys) if k)
        self.body_limit = body_limit
        self.depth = depth
        self._memo: dict[str, bool] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Masker:
        """The masker of a set of settings: ``sensitive_keys``, the HMAC header and the name of the
        required custom header, bodies cut at ``log_body_bytes``, nesting kept to ``max_body_depth``."""
        keys = tuple(settings["sensitive_keys"].split(","))
        keys += (settings["hmac_header"], settings["auth_header"].split(":")[0], *SIGNATURE_HEADER_WORDS)
        depth = settings["max_body_depth"]
        if not 1 <= depth <= DEPTH_CEILING:
            raise ConfigError(f"Setting 'max_body_depth' must be from 1 to {DEPTH_CEILING}, got {depth}.",
                              hint="Real bodies nest a few levels; the default, 64, is plenty.")
        return cls(keys, settings["log_body_bytes"], depth)

    @classmethod
    def default(cls) -> Masker:
        """The masker of the default settings (and ``TOOLKIT_*`` overrides), for code without an app."""
        return cls.from_settings(Settings())

    def sensitive(self, name: str) -> bool:
        """Whether the value of key ``name`` is a secret (any case)."""
        hit = self._memo.get(name)
        if hit is None:
            low = name.lower()
            hit = low in ALWAYS_MASKED or any(k in low for k in self.keys)
            if len(self._memo) < 10_000:
                self._memo[name] = hit
        return hit

    def __call__(self, value: Any) -> Any:
        """A copy of a JSON value with the values of sensitive keys replaced by ``***`` (any depth
        of the copy is at most ``depth``: deeper objects and arrays become a marker)."""
        if not _container(value):
            return value
        top = _empty(value)
        if not value:
            return top
        todo = [(value, top, 1)]
        while todo:
            source, copy, level = todo.pop()
            pairs = source.items() if isinstance(copy, dict) else enumerate(source)
            for key, item in pairs:
                if isinstance(copy, dict) and self.sensitive(str(key)):
                    item = MASK
                elif _container(item):
                    if level >= self.depth:
                        item = f"…[cut: nested more than {self.depth} levels deep]"
                    else:
                        child = _empty(item)
                        todo.append((item, child, level + 1))
                        item = child
                if isinstance(copy, dict):
                    copy[key] = item
                else:
                    copy.append(item)
        return top

    def headers(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        """A copy of ``headers`` with sensitive values masked (on every request: kept lean)."""
        memo, out = self._memo, {}
        for k, v in (headers or {}).items():
            hit = memo.get(k)
            out[k] = MASK if (self.sensitive(k) if hit is None else hit) or signature_shaped(v) else v
        return out

    def text(self, text: str) -> str:
        """``text`` with the values of sensitive ``key=value`` and ``"key": value`` pairs masked
        (a form body, a query string, JSON that did not parse, an error message)."""
        if "=" not in text and ":" not in text:
            return text

        def pair(m: re.Match[str]) -> str:
            return f"{m.group('key')}={MASK}" if self.sensitive(unquote_plus(m.group("key"))) else m.group()

        def token(m: re.Match[str]) -> str:
            if m.group("key") is not None:
                return pair(m)
            if m.group("colon") is not None and m.group("end") and self.sensitive(m.group("jkey")):
                return f'"{m.group("jkey")}"{m.group("colon")}"{MASK}"'
            return _PAIRS.sub(pair, m.group())  # key=value inside a string

        return _TEXT.sub(token, text)

    def decode(self, raw: bytes) -> Any:
        """Raw JSON bytes as a masked value, cut with a marker when over the limit.

        Bytes that are not JSON come back as text, masked and cut the same way; JSON nested deeper
        than ``depth`` is not kept (a marker says so), as it is refused before it is parsed.
        """
        if raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{") and too_deep(raw, self.depth):
            return f"…[cut: JSON nested more than {self.depth} levels deep, {len(raw):,} bytes in all]"
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            text = self.text(raw[: self.body_limit].decode("utf-8", errors="replace"))
            return text + (f"…[cut: {len(raw):,} bytes in all]" if len(raw) > self.body_limit else "")
        masked = self(value)
        return cut(masked, self.body_limit) if len(raw) > self.body_limit else masked


def _container(value: Any) -> bool:
    kind = type(value)
    return kind is dict or kind is list or (kind is not str and isinstance(value, Mapping | list | tuple))


def _empty(value: Any) -> Any:
    return {} if isinstance(value, Mapping) else []


def mask(value: Any, keys: tuple[str, ...] | None = None) -> Any:
    """A copy of a JSON value with the values of sensitive keys replaced by ``***`` (the keys of the
    ``sensitive_keys`` setting unless ``keys`` are given)."""
    return (Masker.default() if keys is None else Masker(keys))(value)


def cut(value: Any, limit: int) -> Any:
    """``value`` itself when its JSON is at most ``limit`` bytes, else a cut string with a marker."""
    try:
        encoded = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        encoded = repr(value)
    size = len(encoded.encode())
    if size <= limit:
        return value
    return encoded.encode()[:limit].decode(errors="ignore") + f"…[cut: {size:,} bytes in all]"
