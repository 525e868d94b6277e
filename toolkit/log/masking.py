"""Masking: one :class:`Masker` hides the values of sensitive keys and cuts long bodies before
anything is stored (log, frames, saved logs, fixtures, error messages).

The list of sensitive keys is the ``sensitive_keys`` setting (plus the headers that always carry a
credential); every masker is built from the settings by :meth:`Masker.from_settings`. Masking is
also by value: the secrets in play (the app's access tokens and HMAC secret, database passwords, the
ngrok token: :func:`register_secret`) and the values of sensitive keys of the request being answered
(``values``) are cut out of any text a masker keeps (an exception's message, a traceback, a URL). Copies are
made without recursion and never deeper than the ``max_body_depth`` setting, so any value a masker
returned can be encoded, shown and saved whatever the sender nested.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
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
_PAIR = (r'(?<![\w.%+-])(?P<key>[\w.%+-]++)=(?P<value>[^&\s;,"]*+'  # a value runs on over commas
         r'(?:,(?![\w.%+-]++=)[^&\s;,"]*+)*+)')  # (password=abc,def) until a key= starts

_STRING = r'"(?:[^"\\]|\\.)*+'
_TEXT = re.compile(rf'"(?P<jkey>(?:[^"\\]|\\.)*+)(?P<end>"?)(?:(?P<colon>\s*+:\s*+)'
                   rf'(?P<jvalue>{_STRING}"?|[^,{{}}\[\]\s"]*+))?|{_PAIR}')
_PAIRS = re.compile(_PAIR)
# More spellings of a secret in text: a URL's user info (scheme://user:password@host, the password may
# hold a raw '@': the last one before the host counts), 'key': 'value' (Python reprs), key: value
# (YAML, headers, prose) and a multipart form field (name="key", a blank line, the value).
_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][\w+.-]*+://[^\s/:@]*+):(?P<pw>[^\s/]*)@"
                       r"(?=[^\s/@]*+(?:[/\s?#]|$))")
_QUOTED = re.compile(r"'(?P<key>(?:[^'\\]|\\.)*+)'(?P<colon>\s*+:\s*+)'(?:[^'\\]|\\.)*+'?")
_COLON = re.compile(r"(?<![\w\"'.-])(?P<key>[A-Za-z_][\w.-]*+)(?P<colon>[ \t]*+:[ \t]*+)"
                    r"(?P<value>[^\s,;'\"{}\[\]]++)")
_MULTIPART = re.compile(r'name="(?P<key>[^"\r\n]*+)"[^\r\n]*+\r?\n(?:[^\r\n]++\r?\n){0,4}?\r?\n'
                        r'(?P<value>[^\r\n]*+)')
_SEPARATORS = re.compile(r"[-_ ]")
MIN_SECRET = 4  # shorter values are not masked by value (they would cut ordinary words)

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


_secrets: set[str] = set()  # process-wide secret values (register_secret)
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever any masker keeps text, from now on in this process (a token, a
    password). Values shorter than ``MIN_SECRET`` characters are ignored."""
    if value and len(value) >= MIN_SECRET:
        with _secrets_lock:
            _secrets.add(value)


def secret_values(settings: Mapping[str, Any]) -> set[str]:
    """The secret values a set of settings holds: tokens, Basic credentials (whole and password), the
    custom header's value, the HMAC secret, the database URLs' passwords, ``NGROK_AUTHTOKEN``."""
    out = {settings.get("auth_bearer", ""), settings.get("hmac_secret", ""),
           os.environ.get("NGROK_AUTHTOKEN", "")}
    basic = settings.get("auth_basic", "")
    out |= {basic, basic.partition(":")[2]}
    out.add(settings.get("auth_header", "").partition(":")[2].strip())
    for name in ("log_url", "tables_url"):
        out |= url_passwords(settings.get(name, ""))
    return {v for v in out if v and len(v) >= MIN_SECRET}


def url_passwords(url: str) -> set[str]:
    """The passwords a database URL holds: its user info's (a raw '@' allowed) and ``password=`` /
    ``?password=`` values (libpq keywords)."""
    out = {m.group("pw") for m in _USERINFO.finditer(url)}
    out |= {m.group("value") for m in _PAIRS.finditer(url) if "password" in m.group("key").lower()}
    from urllib.parse import unquote

    return {v for p in out for v in (p, unquote(p)) if v}


def masked_url(url: str) -> str:
    """``url`` fit to show in an error, a repr or a warning: its password masked, wherever written."""
    return Masker(("password", "secret", "token")).text(url)

