"""The webhook channel of :class:`toolkit.V1Emulator`: Chatlayer's side of ``toolkit.LiveBot``, offline.

A user message injected with ``POST /v1/channels/webhook/{channelId}/messages`` is answered
``EVENT_RECEIVED`` at once; a delivery thread then runs the emulated flow for it (one
:class:`~toolkit.Conversation` per ``user.id``, API steps to the backend), records the bot's answers
and POSTs each one, in the outbound Messenger-like format with the verify token, to the channel's
webhook URL (retried up to 3 times on a failure, as the legacy docs say the channel does).
A body names its user with ``user`` or, as Botium sends it, ``conversationId`` (contract 8.3).
A postback button's payload is the JSON a click sends back, ``{nextDialogstateId, sessionDataToSet?}``
(contract 8.4); a click ``{title, nextDialogstateId?, sessionDataToSet?}`` is matched to the button
offered with that title and block.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from ..emulator.conversation import Conversation
from ..emulator.transcript import Turn
from ..errors import ToolkitError, V1Error
from ..wire.webhook import inbound_kind, outbound_body, payload_members, to_outbound, user_of
from .serial import SerialWorker

logger = logging.getLogger("toolkit")
RETRIES = 3
KEEP = 10_000  # items kept in each store of a channel (the oldest are dropped and counted)


class WebhookChannel:
    """One emulated webhook channel: ``flow`` answers, ``backend`` serves its API steps.

    ``received`` holds every injected body, ``sent`` every outbound body (POSTed when ``webhook_url``
    is set), ``errors`` what went wrong (an unknown button, a webhook URL that failed). Each keeps the
    newest ``KEEP`` items, as do the conversations (by user) and button payloads: older ones are
    dropped and counted in ``dropped`` (shown in the repr), so a flood of calls cannot fill memory.
    """

    def __init__(self, channel_id: str, flow: Any, backend: Any = None, *, webhook_url: str | None = None,
                 verify_token: str = "", **session_options: Any) -> None:
        self.channel_id, self.flow, self.backend = channel_id, flow, backend
        self.webhook_url = webhook_url
        self.verify_token = verify_token
        self.session_options = session_options
        self.conversations: dict[str, Conversation] = {}
        self.received: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._work: SerialWorker[dict[str, Any]] = SerialWorker(
            self._answer, name="toolkit-v1-channel", what=f"Webhook channel {channel_id!r} on a message")
        self._closed = threading.Event()
        self._http: Any = None
        self.dropped = 0  # items dropped from the bounded stores above, oldest first

    def _keep(self, items: list[Any], item: Any) -> None:
        """Append ``item``, dropping (and counting) the oldest beyond ``KEEP``."""
        items.append(item)
        if len(items) > KEEP:
            del items[0]
            self.dropped += 1

    def _trim(self, mapping: dict[str, Any]) -> None:
        while len(mapping) > KEEP:  # dicts keep insertion order: the oldest goes first
            del mapping[next(iter(mapping))]
            self.dropped += 1

    # --- the V1 endpoint -----------------------------------------------------------------------------

    def inject(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Check an injected body, queue it and answer ``{"message": "EVENT_RECEIVED"}``."""
        if self.flow is None:
            raise V1Error(409, f"Webhook channel {self.channel_id!r} has no flow to answer with.",
                          hint="api.webhook_channel(channel_id, flow, backend) gives it one.")
        try:
            inbound_kind(body.get("message"))
        except ValueError as exc:
            raise V1Error(400, str(exc), hint="E.g. {'message': {'textMessage': {'text': 'hi'}}, "
                          "'user': {'id': 'user-1'}}.") from None
        if user_of(body) is None:
            raise V1Error(400, "'user' with an 'id', or a 'conversationId', is required (the conversation's "
                          "user).", hint="E.g. 'user': {'id': 'user-1', 'firstName': 'Ada'}, or "
                          "'conversationId': 'user-1'.")
        if not isinstance(body.get("sessionData", {}), Mapping):
            raise V1Error(400, "'sessionData' must be an object of variables.",
                          hint="E.g. 'sessionData': {'order.id': 'A-1042'} (dotted paths allowed).")
        if self._work.pending() >= KEEP:  # answering lags far behind: refuse rather than queue forever
            raise V1Error(429, f"Webhook channel {self.channel_id!r} has {KEEP:,} messages waiting to be "
                          "answered.",
                          hint="Send more slowly (wait for the answers: channel.wait()), as with Chatlayer's "
                          "rate limits.")
        self._keep(self.received, dict(body))
        self._work.put(dict(body))
        return {"message": "EVENT_RECEIVED"}

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every injected message has been answered and delivered (True), or ``timeout``."""
        return self._work.wait(timeout)

    def idle(self) -> bool:
        """Whether every injected message has been answered and delivered (LiveBot's ``settled``)."""
        return self._work.idle()

    def close(self) -> None:
        """Stop retrying deliveries (queued messages are still answered)."""
        self._closed.set()

    def conversation(self, user_id: str) -> Conversation:
        """The emulated conversation of ``user_id`` (KeyError naming the known users)."""
        if user_id not in self.conversations:
            raise KeyError(f"No conversation for user {user_id!r} (users: {', '.join(self.conversations)}).")
        return self.conversations[user_id]

    def answers(self, user_id: str) -> list[dict[str, Any]]:
        """Every bot message sent to ``user_id``, as ``{type, config}`` messages."""
        entries = self.conversation(user_id).transcript
        return [e["message"] for e in entries if e.get("sender") == "bot"]

    # --- answering --------------------------------------------------------------------------------------

    def _answer(self, body: Mapping[str, Any]) -> None:
        user = user_of(body) or {}
        user_id = str(user.pop("id"))
        conv = self._conversation_of(user_id, user)
        for path, value in (body.get("sessionData") or {}).items():
            conv.session.set(str(path), value)
        try:
            turn = self._act(conv, body["message"])
        except ToolkitError as exc:
            self._keep(self.errors, f"user {user_id!r}: {exc.message}")
            return
        for message in turn.messages:
            for item in to_outbound(message):
                self._deliver(outbound_body(user_id, self.verify_token, item))

    def _conversation_of(self, user_id: str, user: Mapping[str, Any]) -> Conversation:
        conv = self.conversations.get(user_id)
        if conv is None:
            options = {"channel": "webHook", **self.session_options}
            if user:
                options.setdefault("user", dict(user))
            conv = Conversation(self.flow, self.backend, session_id=user_id, start=False, trace_turns=False,
                                **options)
            self.conversations[user_id] = conv
            self._trim(self.conversations)
        return conv

    def _act(self, conv: Conversation, message: Mapping[str, Any]) -> Turn:
        kind = inbound_kind(message)
        body = message[kind]
        if kind == "introMessage":
            return conv.start()
        if kind == "textMessage":
            return conv.say(str(body.get("text", "")))
        if kind == "locationMessage":
            return conv.share_location(body.get("latitude", body.get("lat")),
                                       body.get("longitude", body.get("long", body.get("lon"))))
        title, carried = str(body.get("title", "")), payload_members(body)
        target = carried.get("nextDialogstateId")
        leading = [c for c in conv.choices()
                   if target and payload_members(c.item.get("payload")).get("nextDialogstateId") == target]
        exact = [c for c in leading if payload_members(c.item.get("payload")) == carried]
        named = [c for c in exact + leading if not title or c.title == title]
        hit = named[0] if named else None
        return conv.click(hit.title if hit else title, card=hit.card if hit else None)

    def _deliver(self, body: dict[str, Any]) -> None:
        self._keep(self.sent, body)
        if not self.webhook_url:
            return
        import requests

        if self._http is None:
            self._http = requests.Session()
        problem = ""
        for attempt in range(RETRIES + 1):
            if attempt and self._closed.wait(0.05 * 2 ** attempt):
                break
            try:
                answer = self._http.post(self.webhook_url, json=body, timeout=10)
            except requests.RequestException as exc:
                problem = f"{type(exc).__name__}"
                continue
            if answer.ok:
                return
            problem = f"answered {answer.status_code}"
        self._keep(self.errors, f"Delivery to {self.webhook_url} failed after {RETRIES} retries: {problem}.")

    def __repr__(self) -> str:
        dropped = f", {self.dropped} dropped (oldest first)" if self.dropped else ""
        return f"<WebhookChannel {self.channel_id!r}: {len(self.conversations)} conversations{dropped}>"
