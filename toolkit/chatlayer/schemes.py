"""Which HMAC scheme signed a request: every combination the ``hmac_*`` settings allow, tried against
what Chatlayer really sent (used by :mod:`toolkit.chatlayer.calibrate`).

A scheme is a header, an algorithm (``sha1``, ``sha256``, ``sha512``), an encoding (``hex``,
``base64``, ``base64url`` without padding) and a signed string: the body, ``<timestamp>.<body>``,
``<timestamp><body>`` (joined without a separator), with a nonce header (``<timestamp>.<nonce>.<body>``
and the other orders and separators), or Stripe's style, one header ``t=<timestamp>,v1=<hex digest>``
signing ``<t>.<body>``. Candidates come from the request itself: any header whose value decodes to a
digest of the right length may hold the signature, any header holding a Unix time (seconds or
milliseconds) may be the timestamp, a header named like ``*nonce*`` the nonce. Each candidate is
checked with the HMAC it names; the schemes the app's ``hmac_*`` settings express are the ones it
then verifies itself (:attr:`Scheme.checkable`).

When nothing verifies, :func:`verdict` says which is more likely: a wrong secret (a header has a known
scheme's shape, no digest made with the secret matched) or a scheme not known here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..access import ALGORITHMS, TIMESTAMPED

DIGEST_BYTES = {"sha1": 20, "sha256": 32, "sha512": 64}
ENCODINGS = ("hex", "base64")
# transport headers that never carry a signature or a signing timestamp
TRANSPORT = frozenset({"host", "content-length", "content-type", "accept", "accept-encoding", "connection",
                       "user-agent", "authorization", "cookie", "x-forwarded-for", "x-forwarded-proto",
                       "x-forwarded-host", "x-real-ip", "via", "traceparent", "te"})
_UNIX_TIME = re.compile(r"^\d{10}(\d{3})?(\.\d+)?$")  # seconds (10 digits) or milliseconds (13)
_STRIPE = re.compile(r"^\s*t=(?P<t>\d{10,13})\s*,\s*(?P<rest>v\d+=.*)$")  # t=...,v1=...
JOINERS = (".", "", "\n", ":")  # what joins the signed parts: the usual dot, nothing, a newline, a colon
SIGNED_BY_JOINER = {joiner.decode(): name for name, joiner in TIMESTAMPED.items()}


@dataclass(frozen=True)
class Scheme:
    """One way of signing: the settings that make the app verify it."""

    header: str
    algorithm: str
    encoding: str  # hex, base64 or base64url
    signed: str = "body"  # or "timestamp+body" (joined by ``joiner``)
    timestamp_header: str | None = None
    joiner: str = "."  # between the signed parts
    nonce_header: str | None = None
    order: tuple[str, ...] = ()  # the signed parts in order, when a nonce is among them
    stripe: bool = False  # header value "t=<timestamp>,v1=<digest>"

    @property
    def checkable(self) -> bool:
        """Whether the app's ``hmac_*`` settings express this scheme (so ``cal.apply()`` can set it)."""
        return not self.stripe and self.nonce_header is None and self.joiner in SIGNED_BY_JOINER

    def settings(self) -> dict[str, str]:
        """The ``hmac_*`` settings of this scheme (the secret is not one of them); ``{}`` when the
        settings cannot express it (see :attr:`checkable`)."""
        if not self.checkable:
            return {}
        signed = SIGNED_BY_JOINER[self.joiner] if self.timestamp_header else "body"
        encoding = "base64" if self.encoding == "base64url" else self.encoding
        out = {"hmac_header": self.header, "hmac_algorithm": self.algorithm,
               "hmac_encoding": encoding, "hmac_signed": signed}
        if self.timestamp_header:
            out["hmac_timestamp_header"] = self.timestamp_header
        return out

    def what(self) -> str:
        """The signed string, e.g. ``X-Timestamp.<body>``."""
        if self.stripe:
            return "t.<body> (Stripe style: t=...,v1=...)"
        names = {"timestamp": self.timestamp_header or "", "nonce": self.nonce_header or "", "body": "<body>"}
        parts = self.order or (("timestamp", "body") if self.timestamp_header else ("body",))
        shown = {"\n": "\\n"}.get(self.joiner, self.joiner)
        return "body" if parts == ("body",) else shown.join(names[p] for p in parts)

    def __str__(self) -> str:
        what = "the body" if self.what() == "body" else self.what()
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
    url = ("-" in value or "_" in value or len(value) % 4) and "+" not in value and "/" not in value
    try:
        padded = value + "=" * (-len(value) % 4)
        out["base64url" if url else "base64"] = len(base64.b64decode(
            padded.replace("-", "+").replace("_", "/"), validate=True))
    except (ValueError, binascii.Error):
        pass
    return out