class Masker:
    """Masks the values of sensitive keys (headers, query, JSON members, text) and cuts long bodies.

    A key is sensitive when its lower-case name is always masked (Authorization, Cookie, ...) or
    contains one of ``keys``. Answers are memoised: the same keys come back on every request.
    Values nested deeper than ``depth`` levels are replaced by a marker.
    """

    def __init__(self, keys: tuple[str, ...] = (), body_limit: int = 65536,
                 depth: int = DEPTH_CEILING) -> None:
        self.keys = tuple(k for k in (k.strip().lower() for k in keys) if k)
        self._flat = tuple(_SEPARATORS.sub("", k) for k in self.keys)  # api-key, api_key: apikey
        self.body_limit = body_limit
        self.depth = depth
        self.values: frozenset[str] = frozenset()  # this masker's own secret values (from_settings)
        self._memo: dict[str, bool] = {}
        self._pattern: tuple[frozenset[str], re.Pattern[str] | None] = (frozenset(), None)

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
        made = cls(keys, settings["log_body_bytes"], depth)
        made.values = frozenset(secret_values(settings))
        return made

    @classmethod
    def default(cls) -> Masker:
        """The masker of the default settings (and ``TOOLKIT_*`` overrides), for code without an app."""
        return cls.from_settings(Settings())

    def sensitive(self, name: str) -> bool:
        """Whether the value of key ``name`` is a secret (any case)."""
        hit = self._memo.get(name)
        if hit is None:
            low = name.lower()
            flat = _SEPARATORS.sub("", low)  # Api-Key, api_key, API KEY are apikey
            hit = low in ALWAYS_MASKED or any(k in flat for k in self._flat)
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

    def text(self, text: str, values: Iterable[str] = ()) -> str:
        """``text`` with secrets masked: the values of sensitive ``key=value``, ``"key": value``,
        ``'key': 'value'``, ``key: value`` and multipart pairs, a URL's password, and every known
        secret value (registered, the settings', and ``values``: e.g. the request's sensitive values).

        >>> Masker(("password",)).text("login failed: password=abc,def for http://me:pw@host/x")
        'login failed: password=*** for http://me:***@host/x'
        """
        text = self._by_value(text, values)
        if "=" not in text and ":" not in text:
            return text

        def pair(m: re.Match[str]) -> str:
            return f"{m.group('key')}={MASK}" if self.sensitive(unquote_plus(m.group("key"))) else m.group()

        def colon(m: re.Match[str]) -> str:
            hit = self.sensitive(m.group("key"))
            return f"{m.group('key')}{m.group('colon')}{MASK}" if hit else m.group()

        def quoted(m: re.Match[str]) -> str:
            hit = self.sensitive(m.group("key"))
            return f"'{m.group('key')}'{m.group('colon')}'{MASK}'" if hit else m.group()

        def multipart(m: re.Match[str]) -> str:
            if not self.sensitive(m.group("key")):
                return m.group()
            return m.group()[: m.start("value") - m.start()] + MASK

        def token(m: re.Match[str]) -> str:
            if m.group("key") is not None:
                return pair(m)
            if m.group("colon") is not None and m.group("end") and self.sensitive(m.group("jkey")):
                return f'"{m.group("jkey")}"{m.group("colon")}"{MASK}"'
            return _PAIRS.sub(pair, m.group())  # key=value inside a string

        text = _USERINFO.sub(lambda m: f"{m.group('head')}:{MASK}@", text) if "://" in text else text
        text = _TEXT.sub(token, text)
        if "'" in text:
            text = _QUOTED.sub(quoted, text)
        if 'name="' in text:
            text = _MULTIPART.sub(multipart, text)
        return _COLON.sub(colon, text) if ":" in text else text

    def _by_value(self, text: str, values: Iterable[str] = ()) -> str:
        """``text`` without any known secret value (longest first)."""
        wanted = self.values | _secrets | {v for v in values if v and len(v) >= MIN_SECRET}
        if not wanted:
            return text
        known, pattern = self._pattern
        if known != wanted:
            pattern = re.compile("|".join(re.escape(v) for v in sorted(wanted, key=len, reverse=True)))
            self._pattern = (frozenset(wanted), pattern)
        return pattern.sub(MASK, text) if pattern is not None else text

    def values_in(self, query: Mapping[str, Any] | None, headers: Mapping[str, str] | None,
                  raw: bytes = b"") -> set[str]:
        """The values of sensitive keys in a request (query, headers, a JSON or form body): what an
        exception raised while answering it may quote."""
        out: set[str] = set()
        for source in (query or {}, headers or {}):
            out |= {str(v) for k, v in source.items() if self.sensitive(str(k))}
        auth = (headers or {}).get("Authorization", "")
        out.add(auth.partition(" ")[2])
        if raw and len(raw) <= self.body_limit:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):
                text = raw.decode("utf-8", errors="replace")
                out |= {unquote_plus(m.group("value")) for m in _PAIRS.finditer(text)
                        if self.sensitive(unquote_plus(m.group("key")))}
            else:
                todo, seen = [body], 0
                while todo and seen < 10_000:
                    item = todo.pop()
                    seen += 1
                    pairs = (item.items() if isinstance(item, dict)
                             else enumerate(item) if isinstance(item, list) else ())
                    for k, v in pairs:
                        if isinstance(v, dict | list):
                            todo.append(v)
                        elif isinstance(item, dict) and self.sensitive(str(k)) and v is not None:
                            out.add(str(v))
        return {v for v in out if len(v) >= MIN_SECRET}

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
        if self.values or _secrets:
            masked = self._strings(masked)
        return cut(masked, self.body_limit) if len(raw) > self.body_limit else masked


    def _strings(self, value: Any, values: frozenset[str] = frozenset()) -> Any:
        """A masked JSON value with known secret values (and ``values``) cut out of its strings too."""
        if isinstance(value, str):
            return self._by_value(value, values)
        if isinstance(value, dict):
            return {k: self._strings(v, values) for k, v in value.items()}
        if isinstance(value, list):
            return [self._strings(v, values) for v in value]
        return value

    def scrub(self, value: Any, values: Iterable[str]) -> Any:
        """A copy of a JSON value (e.g. a recorded outbound call) without ``values`` in its strings."""
        return self._strings(value, frozenset(values))


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
