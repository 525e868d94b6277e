"""Which HMAC scheme signed a request: every combination the ``hmac_*`` settings allow, tried against
what Chatlayer really sent (used by :mod:`toolkit.chatlayer.calibrate`).

A scheme is a header, an algorithm (``sha1``, ``sha256``, ``sha512``), an encoding (``hex``,
``base64``) and a signed string (the body, or ``<timestamp header>.<body>``). Candidates come from
the request itself: any header whose value decodes to a digest of the right length may hold the
signature, any header holding a Unix time (seconds or milliseconds) may be the timestamp. Each
candidate is checked with :func:`toolkit.access.verify_hmac`, the same check the app runs.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..access import ALGORITHMS, verify_hmac
from ..errors import ToolkitError

DIGEST_BYTES = {"sha1": 20, "sha256": 32, "sha512": 64}
ENCODINGS = ("hex", "base64")
# transport headers that never carry a signature or a signing timestamp
TRANSPORT = frozenset({"host", "content-length", "content-type", "accept", "accept-encoding", "connection",
                       "user-agent", "authorization", "cookie", "x-forwarded-for", "x-forwarded-proto",
                       "x-forwarded-host", "x-real-ip", "via", "traceparent", "te"})
_UNIX_TIME = re.compile(r"^\d{10}(\d{3})?(\.\d+)?$")  # seconds (10 digits) or milliseconds (13)


@dataclass(frozen=True)
class Scheme:
    """One way of signing: the settings that make the app verify it."""

    header: str
    algorithm: str
    encoding: str
    signed: str = "body"  # or "timestamp+body"
    timestamp_header: str | None = None

    def settings(self) -> dict[str, str]:
        """The ``hmac_*`` settings of this scheme (the secret is not one of them)."""
        out = {"hmac_header": self.header, "hmac_algorithm": self.algorithm,
               "hmac_encoding": self.encoding, "hmac_signed": self.signed}
        if self.timestamp_header:
            out["hmac_timestamp_header"] = self.timestamp_header
        return out

    def __str__(self) -> str:
        what = f"{self.timestamp_header}.<body>" if self.timestamp_header else "the body"
        return f"{self.header}: {self.encoding} HMAC-{self.algorithm.upper()} of {what}"


def digest_lengths(value: str) -> dict[str, int]:
    """How ``value`` decodes: ``{"hex": n_bytes, "base64": n_bytes}`` for the encodings that work."""
    value = value.strip()
    for algorithm in ALGORITHMS:  # a "sha256=" style prefix is allowed by the check
        if value.lower().startswith(algorithm + "="):
            value = value[len(algorithm) + 1:]
    out = {}
    try:
        out["hex"] = len(bytes.fromhex(value))
    except ValueError:
        pass
    try:
        out["base64"] = len(base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True))
    except (ValueError, binascii.Error):
        pass
    return out


def signature_headers(headers: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Headers whose value decodes (hex or base64) to a SHA-1, SHA-256 or SHA-512 digest length."""
    out = {}
    for name, value in headers.items():
        if name.lower() in TRANSPORT:
            continue
        found = {enc: n for enc, n in digest_lengths(value).items() if n in DIGEST_BYTES.values()}
        if found:
            out[name] = found
    return out


def timestamp_headers(headers: Mapping[str, str]) -> list[str]:
    """Headers holding a Unix time in seconds or milliseconds."""
    return [name for name, value in headers.items()
            if name.lower() not in TRANSPORT and _UNIX_TIME.match(value.strip())]


def candidates(headers: Mapping[str, str]) -> Iterator[Scheme]:
    """Every scheme the settings allow that fits the request's headers."""
    stamps = timestamp_headers(headers)
    for name, lengths in signature_headers(headers).items():
        for encoding, size in lengths.items():
            for algorithm in (a for a in ALGORITHMS if DIGEST_BYTES[a] == size):
                yield Scheme(name, algorithm, encoding)
                for stamp in stamps:
                    yield Scheme(name, algorithm, encoding, "timestamp+body", stamp)


def unix_seconds(value: str) -> float:
    """A Unix time header as seconds (milliseconds are divided)."""
    stamp = float(value)
    return stamp / 1000 if stamp > 1e11 else stamp


def find_scheme(raw: bytes, headers: Mapping[str, str], secret: str,
                base: Mapping[str, Any]) -> tuple[Scheme | None, list[Scheme]]:
    """The scheme under which ``headers`` carry a valid signature of ``raw`` made with ``secret``,
    and every scheme tried. ``base``: the app's settings (the window and the rest)."""
    tried = []
    for scheme in candidates(headers):
        tried.append(scheme)
        settings = {**base, **scheme.settings(), "hmac_secret": secret}
        now = unix_seconds(headers[scheme.timestamp_header]) if scheme.timestamp_header else None
        try:  # the timestamp is checked at its own time here: the skew is reported separately
            verify_hmac(raw, headers, settings, now=now)
        except ToolkitError:
            continue
        return scheme, tried
    return None, tried


def describe_tried(tried: list[Scheme], headers: Mapping[str, str]) -> list[str]:
    """What was tried, one line a header (for a report that found no match)."""
    if not tried:
        names = ", ".join(h for h in headers if h.lower() not in TRANSPORT) or "none"
        return [f"No header looked like a signature (hex or base64 of 20, 32 or 64 bytes); headers "
                f"beyond the transport ones: {names}. Is the HMAC setting selected in the API step?"]
    lines: dict[str, list[str]] = {}
    for s in tried:
        what = f"{s.timestamp_header}.<body>" if s.timestamp_header else "body"
        lines.setdefault(s.header, []).append(f"{s.encoding} {s.algorithm} of {what}")
    return [f"{header}: " + "; ".join(ways) for header, ways in lines.items()]
