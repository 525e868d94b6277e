"""Access control, mirroring the API step's Authorization tab: a Bearer token or Basic auth (either
one satisfies when both are set, as the tab offers one or the other), a required custom header, and
an HMAC signature check. Each check is off until its setting is set; all that are on must pass.

Chatlayer's own HMAC scheme is undocumented, so every part is a setting and the defaults are
assumptions: header ``X-Signature``, HMAC-SHA256 of the raw body, hex. A signature may carry an
``sha256=`` prefix. With ``hmac_signed='timestamp+body'`` the signed bytes are
``<timestamp> "." <body>`` and the ``X-Timestamp`` header (Unix seconds, or milliseconds) must be
within ``hmac_window_s`` of now, which stops replays.

Every comparison is constant-time (:func:`hmac.compare_digest`), and no message echoes a secret or
the value that was sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import time
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError, Unauthorized
from .request import Request

ALGORITHMS = ("sha1", "sha256", "sha512")
# Authorization scheme words a message may name (IANA's registry and common ones); any other first
# word may be the credential itself, sent without its scheme, and is never quoted back.
SCHEMES = frozenset({"basic", "bearer", "digest", "hoba", "mutual", "negotiate", "ntlm", "oauth",
                     "token", "scram-sha-1", "scram-sha-256", "vapid", "aws4-hmac-sha256", "dpop",
                     "gnap", "privatetoken", "concealed", "apikey"})
_UNIX_TIME = re.compile(r"[0-9]{1,16}(?:\.[0-9]{1,9})?", re.ASCII)  # digits, maybe a fraction


def check_access(request: Request, settings: Mapping[str, Any]) -> None:
    """Raise :class:`~toolkit.errors.Unauthorized` when the request fails a configured check."""
    bearer, basic = settings["auth_bearer"], settings["auth_basic"]
    if bearer or basic:
        _check_authorization(request, bearer, basic)
    if settings["auth_header"]:
        _check_header(request, settings["auth_header"])
    if settings["hmac_secret"]:
        verify_hmac(request.raw, request.headers, settings)


def access_required(settings: Mapping[str, Any]) -> bool:
    """Whether any access check is on (``auth_bearer``, ``auth_basic``, ``auth_header``, ``hmac_secret``)."""
    return any(settings[name] for name in ("auth_bearer", "auth_basic", "auth_header", "hmac_secret"))


def check_settings(settings: Mapping[str, Any]) -> None:
    """Raise :class:`~toolkit.errors.ConfigError` for access settings that can never match."""
    if settings["auth_basic"] and ":" not in settings["auth_basic"]:
        raise ConfigError("Setting 'auth_basic' must be 'user:password' (the colon is missing).",
                          hint="e.g. app.configure(auth_basic='chatlayer:s3cret').")
    if settings["auth_header"]:
        _parse_header_setting(settings["auth_header"])
    if not settings["hmac_window_s"] >= 0:  # NaN fails too
        raise ConfigError("Setting 'hmac_window_s' must be a number of seconds, 0 or more.",
                          hint="e.g. app.configure(hmac_window_s=300).")


# --- Authorization: Bearer / Basic -------------------------------------------------------------


def _check_authorization(request: Request, bearer: str, basic: str) -> None:
    wanted = " or ".join(n for n, on in (("a Bearer token", bearer), ("Basic auth", basic)) if on)
    given = request.headers.get("Authorization", "").strip()
    if not given:
        raise _denied(f"Missing Authorization header: this server requires {wanted}.",
                      "In the API step's Authorization tab choose "
                      f"{'Bearer token' if bearer else 'Basic auth'} and enter the value set in "
                      f"{'auth_bearer' if bearer else 'auth_basic'}; by hand, send "
                      f"headers={{'Authorization': '{'Bearer <token>' if bearer else 'Basic <base64>'}'}}.")
    scheme, _, credentials = given.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and bearer:
        if not _same(credentials.strip(), bearer):
            raise _denied("The Bearer token does not match.",
                          "Copy the token set in auth_bearer into the API step's Authorization tab.")
        return
    if scheme == "basic" and basic:
        try:
            pair = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _denied("The Authorization header is not valid Basic auth.",
                          "Send 'Basic ' followed by base64 of 'user:password' (the Authorization "
                          "tab does this for you).") from None
        if not _same(pair, basic):
            raise _denied("The Basic auth user name or password is wrong.",
                          "Use the user and password set in auth_basic.")
        return
    raise _denied(f"The Authorization header {_scheme_named(scheme, credentials)}; this server "
                  f"requires {wanted}.",
                  "Fix the Authorization tab of the API step (Bearer token or Basic auth): the header "
                  f"is the scheme word, a space, then the credential, e.g. "
                  f"'{'Bearer <token>' if bearer else 'Basic <base64 of user:password>'}'.")


def _scheme_named(scheme: str, credentials: str) -> str:
    """What the header's first word is, without ever quoting a credential sent with no scheme."""
    if scheme in SCHEMES:
        return f"uses the {scheme.title()} scheme"
    if not credentials.strip():
        return "has no scheme word (a credential sent alone?)"
    return "uses a scheme this server does not know"


