"""``toolkit.V1Emulator``: Chatlayer's V1 REST API, emulated on loopback, so long-running handlers,
tests and notebooks never need the real service.

Same paths, same Bearer auth and ``?version=`` as the real API (contract §5). Conversations live in
memory; an emulator conversation attached with :meth:`V1Emulator.attach` receives pushed messages in
its transcript, as Chatlayer would show them. Knobs for failure paths: :meth:`~V1Emulator.rate_limit`
(429 with ``x-ratelimit-*`` headers), :meth:`~V1Emulator.fail_next` and ``delay_s`` (slow answers).

>>> api = V1Emulator("demo-bot", token="test-token")
>>> api
<V1Emulator bot 'demo-bot': 0 conversations, stopped>
"""

from __future__ import annotations

import atexit
import json
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from ..chatlayer.client import ChatlayerClient
from ..log import Exchange, Log, Masker
from ..server.engine import HTTPServer
from .v1_store import Store, V1Conversation, V1Error

_ID = r"(?P<{}>[^/]+)"
_CONV = "^/v1/bots/" + _ID.format("bot") + "/conversations/" + _ID.format("sid")
ROUTES: list[tuple[tuple[str, ...], re.Pattern[str], str]] = [
    (("POST",), re.compile(_CONV + "/actions$"), "actions"),
    (("GET", "DELETE"), re.compile(_CONV + "/session-data$"), "session_data"),
    (("GET",), re.compile(_CONV + "/messages$"), "messages"),
    (("GET",), re.compile("^/v1/bots/" + _ID.format("bot") + "/conversations$"), "conversations"),
    (("GET",), re.compile("^/v1/bots$"), "bots"),
]
_running: list[V1Emulator] = []
_lock = threading.Lock()