def decoded(value: str, encoding: str) -> bytes | None:
    """The digest bytes of a header value in ``encoding`` (None when it does not decode)."""
    value = value.strip()
    for algorithm in ALGORITHMS:
        if value.lower().startswith(algorithm + "="):
            value = value[len(algorithm) + 1:]
    try:
        if encoding == "hex":
            return bytes.fromhex(value)
        padded = value + "=" * (-len(value) % 4)
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (ValueError, binascii.Error):
        return None


def stripe_parts(value: str) -> tuple[str, list[str]] | None:
    """``(timestamp, [v1 signatures])`` of a Stripe-style value ``t=...,v1=...``, else None."""
    found = _STRIPE.match(value)
    if not found:
        return None
    signatures = [part.split("=", 1)[1].strip() for part in found["rest"].split(",")
                  if part.strip().startswith("v1=")]
    return (found["t"], signatures) if signatures else None


def signature_headers(headers: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Headers whose value decodes (hex or base64) to a SHA-1, SHA-256 or SHA-512 digest length."""
    out = {}
    for name, value in headers.items():
        if name.lower() in TRANSPORT:
            continue
        stripe = stripe_parts(value)
        found = ({"hex": len(decoded(stripe[1][0], "hex") or b"")} if stripe else
                 {enc: n for enc, n in digest_lengths(value).items() if n in DIGEST_BYTES.values()})
        if found and all(n in DIGEST_BYTES.values() for n in found.values()):
            out[name] = found
    return out


def nonce_headers(headers: Mapping[str, str]) -> list[str]:
    """Headers named like a nonce (``Nonce``, ``X-Nonce``, ``X-Request-Nonce`` ...)."""
    return [name for name, value in headers.items() if "nonce" in name.lower() and value.strip()]


def timestamp_headers(headers: Mapping[str, str]) -> list[str]:
    """Headers holding a Unix time in seconds or milliseconds."""
    return [name for name, value in headers.items()
            if name.lower() not in TRANSPORT and _UNIX_TIME.match(value.strip())]


def candidates(headers: Mapping[str, str]) -> Iterator[Scheme]:
    """Every scheme known here that fits the request's headers: the ones the settings express first."""
    stamps, nonces = timestamp_headers(headers), nonce_headers(headers)
    for name, lengths in signature_headers(headers).items():
        if stripe_parts(headers[name]):
            size = lengths["hex"]
            for algorithm in (a for a in ALGORITHMS if DIGEST_BYTES[a] == size):
                yield Scheme(name, algorithm, "hex", "timestamp+body", stripe=True)
            continue
        for encoding, size in lengths.items():
            for algorithm in (a for a in ALGORITHMS if DIGEST_BYTES[a] == size):
                yield Scheme(name, algorithm, encoding)
                for stamp in stamps:
                    for joiner in (".", ""):
                        yield Scheme(name, algorithm, encoding, "timestamp+body", stamp, joiner)
                for nonce in nonces:
                    yield from _with_nonce(name, algorithm, encoding, stamps, nonce)


def _with_nonce(name: str, algorithm: str, encoding: str, stamps: list[str], nonce: str) -> Iterator[Scheme]:
    orders: list[tuple[tuple[str, ...], str | None]] = [(("nonce", "body"), None)]
    for header in stamps:
        orders += [(("timestamp", "nonce", "body"), header), (("nonce", "timestamp", "body"), header),
                   (("body", "timestamp", "nonce"), header)]
    for order, stamp in orders:
        for joiner in JOINERS:
            yield Scheme(name, algorithm, encoding, "timestamp+body" if stamp else "body", stamp, joiner,
                         nonce, order)


def signed_string(scheme: Scheme, raw: bytes, headers: Mapping[str, str]) -> bytes:
    """The bytes ``scheme`` signs for this request."""
    if scheme.stripe:
        parts = stripe_parts(headers[scheme.header])
        return (parts[0] if parts else "").encode() + b"." + raw
    values = {"body": raw, "timestamp": (headers.get(scheme.timestamp_header or "") or "").strip().encode(),
              "nonce": (headers.get(scheme.nonce_header or "") or "").strip().encode()}
    order = scheme.order or (("timestamp", "body") if scheme.timestamp_header else ("body",))
    return scheme.joiner.encode().join(values[p] for p in order)


def verifies(scheme: Scheme, raw: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Whether the request carries a signature of ``raw`` made with ``secret`` under ``scheme``
    (the timestamp's age is not checked here: calibration reports the clock skew instead)."""
    value = headers.get(scheme.header) or ""
    stripe = stripe_parts(value) if scheme.stripe else None
    given = [decoded(v, "hex") for v in stripe[1]] if stripe else [decoded(value, scheme.encoding)]
    digest = hmac.new(secret.encode(), signed_string(scheme, raw, headers),
                      getattr(hashlib, scheme.algorithm)).digest()
    return any(g is not None and hmac.compare_digest(g, digest) for g in given)


def unix_seconds(value: str) -> float:
    """A Unix time header as seconds (milliseconds are divided); a Stripe-style value gives its ``t``."""
    stripe = stripe_parts(value)
    stamp = float(stripe[0] if stripe else value)
    return stamp / 1000 if stamp > 1e11 else stamp


def find_scheme(raw: bytes, headers: Mapping[str, str], secret: str,
                base: Mapping[str, Any]) -> tuple[Scheme | None, list[Scheme]]:
    """The scheme under which ``headers`` carry a valid signature of ``raw`` made with ``secret``,
    and every scheme tried. ``base``: the app's settings (the window and the rest)."""
    tried = []
    for scheme in candidates(headers):
        tried.append(scheme)
        if verifies(scheme, raw, headers, secret):
            return scheme, tried
    return None, tried


def verdict(tried: list[Scheme]) -> str:
    """Why nothing verified: the secret looks wrong (a known scheme's shape matched, no digest did) or
    the scheme is not one known here (no header had a known shape)."""
    if tried:
        shapes = sorted({f"{s.header} ({s.encoding}, {s.algorithm})" for s in tried})
        return ("the secret looks wrong: " + ", ".join(shapes[:4]) + " has the shape of a known scheme, "
                "but no digest made with this secret matched. Copy the key of the bot's HMAC API setting "
                "again (Settings -> API), exactly")
    return ("the scheme is unknown: no header has the shape of a signature this calibration knows "
            "(hex, base64 or base64url of 20, 32 or 64 bytes, or t=...,v1=...)")


def describe_tried(tried: list[Scheme], headers: Mapping[str, str]) -> list[str]:
    """What was tried, one line a header (for a report that found no match)."""
    if not tried:
        names = ", ".join(h for h in headers if h.lower() not in TRANSPORT) or "none"
        return [f"No header looked like a signature (hex or base64 of 20, 32 or 64 bytes); headers "
                f"beyond the transport ones: {names}. Is the HMAC setting selected in the API step?"]
    lines: dict[str, list[str]] = {}
    for s in tried:
        lines.setdefault(s.header, []).append(f"{s.encoding} {s.algorithm} of {s.what()}")
    return [f"{header}: " + "; ".join(ways[:12]) + (f"; and {len(ways) - 12} more" if len(ways) > 12 else "")
            for header, ways in lines.items()]