# --- custom header -----------------------------------------------------------------------------


def _parse_header_setting(value: str) -> tuple[str, str]:
    name, sep, expected = value.partition(":")
    if not sep or not name.strip() or not expected.strip():
        raise ConfigError("Setting 'auth_header' must be 'Header-Name: value'.",
                          hint="e.g. app.configure(auth_header='X-Api-Key: s3cret').")
    return name.strip(), expected.strip()


def _check_header(request: Request, setting: str) -> None:
    name, expected = _parse_header_setting(setting)
    given = request.headers.get(name)
    if given is None:
        raise _denied(f"Missing {name} header: this server requires it (setting auth_header).",
                      f"Add a header row '{name}' in the API step's Headers tab with the value set in "
                      "auth_header.")
    if not _same(given.strip(), expected):
        raise _denied(f"The {name} header has the wrong value.",
                      "Use the value set in auth_header.")


# --- HMAC --------------------------------------------------------------------------------------


TIMESTAMPED = {"timestamp+body": b".", "timestampbody": b""}  # hmac_signed -> what joins timestamp and body


def signed_bytes(raw: bytes, timestamp: str | None, joiner: bytes = b".") -> bytes:
    """What is signed: the raw body, or ``<timestamp><joiner><body>`` (``.``, or nothing for
    ``hmac_signed='timestampbody'``)."""
    return raw if timestamp is None else timestamp.encode() + joiner + raw


def signature(raw: bytes, settings: Mapping[str, Any], timestamp: str | None = None) -> str:
    """The signature a sender puts in ``hmac_header`` for body ``raw`` under ``settings``."""
    digest = _digest(raw, settings, timestamp)
    return digest.hex() if settings["hmac_encoding"] == "hex" else base64.b64encode(digest).decode()


def sign(raw: bytes, settings: Mapping[str, Any], now: float | None = None) -> dict[str, str]:
    """The headers that make ``raw`` pass the HMAC check: ``{hmac_header: ..., [timestamp]}``."""
    headers: dict[str, str] = {}
    ts = None
    if settings["hmac_signed"] in TIMESTAMPED:
        ts = str(int(time.time() if now is None else now))
        headers[settings["hmac_timestamp_header"]] = ts
    headers[settings["hmac_header"]] = signature(raw, settings, ts)
    return headers


