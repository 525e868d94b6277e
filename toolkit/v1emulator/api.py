"""``toolkit.V1Emulator``: Chatlayer's V1 REST API, emulated on loopback, so long-running handlers,
tests and notebooks never need the real service.

It is an :class:`~toolkit.App` whose handlers are the V1 endpoints, served by the same ``app.serve()``
as any app: one router, one error shape (``{"error": {status, type, message, handler, hint}}``),
one log (``api.log``, and ``api.log_view()`` like any app's). Same paths, same Bearer auth and
``?version=`` as the real API (contract §5). Conversations live in memory; an emulator conversation
attached with :meth:`V1Emulator.attach` receives pushed messages in its transcript, as Chatlayer
would show them. A webhook channel (:meth:`V1Emulator.webhook_channel`) runs an emulated flow for
each injected user message and POSTs the bot's answers to a webhook URL. Knobs for failure paths:
:meth:`~V1Emulator.rate_limit` (429 with ``x-ratelimit-*`` headers), :meth:`~V1Emulator.fail_next`
and ``delay_s`` (slow answers).

>>> api = V1Emulator("demo-bot", token="test-token")
>>> api
<V1Emulator bot 'demo-bot': 0 conversations, stopped>
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..app import App
from ..chatlayer.client import ChatlayerClient
from ..errors import ConfigError, V1Error
from ..reply import JsonAnswer
from ..request import Request
from ..wire.webhook import payload_members, postback_message, text_message
from .channel import WebhookChannel
from .store import Store, V1Conversation, nlp_extract

# (path, methods, endpoint, ?version= required)
ROUTES: tuple[tuple[str, tuple[str, ...], str, bool | None], ...] = (
    ("/v1/bots", ("GET",), "bots", False),
    ("/v1/bots/<bot>/conversations", ("GET",), "conversations", True),
    ("/v1/bots/<bot>/conversations/<sid>/actions", ("POST",), "actions", True),
    ("/v1/bots/<bot>/conversations/<sid>/session-data", ("GET", "DELETE"), "session_data", True),
    ("/v1/bots/<bot>/conversations/<sid>/messages", ("GET",), "messages", False),
    ("/v1/bots/<bot>/nlp/extract", ("POST",), "nlp_extract", False),
    ("/v1/channels/webhook/<channel>/messages", ("POST",), "webhook_message", None),
    ("/api/webhookMessage/<bot>", ("POST",), "legacy_message", None),  # the deprecated legacy API
)
Clock = Callable[[], float]


class V1Emulator(App):
    """An emulated V1 API for bot ``bot_id`` that accepts ``Authorization: Bearer <token>``.

    ``api.start()`` serves it on ``127.0.0.1`` (a free port; ``api.url``); ``api.client()`` is a
    :class:`toolkit.ChatlayerClient` pointed at it. ``api.log`` records every call made to it.
    Starting again (a re-run cell) first stops the emulator of the same bot that was running.
    ``clock`` (default ``time.time``) is what the rate limit counts its window with: tests pass
    their own, so a limit never depends on how fast the machine is.
    """

    def __init__(self, bot_id: str = "emulated-bot", *, token: str = "emulator-token",
                 delay_s: float = 0.0, clock: Clock = time.time, flow: Any = None) -> None:
        if not token:
            raise ConfigError("V1Emulator needs a token (what 'Authorization: Bearer <token>' must carry).",
                              hint="E.g. V1Emulator('my-bot', token='test-token').")
        super().__init__(f"v1-emulator-{bot_id}", auth_bearer=token)
        self.bot_id = bot_id
        self.delay_s = delay_s
        self.clock = clock
        self.flow = flow  # what NLP extract matches intents with (else a channel's flow)
        self.store = Store()
        self.channels: dict[str, WebhookChannel] = {}
        self._stopped = threading.Event()
        self._limit: tuple[int, float] | None = None
        self._window = (0.0, 0)  # start, calls
        self._faults: list[tuple[int, str, dict[str, str]]] = []
        self._knob_lock = threading.Lock()
        for path, methods, endpoint, version in ROUTES:
            self.add_handler(path, self._endpoint(endpoint, path, version), methods=methods)

    @property
    def token(self) -> str:
        """The access token it accepts (the app's ``auth_bearer`` setting)."""
        return str(self.settings.auth_bearer)

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self, port: int = 0) -> V1Emulator:
        """Serve on ``127.0.0.1:port`` (0: a free port), as ``app.serve()`` does. Returns the emulator.

        It starts under ``toolkit serve`` too, where a notebook's own ``app.serve()`` is inert: the
        served handlers may push through its client, as they did in the notebook.
        """
        from ..server.lifecycle import serve

        self._stopped.clear()
        serve(self, "127.0.0.1", port)
        return self

    def stop(self) -> None:
        """Stop serving and the channels' deliveries (safe to call twice)."""
        self._stopped.set()
        for channel in list(self.channels.values()):
            channel.close()
        if self.server is not None:
            self.server.stop()

    @property
    def running(self) -> bool:
        return self.server is not None and self.server.running

    @property
    def url(self) -> str:
        """The base URL to give ``ChatlayerClient(base_url=...)``."""
        if self.server is None:
            raise RuntimeError("The emulated API is not running: call api.start() first.")
        return self.server.url

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

    def attach(self, conversation: Any, session_id: str | None = None, *, version: str | None = None) -> None:
        """Let pushes to ``session_id`` arrive in an emulator conversation (nothing is returned, so a
        cell ending with it prints nothing).

        ``session_id`` and ``version`` default to the conversation's own (what ``{internal.sessionId}``
        and ``{internal.version}`` send). Pushed messages reach its transcript (and chat view) in order.
        """
        self.store.attach(conversation, session_id, version)

    def wait(self, timeout: float | None = 5.0) -> bool:
        """Wait until every pushed message has reached its conversation and every channel has
        delivered its answers; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        return self.store.wait(left()) and all(c.wait(left()) for c in list(self.channels.values()))

    def add_conversation(self, session_id: str, session: Mapping[str, Any] | Any = None, *,
                         version: str = "DRAFT", user: Mapping[str, Any] | None = None) -> V1Conversation:
        """A conversation without an emulator chat (its pushed messages are kept in memory).
        ``session`` is a dict of variables or a :class:`toolkit.Session` (its variables and user)."""
        return self.store.add(session_id, session, version, user)

    def pushed(self, session_id: str) -> list[dict[str, Any]]:
        """The messages pushed into ``session_id`` so far, as ``{type, config}`` messages."""
        return self.store.get(session_id).pushed_messages()

    def webhook_channel(self, channel_id: str = "webhook-channel", flow: Any = None, backend: Any = None, *,
                        webhook_url: str | None = None, verify_token: str = "emulator-verify-token",
                        **session_options: Any) -> WebhookChannel:
        """A webhook channel of this bot: ``POST /v1/channels/webhook/{channel_id}/messages`` injects a
        user message, ``flow`` answers it (API steps to ``backend``) and the answers are POSTed to
        ``webhook_url`` (settable later) in Chatlayer's outbound format with ``verify_token``."""
        old = self.channels.get(channel_id)
        if old is not None:
            old.close()
        channel = WebhookChannel(channel_id, flow, backend, webhook_url=webhook_url,
                                 verify_token=verify_token, **session_options)
        self.channels[channel_id] = channel
        return channel

    # --- knobs ------------------------------------------------------------------------------------------

    def rate_limit(self, limit: int | None, window_s: float = 60.0) -> None:
        """Answer 429 once more than ``limit`` calls arrive in ``window_s`` (None: no limit).

        Every answer then carries ``x-ratelimit-limit``, ``x-ratelimit-remaining`` and
        ``x-ratelimit-reset``: the Unix time (seconds) at which the window resets, as Chatlayer's
        docs give it. The window is measured with ``clock``.
        """
        with self._knob_lock:
            self._limit = None if limit is None else (int(limit), float(window_s))
            self._window = (self.clock(), 0)

    def fail_next(self, status: int, times: int = 1, message: str = "Emulated failure",
                  headers: Mapping[str, str] | None = None) -> None:
        """Answer the next ``times`` calls with ``status`` (e.g. 500, 503, 429), ``message`` and
        ``headers`` (e.g. ``{"Retry-After": "0"}``)."""
        with self._knob_lock:
            self._faults += [(int(status), message, dict(headers or {}))] * times

    def reset(self) -> None:
        """Forget conversations, channels, knobs and the log."""
        with self._knob_lock:
            self._limit, self._faults = None, []
        for channel in list(self.channels.values()):
            channel.close()
        self.channels.clear()
        self.store = Store()
        self.log.clear()
        self.delay_s = 0.0

    # --- the endpoints ----------------------------------------------------------------------------------

    def _endpoint(self, name: str, path: str, version: bool | None) -> Callable[..., JsonAnswer]:
        keys = [part[1:-1] for part in path.split("/") if part.startswith("<")]

        def endpoint(request: Request, **values: Any) -> JsonAnswer:
            params = {k: str(values[k]) for k in keys}
            headers = self._check_rate()
            self._check_faults(headers)
            if self.delay_s:
                self._stopped.wait(self.delay_s)
            if "bot" in params and params["bot"] != self.bot_id:
                raise V1Error(404, f"Bot {params['bot']!r} not found (this emulator serves {self.bot_id!r}).",
                              hint="Use the bot id the emulator was made with.", headers=headers)
            status, body = self._dispatch(name, request, params, version, headers)
            return JsonAnswer(body, status, headers)

        endpoint.__name__ = endpoint.__qualname__ = name
        return endpoint

    def _dispatch(self, name: str, request: Request, params: dict[str, str], version_required: bool | None,
                  headers: dict[str, str]) -> tuple[int, Any]:
        try:
            version = "" if version_required is None else _version(request.query, version_required)
            if name == "bots":  # a bare array, as real clients read it (contract 8.7)
                return 200, [{"id": self.bot_id, "name": self.bot_id}]
            if name == "nlp_extract":
                return 200, nlp_extract(request.body, self.flow or self._channel_flow())
            if name == "webhook_message":
                return 200, self._channel(params["channel"]).inject(request.body)
            if name == "legacy_message":
                return 200, self._legacy(request.body)
            handler = getattr(self.store, name)
            return handler(method=request.method, params=params, version=version, body=request.body)
        except V1Error as exc:
            exc.headers = {**headers, **exc.headers}
            raise

    def _channel(self, channel_id: str) -> WebhookChannel:
        channel = self.channels.get(channel_id)
        if channel is None:
            known = ", ".join(sorted(self.channels)) or "none yet"
            raise V1Error(404, f"No webhook channel {channel_id!r} (channels: {known}).",
                          hint="Create it with api.webhook_channel(channel_id, flow, backend).")
        return channel

    def _legacy(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The deprecated legacy API's ``{sender: {id}, text, verifyToken}``, for the channel with that
        verify token. A text that is a payload's JSON (``{"nextDialogstateId", ...}``) is a click."""
        if not isinstance(body, Mapping):
            raise V1Error(400, "The body must be a JSON object {sender: {id}, text, verifyToken}.",
                          hint="E.g. {'sender': {'id': 'user-1'}, 'text': 'hi', 'verifyToken': '...'}.")
        token = str(body.get("verifyToken") or "")
        channel = next((c for c in self.channels.values()
                        if token and hmac.compare_digest(c.verify_token, token)), None)
        if channel is None:
            raise V1Error(403, "No webhook channel has this verifyToken.",
                          hint="Send the channel's verify token (api.webhook_channel(..., verify_token=)).")
        sender = body.get("sender")
        user = {"id": str(sender.get("id") or "")} if isinstance(sender, Mapping) else {}
        said = str(body.get("text") or "")
        carried = payload_members(said) if said.lstrip().startswith("{") else {}
        message = (postback_message("", next_dialogstate_id=carried.get("nextDialogstateId"),
                                    params=carried.get("sessionDataToSet") or ())
                   if carried else text_message(said))
        return channel.inject({"message": message, "user": user})

    def _channel_flow(self) -> Any:
        return next((c.flow for c in self.channels.values() if c.flow is not None), None)

    def _check_rate(self) -> dict[str, str]:
        with self._knob_lock:
            if self._limit is None:
                return {}
            limit, window_s = self._limit
            start, calls = self._window
            now = self.clock()
            if now - start >= window_s:
                start, calls = now, 0
            calls += 1
            self._window = (start, calls)
        headers = {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(max(0, limit - calls)),
                   "x-ratelimit-reset": str(math.ceil(start + window_s))}
        if calls > limit:
            raise V1Error(429, f"Too many requests: at most {limit} per {window_s:g} s.",
                          hint="Wait until the time in x-ratelimit-reset (a Unix time), or make fewer calls.",
                          headers=headers)
        return headers

    def _check_faults(self, headers: dict[str, str]) -> None:
        with self._knob_lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            raise V1Error(fault[0], fault[1], hint="Set by api.fail_next(...).",
                          headers={**headers, **fault[2]})

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        dropped = f" ({self.store.dropped} oldest dropped)" if self.store.dropped else ""
        return f"<V1Emulator bot {self.bot_id!r}: {len(self.store)} conversations{dropped}, {state}>"


def _version(query: Mapping[str, str], required: bool) -> str:
    version = query.get("version", "")
    if not version and not required:
        return ""
    if version not in ("DRAFT", "LIVE"):
        raise V1Error(400, f"Query parameter version must be DRAFT or LIVE, got {version!r}.",
                      hint="Add ?version=DRAFT (the bot being built) or ?version=LIVE (the published one).")
    return version