class V1Emulator:
    """An emulated V1 API for bot ``bot_id`` that accepts ``Authorization: Bearer <token>``.

    ``api.start()`` serves it on ``127.0.0.1`` (a free port; ``api.url``); ``api.client()`` is a
    :class:`toolkit.ChatlayerClient` pointed at it. ``api.log`` records every call made to it.
    Starting again (a re-run cell) first stops the emulator of the same bot that was running.
    """

    def __init__(self, bot_id: str = "emulated-bot", *, token: str = "emulator-token",
                 delay_s: float = 0.0) -> None:
        self.bot_id = bot_id
        self.token = token
        self.delay_s = delay_s
        self.store = Store()
        self.log = Log(500)
        self._masker = Masker.default()
        self._server: HTTPServer | None = None
        self._stopped = threading.Event()
        self._limit: tuple[int, float] | None = None
        self._window = (0.0, 0)  # start, calls
        self._faults: list[tuple[int, str, dict[str, str]]] = []
        self._knob_lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self, port: int = 0) -> V1Emulator:
        """Serve on ``127.0.0.1:port`` (0: a free port). Returns the emulator (``api.url`` is set)."""
        with _lock:
            for old in [e for e in _running if e is self or e.bot_id == self.bot_id]:
                old._stop_server()
            self._stopped.clear()
            self._server = HTTPServer(self, "127.0.0.1", port, name=f"v1-{self.bot_id}")
            self._server.start()
            _running.append(self)
        return self

    def stop(self) -> None:
        """Stop serving (safe to call twice)."""
        with _lock:
            self._stop_server()

    def _stop_server(self) -> None:
        self._stopped.set()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self in _running:
            _running.remove(self)

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def url(self) -> str:
        """The base URL to give ``ChatlayerClient(base_url=...)``."""
        if self._server is None:
            raise RuntimeError("The emulated API is not running: call api.start() first.")
        return f"http://127.0.0.1:{self._server.port}"

    def client(self, **options: Any) -> ChatlayerClient:
        """A :class:`toolkit.ChatlayerClient` for this emulator (starts it if needed)."""
        if not self.running:
            self.start()
        options.setdefault("token", self.token)
        return ChatlayerClient(bot_id=self.bot_id, base_url=self.url, **options)

    def __enter__(self) -> V1Emulator:
        return self.start() if not self.running else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- conversations ------------------------------------------------------------------------------

    def attach(self, conversation: Any, session_id: str | None = None, *, version: str | None = None) -> str:
        """Let pushes to ``session_id`` arrive in an emulator conversation. Returns the session id.

        ``session_id`` and ``version`` default to the conversation's own (what ``{internal.sessionId}``
        and ``{internal.version}`` send). Pushed messages reach its transcript (and chat view) in order.
        """
        return self.store.attach(conversation, session_id, version)

    def wait(self, timeout: float | None = 5.0) -> bool:
        """Wait until every pushed message has reached its conversation; False on timeout."""
        return self.store.wait(timeout)

    def add_conversation(self, session_id: str, session: Mapping[str, Any] | None = None, *,
                         version: str = "DRAFT", user: Mapping[str, Any] | None = None) -> V1Conversation:
        """A conversation without an emulator chat (its pushed messages are kept in memory)."""
        return self.store.add(session_id, session, version, user)

    def pushed(self, session_id: str) -> list[dict[str, Any]]:
        """The messages pushed into ``session_id`` so far, as ``{type, config}`` messages."""
        return self.store.get(session_id).pushed_messages()

    # --- knobs ------------------------------------------------------------------------------------------

    def rate_limit(self, limit: int | None, window_s: float = 60.0) -> None:
        """Answer 429 once more than ``limit`` calls arrive in ``window_s`` (None: no limit).

        Every answer then carries ``x-ratelimit-limit``, ``x-ratelimit-remaining`` and
        ``x-ratelimit-reset`` (whole seconds until the window resets).
        """
        with self._knob_lock:
            self._limit = None if limit is None else (int(limit), float(window_s))
            self._window = (time.monotonic(), 0)

    def fail_next(self, status: int, times: int = 1, message: str = "Emulated failure",
                  headers: Mapping[str, str] | None = None) -> None:
        """Answer the next ``times`` calls with ``status`` (e.g. 500, 503, 429), ``message`` and
        ``headers`` (e.g. ``{"Retry-After": "0"}``)."""
        with self._knob_lock:
            self._faults += [(int(status), message, dict(headers or {}))] * times

    def reset(self) -> None:
        """Forget conversations, knobs and the log."""
        with self._knob_lock:
            self._limit, self._faults = None, []
        self.store = Store()
        self.log.clear()
        self.delay_s = 0.0

    # --- WSGI -----------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        t0 = time.perf_counter()
        method = environ["REQUEST_METHOD"]
        path = unquote(environ.get("PATH_INFO", ""))
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        extra: dict[str, str] = {}
        try:
            if self.delay_s:
                self._stopped.wait(self.delay_s)
            endpoint, status, body = self._answer(method, path, query, environ, raw, extra)
        except V1Error as exc:
            endpoint, status, body = exc.endpoint, exc.status, exc.body()
            extra.update(exc.headers)
        data = json.dumps(body).encode()
        self._record(method, path, query, environ, raw, data, status, endpoint, t0)
        headers = [("Content-Type", "application/json"), *extra.items()]
        start_response(f"{status} {_PHRASES.get(status, '')}", headers)
        return [data]

    def _answer(self, method: str, path: str, query: dict[str, str], environ: Mapping[str, Any],
                raw: bytes, extra: dict[str, str]) -> tuple[str | None, int, Any]:
        self._check_auth(environ.get("HTTP_AUTHORIZATION", ""))
        extra.update(self._check_rate())
        self._check_faults()
        endpoint, params = _route(method, path)
        if "bot" in params and params["bot"] != self.bot_id:
            raise V1Error(404, f"Bot {params['bot']!r} not found (this emulator serves {self.bot_id!r}).",
                          endpoint)
        if endpoint == "bots":
            return endpoint, 200, {"data": [{"id": self.bot_id, "name": self.bot_id}]}
        handler = getattr(self.store, endpoint)
        version = _version(query, required=endpoint in ("actions", "session_data", "conversations"))
        status, body = handler(method=method, params=params, query=query, version=version, raw=raw)
        return endpoint, status, body

    def _check_auth(self, header: str) -> None:
        scheme, _, value = header.partition(" ")
        if not header:
            raise V1Error(401, "Missing access token: send 'Authorization: Bearer <token>'.")
        if scheme.lower() != "bearer" or value.strip() != self.token:
            raise V1Error(401, "Invalid access token.")

    def _check_rate(self) -> dict[str, str]:
        with self._knob_lock:
            if self._limit is None:
                return {}
            limit, window_s = self._limit
            start, calls = self._window
            now = time.monotonic()
            if now - start >= window_s:
                start, calls = now, 0
            calls += 1
            self._window = (start, calls)
        reset = str(max(1, math.ceil(start + window_s - now)))
        headers = {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(max(0, limit - calls)),
                   "x-ratelimit-reset": reset}
        if calls > limit:
            raise V1Error(429, f"Too many requests: at most {limit} per {window_s:g} s.", headers=headers)
        return headers

    def _check_faults(self) -> None:
        with self._knob_lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            raise V1Error(fault[0], fault[1], headers=fault[2])

    def _record(self, method: str, path: str, query: dict[str, str], environ: Mapping[str, Any],
                raw: bytes, data: bytes, status: int, endpoint: str | None, t0: float) -> None:
        entry = Exchange(method, path, status, handler=endpoint, query=query, source="v1")
        entry.headers = self._masker.headers(
            {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")})
        entry.keep_bodies(raw, data, self._masker)
        entry.total_ms = entry.handler_ms = (time.perf_counter() - t0) * 1000
        if status >= 400:
            entry.error = _message(data)
        self.log.record(entry)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<V1Emulator bot {self.bot_id!r}: {len(self.store)} conversations, {state}>"


def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
    allowed: list[str] = []
    for methods, pattern, endpoint in ROUTES:
        m = pattern.match(path)
        if m:
            if method in methods:
                return endpoint, m.groupdict()
            allowed += methods
    if allowed:
        raise V1Error(405, f"{method} is not allowed on {path} (use {', '.join(allowed)}).")
    raise V1Error(404, f"No V1 endpoint at {path}.")


def _version(query: Mapping[str, str], required: bool) -> str:
    version = query.get("version", "")
    if not version and not required:
        return ""
    if version not in ("DRAFT", "LIVE"):
        raise V1Error(400, f"Query parameter version must be DRAFT or LIVE, got {version!r}.")
    return version


def _message(data: bytes) -> str:
    try:
        return str(json.loads(data)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return data.decode(errors="replace")[:200]


_PHRASES = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@atexit.register
def _stop_all() -> None:
    for emulator in list(_running):
        emulator.stop()