def verify_hmac(raw: bytes, headers: Mapping[str, str], settings: Mapping[str, Any],
                now: float | None = None) -> None:
    """Raise :class:`~toolkit.errors.Unauthorized` unless ``headers`` carry a valid signature of ``raw``."""
    name, algorithm = settings["hmac_header"], settings["hmac_algorithm"]
    given = headers.get(name)
    if not given:
        raise _denied(f"Missing {name} header: this server requires an HMAC signature "
                      "(setting hmac_secret).",
                      f"Send {name} = {settings['hmac_encoding']} HMAC-{algorithm.upper()} of "
                      f"{_what_is_signed(settings)} made with the shared secret, or unset hmac_secret.")
    ts = _timestamp(headers, settings, now) if settings["hmac_signed"] in TIMESTAMPED else None
    provided = _decode(given.strip(), algorithm, settings["hmac_encoding"], name)
    if not hmac.compare_digest(provided, _digest(raw, settings, ts)):
        raise _denied(f"The {name} signature does not match the request.",
                      f"Sign exactly the bytes sent ({_what_is_signed(settings)}) with the shared "
                      f"secret, HMAC-{algorithm.upper()}, {settings['hmac_encoding']}; a body changed "
                      "after signing (or a different secret or algorithm) fails here.")


def _digest(raw: bytes, settings: Mapping[str, Any], timestamp: str | None) -> bytes:
    algorithm = settings["hmac_algorithm"]
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"Setting 'hmac_algorithm' must be one of {', '.join(ALGORITHMS)}.",
                          hint="e.g. app.configure(hmac_algorithm='sha256').")
    key = settings["hmac_secret"].encode()
    joiner = TIMESTAMPED.get(settings["hmac_signed"], b".")
    return hmac.new(key, signed_bytes(raw, timestamp, joiner), getattr(hashlib, algorithm)).digest()


def _decode(given: str, algorithm: str, encoding: str, name: str) -> bytes:
    if given.lower().startswith(algorithm + "="):
        given = given[len(algorithm) + 1:]
    try:
        if encoding == "hex":
            return bytes.fromhex(given)
        padded = given + "=" * (-len(given) % 4)  # base64url is often sent without its padding
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (ValueError, binascii.Error):
        raise _denied(f"The {name} header is not {encoding}.",
                      f"Encode the signature as {encoding} (setting hmac_encoding).") from None


def _timestamp(headers: Mapping[str, str], settings: Mapping[str, Any], now: float | None) -> str:
    name, window = settings["hmac_timestamp_header"], settings["hmac_window_s"]
    given = (headers.get(name) or "").strip()
    if not given:
        raise _denied(f"Missing {name} header: the signature covers a timestamp "
                      "(hmac_signed='timestamp+body').",
                      f"Send {name} with the Unix time in seconds when signing.")
    stamp = _unix_time(given, name)
    stamp = stamp / 1000 if stamp > 1e11 else stamp  # milliseconds
    age = (time.time() if now is None else now) - stamp
    if not abs(age) <= window:  # a NaN window (a bad setting) refuses everything
        when = f"{age:,.0f} s old" if age > 0 else f"{-age:,.0f} s in the future"
        raise _denied(f"The {name} timestamp is {when}, outside the {window:g} s window: a replayed or "
                      "delayed request, or a clock that is off.",
                      "Sign each request when it is sent; check the clocks, or widen hmac_window_s.")
    return given


def _unix_time(given: str, name: str) -> float:
    """The timestamp header as a finite number of seconds (or milliseconds): plain digits only."""
    if _UNIX_TIME.fullmatch(given):
        return float(given)
    try:
        number = float(given)
    except ValueError:
        found = "not a number"
    else:
        found = ("not a finite number (NaN, infinity or too large)" if not math.isfinite(number)
                 else "not written as plain digits (a sign, an exponent or separators)")
    raise _denied(f"The {name} header is not a Unix time: it is {found}.",
                  "Send the Unix time in seconds as plain digits when signing, e.g. 1767225600.")


def _what_is_signed(settings: Mapping[str, Any]) -> str:
    if settings["hmac_signed"] in TIMESTAMPED:
        joiner = TIMESTAMPED[settings["hmac_signed"]].decode()
        return f"'<{settings['hmac_timestamp_header']}>{joiner}<raw body>'"
    return "the raw body"


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _denied(message: str, hint: str) -> Unauthorized:
    return Unauthorized(message, hint=hint)
