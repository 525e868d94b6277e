"""``toolkit.ApiStep``: Chatlayer's API step, emulated. It builds the request exactly as the step is
configured, sends it to an ``App`` (in-process) or a URL (real HTTP with requests), and applies the
reply in Chatlayer's order: validate, write the session, send the messages (session values
interpolated), then follow the redirect.

It can play a Chatlayer whose open points are chosen (``scheme=``: settings such as ``hmac_header``,
``hmac_algorithm``, ``hmac_encoding``, ``hmac_signed``, ``emulator_content_type``,
``emulator_keep_types``, ``emulator_timeout_s``, ``emulator_retries``): calibration is tested
against it end to end, offline.

A non-2xx status, a timeout (``emulator_timeout_s``), a connection failure, invalid JSON or an invalid
reply is a :class:`StepError`, like an entry of Chatlayer's *History -> Error logs*.
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..config import Settings
from ..errors import ApiStepError, ReplyError
from ..reply import redirect_target, validate
from ..request import METHODS, Incoming
from ..wire.lenient import NO_NAMESPACE, tolerate
from .session import Session
from .steprequest import Resolve, StepRequest, auth_of, build, rows_of

ERROR_KINDS = ("status", "timeout", "connection", "invalid_json", "empty", "invalid_reply", "unknown_block",
               "warning")  # a warning: the reply was applied, with a guess or a loss (strict_replies)


@dataclass
class StepError:
    """One entry of the error log: what went wrong, with the request and the answer."""

    kind: str  # one of ERROR_KINDS
    message: str
    status: int | None = None
    request: StepRequest | None = field(default=None, repr=False)
    response: str = field(default="", repr=False)  # the answer's body as text (cut)
    block: str | None = None

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "status": self.status, "block": self.block,
                "request": self.request.to_dict() if self.request else None, "response": self.response}

    def __repr__(self) -> str:
        where = f" in {self.block!r}" if self.block else ""
        return f"<StepError {self.kind}{where}: {self.message}>"


@dataclass
class StepResult:
    """The outcome of one API step: the request as sent, the status, the reply applied."""

    request: StepRequest
    status: int | None = None
    reply: dict[str, Any] | None = None  # the validated JSON answer
    messages: list[dict[str, Any]] = field(default_factory=list)  # rendered with session values
    next_dialogstate: str | None = None
    error: StepError | None = None
    elapsed_ms: float = 0.0
    warnings: list[str] = field(default_factory=list)  # what the reply lost (unknown keys, empty redirect)
    attempts: int = 1  # 1 + the retries sent after timeouts (emulator_retries)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def missing(self) -> tuple[str, ...]:
        """Variables the request named that the session did not have."""
        return self.request.missing

    def __repr__(self) -> str:
        if self.error is not None:
            return f"<StepResult {self.request.method} {self.request.url} failed: {self.error.message}>"
        n = len(self.messages)
        nxt = f", next {self.next_dialogstate!r}" if self.next_dialogstate else ""
        return (f"<StepResult {self.request.method} {self.request.url} -> {self.status}: "
                f"{n} message{'' if n == 1 else 's'}{nxt}>")


class ApiStep:
    """An API step as configured in Chatlayer: method, URL, Query / Headers / Body rows and auth.

    >>> step = ApiStep("POST", "/order-status", body=[("order_id", "variable", "order.id")])
    >>> step
    ApiStep('POST', '/order-status', body=['order_id'])
    """

    def __init__(self, method: str = "POST", url: str = "", query: Any = (), headers: Any = (),
                 body: Any = (), auth: Any = None, *, hmac: str | None = None,
                 scheme: Mapping[str, Any] | None = None, clock: Callable[[], float] | None = None) -> None:
        self.method = str(method).upper()
        if self.method not in METHODS:
            raise ApiStepError(f"Method {method!r} is not one of Chatlayer's {', '.join(METHODS)}.",
                               hint="Use POST (the usual choice), GET, PUT, PATCH or DELETE.")
        if not isinstance(url, str) or not url:
            raise ApiStepError("An API step needs a url.",
                               hint="A path such as '/order-status' (run against an App or a base URL) "
                               "or a full URL such as 'https://backend.example.com/order-status'.")
        self.url = url
        self.tabs = {"query": rows_of(query, "Query"), "headers": rows_of(headers, "Headers"),
                     "body": rows_of(body, "Body")}
        self.auth = auth_of(auth)
        self.hmac = hmac  # secret of an HMAC API setting; the other hmac_* settings say how to sign
        # the Chatlayer this step plays: settings that override the target's (e.g. calibration.suggested)
        self.scheme = dict(scheme or {})
        if self.scheme:
            Settings(**{k: v for k, v in self.scheme.items()})  # unknown names / bad values fail here
        self.clock = clock  # the wall clock a signing timestamp is taken from (tests, notebooks)

    def build(self, session: Session, *, settings: Settings | None = None,
              resolve: Resolve | None = None) -> StepRequest:
        """The request this step would send now (values from ``session``), without sending it."""
        s = self._played(settings if settings is not None else session.settings)
        request = build(self.method, self.url, self.tabs, self.auth, session, s, resolve)
        if self.hmac:
            from ..access import sign

            now = self.clock() if self.clock else None
            request.headers.update(sign(request.raw, s.replace(hmac_secret=self.hmac), now))
        return request

    def _played(self, settings: Settings) -> Settings:
        return settings.replace(**self.scheme) if self.scheme else settings

    def call(self, session: Session, target: Any = None, *, settings: Settings | None = None,
             resolve: Resolve | None = None, block: str | None = None) -> StepResult:
        """Run the step and apply its reply to ``session``.

        ``target``: an ``App`` (in-process; the url is a path), a running ``Server`` or a base URL
        string (real HTTP to base + path), or None (real HTTP to the full url).
        """
        s = self._played(settings if settings is not None else _settings_of(target, session))
        request = self.build(session, settings=s, resolve=resolve)
        t0 = time.perf_counter()
        attempts = 0
        while True:  # after a timeout, the identical request again (emulator_retries times)
            attempts += 1
            try:
                status, data = _send(request, target, s.emulator_timeout_s)
                break
            except _Failure as exc:
                if exc.kind == "timeout" and attempts <= s.emulator_retries:
                    continue
                tries = f" ({attempts} attempts)" if attempts > 1 else ""
                error = StepError(exc.kind, exc.message + tries, request=request, block=block)
                return StepResult(request, error=error, elapsed_ms=_ms(t0), attempts=attempts)
        result = interpret(request, status, data, session, s, block)
        result.elapsed_ms, result.attempts = _ms(t0), attempts
        return result

    def __repr__(self) -> str:
        tabs = "".join(f", {name}={[r.key for r in rows]}" for name, rows in self.tabs.items() if rows)
        auth = f", auth={self.auth[0]!r}" if self.auth else ""
        return f"ApiStep({self.method!r}, {self.url!r}{tabs}{auth})"


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def _settings_of(target: Any, session: Session) -> Settings:
    app = getattr(target, "app", target)
    found = getattr(app, "settings", None)
    return found if isinstance(found, Settings) else session.settings


# --- sending -------------------------------------------------------------------------------------


class _Failure(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def _send(request: StepRequest, target: Any, timeout: float) -> tuple[int, bytes]:
    if target is not None and hasattr(target, "handle") and hasattr(target, "add_handler"):
        return _in_process(target, request, timeout)
    base = target.url if hasattr(target, "url") and not isinstance(target, str) else target
    url = request.url
    if base is not None:
        url = request.url if request.url.startswith(("http://", "https://")) else (
            str(base).rstrip("/") + "/" + request.url.lstrip("/"))
    elif not url.startswith(("http://", "https://")):
        raise ApiStepError(f"The url {url!r} is a path, and no target was given.",
                           hint="Pass target=app (in-process), target=server or a base URL such as "
                           "'http://127.0.0.1:5000', or give the step a full URL.")
    request.url = url
    return _over_http(request, timeout)


def _in_process(app: Any, request: StepRequest, timeout: float) -> tuple[int, bytes]:
    url = request.url
    if url.startswith(("http://", "https://")):  # a pasted real URL: its path goes to the App
        parts = urlsplit(url)
        url = parts.path + (f"?{parts.query}" if parts.query else "")
    path, _, qs = url.partition("?")
    query = {**dict(parse_qsl(qs, keep_blank_values=True)), **request.query}
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["response"] = app.handle(Incoming(request.method, path, query, request.headers,
                                                  request.raw, source="emulator"))
        except BaseException as exc:  # handle() answers errors itself; this is a last resort
            box["error"] = exc

    context = contextvars.copy_context()  # the caller's turn (toolkit.log.turns) goes with the request
    worker = threading.Thread(target=context.run, args=(run,), name="toolkit-apistep", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _Failure("timeout", f"{request.method} {path} did not answer within {timeout:g} s "
                       "(emulator_timeout_s); Chatlayer gives up and logs an error.")
    if "error" in box:
        raise _Failure("connection", f"{request.method} {path} failed in-process: {box['error']!r}")
    response = box["response"]
    return response.status, response.data


def _over_http(request: StepRequest, timeout: float) -> tuple[int, bytes]:
    import requests

    try:
        data = request.raw if request.body is not None else None
        answer = requests.request(request.method, request.url, params=request.query or None,
                                  headers=request.headers, data=data, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        raise _Failure("timeout", f"{request.method} {request.url} did not answer within {timeout:g} s "
                       "(emulator_timeout_s); Chatlayer gives up and logs an error.") from None
    except requests.RequestException as exc:
        raise _Failure("connection", f"{request.method} {request.url} could not be reached: "
                       f"{type(exc).__name__}. Is the server running, and is the URL right?") from None
    return answer.status_code, answer.content


# --- applying the reply ----------------------------------------------------------------------------


def interpret(request: StepRequest, status: int, data: bytes, session: Session, settings: Settings,
              block: str | None = None) -> StepResult:
    """Turn an answer into a result: an error entry, or the reply applied to ``session``."""
    text = data.decode("utf-8", errors="replace")
    shown = text[:2000]

    def fail(kind: str, message: str) -> StepResult:
        error = StepError(kind, message, status=status, request=request, response=shown, block=block)
        return StepResult(request, status=status, error=error)

    if not 200 <= status < 300:
        return fail("status", f"{request.method} {request.url} answered {status}{_reason(text)}.")
    if not text.strip():
        if settings.emulator_empty_reply == "error" or settings.strict_replies:
            return fail("empty", f"{request.method} {request.url} answered {status} with an empty body. "
                        "Answer a JSON object such as {} (or set emulator_empty_reply='ok' and "
                        "strict_replies=False).")
        text = "{}"  # nothing to apply
    try:
        wire = json.loads(text)
    except json.JSONDecodeError as exc:
        return fail("invalid_json", f"{request.method} {request.url} answered {status} with invalid JSON "
                    f"({exc.msg} at line {exc.lineno} column {exc.colno}): {text[:80]!r}")
    warnings: list[str] = []
    try:
        wire = validate(wire, warnings=warnings, strict=settings.strict_replies)
    except ReplyError as exc:
        return fail("invalid_reply",
                    f"{request.method} {request.url} answered an invalid reply: {exc.message}")
    messages, target = apply(wire if settings.strict_replies else tolerate(wire)[0], session)
    return StepResult(request, status=status, reply=wire, messages=messages, next_dialogstate=target,
                      warnings=warnings)


def apply(wire: Mapping[str, Any], session: Session) -> tuple[list[dict[str, Any]], str | None]:
    """Chatlayer's order: write the session first, then render the messages, then the redirect."""
    write = wire.get("session")
    if isinstance(write, Mapping) and write.get("namespace") == NO_NAMESPACE:
        for key, value in dict(write["data"]).items():  # a session without namespace (see wire.lenient)
            session.write(str(key), value)
    elif isinstance(write, Mapping):
        session.write(str(write["namespace"]), write["data"])
    messages = [session.render_all(m) for m in wire.get("messages") or []]
    target = redirect_target(wire)
    return messages, (str(target) if target else None)


def _reason(text: str) -> str:
    try:
        body = json.loads(text)
        message = body["error"]["message"]
    except (ValueError, KeyError, TypeError):
        snippet = " ".join(text.split())[:120]
        return f": {snippet.rstrip('.')}" if snippet else ""
    return f": {str(message).rstrip('.')}"
