"""A handler's outbound HTTP calls: captured into its log entry, and answered offline from a recording.

:func:`install` wraps ``requests.Session.send`` once for the whole process (every ``requests.get``,
``requests.post`` and session call goes through it). Outside a handler the wrapper only looks up a
context variable and steps aside. Inside a handler (while :func:`toolkit.log.trace` is active) each
call is recorded under the running exchange::

    {"method", "url", "status", "ms", "headers", "request", "response", "response_headers", "error"}

with secrets masked (the app's ``sensitive_keys``, also in URL queries) and bodies cut at
``log_body_bytes``. Creating the first :class:`toolkit.App` installs it, visibly: the app gets a
notice (``app.notices`` and the ``toolkit`` logger); the ``capture_outbound`` setting turns that off.

:func:`replay` answers those calls from a recording instead of the network, and fails with
:class:`MissingRecording` when a handler makes a call the recording lacks.
"""

from __future__ import annotations

import contextvars
import http.client
import importlib.util
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import MissingRecording
from .masking import MASK, Masker
from .trace import carry_into_threads, carry_when, current_sandbox, current_trace

_original: Callable[..., Any] | None = None
_auto = True
# The replay answering in this context (a contextvar: a replay in the kernel never answers the calls of
# requests served meanwhile on server threads).
_replay: contextvars.ContextVar[Replay | None] = contextvars.ContextVar("toolkit_replay", default=None)
carry_when(_replay)
_install_lock = threading.Lock()


# --- installing the wrapper ------------------------------------------------------------------------


def install() -> None:
    """Wrap ``requests.Session.send`` (once; calling again does nothing)."""
    global _original, _auto
    import requests.sessions

    with _install_lock:
        _auto = True
        if _original is None:
            _original = requests.sessions.Session.send
            requests.sessions.Session.send = _send  # type: ignore[method-assign,assignment]


def install_once() -> bool:
    """Install unless installed already or ``requests`` is missing; True when this call installed it.

    Called when an :class:`toolkit.App` with ``capture_outbound`` on is created.
    """
    if _original is not None or importlib.util.find_spec("requests") is None:
        return False
    install()
    return True


def uninstall() -> None:
    """Restore ``requests`` as it was (until :func:`install`, or a new App, installs it again)."""
    global _original, _auto
    with _install_lock:
        _auto = False
        if _original is not None:
            import requests.sessions

            requests.sessions.Session.send = _original  # type: ignore[method-assign]
            _original = None


def installed() -> bool:
    """Whether outbound calls are being captured."""
    return _original is not None


def replaying() -> bool:
    """Whether a :func:`replay` block is answering HTTP calls now, in this context."""
    return _replay.get() is not None


def ensure_installed() -> None:
    """Install once ``requests`` is imported, unless :func:`uninstall` turned capture off."""
    if _original is None and _auto and "requests.sessions" in sys.modules:
        install()


def _send(session: Any, request: Any, **kwargs: Any) -> Any:
    tr = current_trace()
    original = _original or _unwrapped()
    if tr is None:
        return original(session, request, **kwargs)
    masker = getattr(tr, "masker", None) or Masker.default()  # a trace without an app's masker
    replay = _replay.get()
    call = _request_part(request, masker)
    secrets = tr.request_values()  # the request's own passwords, wherever the handler put them
    if secrets:
        call = masker.scrub(call, secrets)
    box = current_sandbox() if replay else None
    if box is not None and replay is not None:  # Replayed.kept lists it: the call never reached the network
        box.writes.append(f"HTTP {call['method']} {call['url']} (not sent: "
                          f"{'answered from the recording' if replay.has(call) else 'no recording'})")
    t0 = time.perf_counter()
    try:
        response = replay.answer(request, call) if replay else original(session, request, **kwargs)
    except Exception as exc:
        if not isinstance(exc, MissingRecording):
            call.update(status=None, ms=_ms(t0), response=None, response_headers={},
                        error=masker.text(f"{type(exc).__name__}: {exc}", secrets))
            tr.outbound.append(call)
        raise
    call.update(status=response.status_code, ms=_ms(t0), response=_response_body(response, kwargs, masker),
                response_headers=masker.headers(dict(response.headers)), error=None)
    if replay:
        call["replayed"] = True
    tr.outbound.append(masker.scrub(call, secrets) if secrets else call)
    return response


def _unwrapped() -> Callable[..., Any]:
    import requests.sessions

    send = requests.sessions.Session.send
    return send if send is not _send else _fail_uninstalled


def _fail_uninstalled(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - defensive
    raise RuntimeError("toolkit.log.outbound lost the original requests.Session.send; restart the kernel.")


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)


# --- what is recorded ----------------------------------------------------------------------------------


def mask_url(url: str, masker: Masker) -> str:
    """``url`` with the values of sensitive query keys, its user info's password and any known
    secret value replaced by ``***``."""
    if "?" not in url:
        return masker.text(url) if "@" in url or masker.values else url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    pairs = [(k, MASK if masker.sensitive(k) else v) for k, v in query]
    return masker.text(urlunsplit(parts._replace(query=urlencode(pairs, safe="*"))))


def _request_part(request: Any, masker: Masker) -> dict[str, Any]:
    headers = dict(request.headers)
    shown = {k: v for k, v in headers.items() if k.lower() not in _NOISE}
    return {"method": request.method, "url": mask_url(request.url, masker), "status": None, "ms": 0.0,
            "headers": masker.headers(shown), "request": _body(request.body, headers, masker)}


