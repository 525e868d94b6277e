"""Masking: one :class:`Masker` hides the values of sensitive keys and cuts long bodies before
anything is stored (log, frames, saved logs, fixtures).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MASK = "***"
ALWAYS_MASKED = ("authorization", "cookie", "proxy-authorization", "set-cookie", "x-api-key")


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