_NOISE = {"user-agent", "accept-encoding", "connection", "content-length"}  # requests' defaults


def _body(raw: Any, headers: Mapping[str, str], masker: Masker) -> Any:
    if raw is None or raw == b"" or raw == "":
        return None
    if isinstance(raw, str):
        raw = raw.encode()
    if not isinstance(raw, bytes):
        return "[streamed body: not recorded]"
    ctype = _content_type(headers)
    if "x-www-form-urlencoded" in ctype:
        return masker(dict(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True)))
    if ctype and not any(t in ctype for t in ("json", "text", "xml", "javascript")):
        return f"[{len(raw):,} bytes of {ctype}]"
    return masker.decode(raw)


def _response_body(response: Any, kwargs: Mapping[str, Any], masker: Masker) -> Any:
    if kwargs.get("stream") and not getattr(response, "_content_consumed", False):
        return "[streamed response: not recorded]"
    return _body(response.content, response.headers, masker)


def _content_type(headers: Mapping[str, str]) -> str:
    for k, v in headers.items():
        if k.lower() == "content-type":
            return str(v).lower()
    return ""


# --- replay ----------------------------------------------------------------------------------------------


def replay(calls: Iterable[Mapping[str, Any]], *, strict: bool = True) -> Replay:
    """``with replay(fixture["outbound"]):`` answers handlers' ``requests`` calls from the recording.

    A call is matched on method and URL (query order ignored; masked values match anything), preferring
    an unused recording with the same request body; a repeated call gets the last matching answer.
    A call with no recording raises :class:`MissingRecording`; with ``strict`` the ``with`` block also
    fails at its end if a handler swallowed that error.
    """
    return Replay(calls, strict=strict)


class Replay:
    """The recorded calls a :func:`replay` block answers from; ``missing`` lists calls it could not."""

    def __init__(self, calls: Iterable[Mapping[str, Any]], *, strict: bool = True) -> None:
        self.calls = [dict(c) for c in calls]
        self.strict = strict
        self.used = [0] * len(self.calls)
        self.missing: list[str] = []
        self._lock = threading.Lock()
        self._tokens: list[contextvars.Token[Replay | None]] = []

    def __enter__(self) -> Replay:
        install()
        carry_into_threads()
        self._tokens.append(_replay.set(self))
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._tokens:
            _replay.reset(self._tokens.pop())
        if self.missing and self.strict and exc_type is None:
            raise self._missing_error(self.missing[0], swallowed=True)

    def has(self, call: Mapping[str, Any]) -> bool:
        """Whether a recorded call matches ``call`` (method and URL)."""
        key = _key(call["method"], call["url"])
        return any(_key(c.get("method", ""), c.get("url", "")) == key for c in self.calls)

    def answer(self, request: Any, call: Mapping[str, Any]) -> Any:
        """The recorded response for ``request`` (``call`` is its masked description)."""
        index = self._match(call)
        if index is None:
            what = f"{call['method']} {call['url']}"
            self.missing.append(what)
            raise self._missing_error(what)
        return _response(self.calls[index], request)

    def _match(self, call: Mapping[str, Any]) -> int | None:
        key = _key(call["method"], call["url"])
        with self._lock:
            same = [i for i, c in enumerate(self.calls) if _key(c.get("method", ""), c.get("url", "")) == key]
            if not same:
                return None
            fresh = [i for i in same if not self.used[i]]
            exact = [i for i in fresh if self.calls[i].get("request") == call.get("request")]
            index = (exact or fresh or [max(same, key=lambda i: self.used[i])])[0]
            self.used[index] = max(self.used) + 1
            return index

    def _missing_error(self, what: str, swallowed: bool = False) -> MissingRecording:
        recorded = ", ".join(f"{c.get('method')} {c.get('url')}" for c in self.calls[:5]) or "none"
        more = f" and {len(self.calls) - 5} more" if len(self.calls) > 5 else ""
        lead = "During this replay a handler made" if swallowed else "The handler made"
        return MissingRecording(
            f"{lead} an HTTP call the recording lacks: {what} (recorded: {recorded}{more}).",
            hint="The handler now calls something the fixture did not record. Run the call once against "
            "the live service and save the fixture again, or add this call to the fixture's 'outbound' list.",
        )

    def __repr__(self) -> str:
        return f"<Replay: {len(self.calls)} recorded calls, {len(self.missing)} missing>"


def _key(method: str, url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(url)
    query = tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return method.upper(), urlunsplit(parts._replace(query="", fragment="")), query


_TRANSPORT = {"content-encoding", "content-length", "transfer-encoding", "connection"}


def _response(call: Mapping[str, Any], request: Any) -> Any:
    import requests
    from requests.structures import CaseInsensitiveDict

    if call.get("status") is None:
        name = str(call.get("error") or "ConnectionError").split(":", 1)[0]
        kind = getattr(requests.exceptions, name, requests.exceptions.ConnectionError)
        raise kind(f"(replayed) {call.get('error')}", request=request)
    body = call.get("response")
    headers = CaseInsensitiveDict({k: v for k, v in (call.get("response_headers") or {}).items()
                                   if k.lower() not in _TRANSPORT})
    if body is None:
        content = b""
    elif isinstance(body, str):
        content = body.encode()
    else:
        content = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    response = requests.Response()
    response.status_code = int(call["status"])
    response.reason = http.client.responses.get(response.status_code, "")
    response.headers = headers
    response._content = content
    response.encoding = "utf-8"
    response.url = request.url
    response.request = request
    response.elapsed = timedelta(0)
    return response
