"""The in-memory side of :class:`toolkit.V1Emulator`: conversations, their session data and messages,
and the answer of each V1 endpoint.

Response shapes the sources do not show are assumptions, kept simple: lists come as ``{"data": [...]}``
(as the Pipedream Chatlayer app reads them), a push answers ``{"sessionId", "sent"}``, session data is
the session object itself, NLP extract answers the shape of ``internal.nlp`` (contract §1.4).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import V1Error
from ..wire.v1format import from_v1
from .serial import SerialWorker

_ids = itertools.count(1)
KEEP = 10_000  # conversations kept, and events per conversation: the oldest are dropped (Store.dropped)
logger = logging.getLogger("toolkit")


@dataclass
class V1Conversation:
    """One conversation of the emulated API. ``chat`` is an attached emulator conversation, if any.

    Pushed messages reach the chat on a short-lived delivery thread, in order: the emulator answers
    the push at once, as Chatlayer queues it, and a push made while the chat is in an API step (even
    by that step's own handler) waits for the step's answer instead of blocking it.
    """

    session_id: str
    version: str = "DRAFT"
    user: dict[str, Any] = field(default_factory=dict)
    session: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    chat: Any = None
    updated: float = field(default_factory=time.time)
    dropped: int = 0  # pushed events dropped, oldest first (at most KEEP are kept)
    _work: SerialWorker[list[dict[str, Any]]] | None = field(default=None, repr=False)
    _seen: list[dict[str, Any]] = field(default_factory=list, repr=False)  # the chat's transcript

    def deliver(self, messages: list[dict[str, Any]]) -> None:
        """Add pushed messages; an attached chat shows them in its transcript."""
        now = time.time()
        self.events += [{"id": next(_ids), "sender": "bot", "source": "push", "message": m,
                         "createdAt": _iso(now)} for m in messages]
        self.dropped += max(len(self.events) - KEEP, 0)
        del self.events[:-KEEP]
        self.updated = now
        if self.chat is None:
            return
        if self._work is None:
            self._work = SerialWorker(lambda batch: self.chat.receive(batch, source="push"),
                                      name="toolkit-v1-delivery",
                                      what=f"Delivering pushed messages to conversation {self.session_id!r}")
        self._work.put(messages)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every pushed message has reached the chat (True) or ``timeout`` passed."""
        return self._work is None or self._work.wait(timeout)

    def watch(self) -> None:
        """Keep a copy of the chat's transcript after each change (read without the chat's lock)."""
        self._seen = self.chat.transcript
        self.chat.subscribe(lambda: setattr(self, "_seen", self.chat.transcript))

    def session_data(self) -> dict[str, Any]:
        if self.chat is None:
            return self.session
        return dict(self.chat.session.to_dict())

    def delete_session_data(self) -> None:
        if self.chat is None:
            self.session.clear()
        else:
            self.chat.session.clear()

    def pushed_messages(self) -> list[dict[str, Any]]:
        return [e["message"] for e in self.events if e["source"] == "push"]

    def history(self) -> list[dict[str, Any]]:
        """Every message: the chat's transcript when attached, else what was pushed."""
        if self.chat is None:
            return list(self.events)
        return [{"id": i, **entry} for i, entry in enumerate(self._seen, 1)]

    def summary(self) -> dict[str, Any]:
        return {"sessionId": self.session_id, "user": {"sessionId": self.session_id, **self.user},
                "version": self.version, "channel": "emulator", "updatedAt": _iso(self.updated)}


class Store:
    """Conversations by session id, and one method per endpoint: ``(status, body)``."""

    def __init__(self) -> None:
        self._conversations: dict[str, V1Conversation] = {}
        self._lock = threading.RLock()
        self.dropped = 0  # conversations dropped, oldest first (at most KEEP are kept)

    def _trim(self) -> None:
        """Drop the oldest conversations beyond ``KEEP`` (call with the lock held)."""
        while len(self._conversations) > KEEP:
            del self._conversations[next(iter(self._conversations))]
            self.dropped += 1

    def __len__(self) -> int:
        return len(self._conversations)

    def attach(self, chat: Any, session_id: str | None, version: str | None) -> str:
        sid = str(session_id or chat.session_id)
        internal = getattr(getattr(chat, "session", None), "internal", {})
        version = version or internal.get("version", "DRAFT")
        with self._lock:
            conv = self._conversations.get(sid)
            if conv is None or conv.chat is not chat:
                conv = V1Conversation(sid, version, dict(internal.get("user") or {}), chat=chat)
                if hasattr(chat, "subscribe"):
                    conv.watch()
            conv.version = version
            self._conversations[sid] = conv
            self._trim()
        return sid

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every pushed message has reached its chat (True), or ``timeout`` passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            conversations = list(self._conversations.values())
        return all(c.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
                   for c in conversations)

    def add(self, session_id: str, session: Any, version: str,
            user: Mapping[str, Any] | None) -> V1Conversation:
        if not isinstance(session, Mapping | None) and hasattr(session, "data"):  # a toolkit.Session
            internal = getattr(session, "internal", None)
            if user is None and internal is not None and getattr(internal, "user", None):
                user = dict(internal.user)
            session = session.data
        if not isinstance(session, Mapping | None):
            raise TypeError(f"add_conversation() takes the session as a dict or a toolkit.Session, got "
                            f"{type(session).__name__}.")
        with self._lock:
            conv = V1Conversation(session_id, version, dict(user or {}), dict(session or {}))
            self._conversations[session_id] = conv
            self._trim()
        return conv

    def get(self, session_id: str, version: str = "") -> V1Conversation:
        with self._lock:
            conv = self._conversations.get(session_id)
            known = sorted(self._conversations)
        if conv is None or (version and conv.version != version):
            where = f" in {version}" if version else ""
            shown = ", ".join(known[:5]) or "none yet"
            raise V1Error(404, f"Conversation {session_id!r} not found{where} (known: {shown}).",
                          hint="Send {internal.sessionId} and {internal.version} from the API step, or "
                          "api.attach(conversation) / api.add_conversation(session_id) first.")
        return conv

    # --- endpoints --------------------------------------------------------------------------------

    def actions(self, *, params: Mapping[str, str], version: str, body: Mapping[str, Any],
                **_: Any) -> tuple[int, Any]:
        conv = self.get(params["sid"], version)
        items = body.get("sendMessages")
        unknown = sorted(set(body) - {"sendMessages"})
        if unknown:
            raise V1Error(400, f"The emulated API only knows sendMessages; got {', '.join(unknown)}.",
                          hint="Chatlayer documents no other action; send {\"sendMessages\": [...]}.")
        if not isinstance(items, list) or not items:
            raise V1Error(400, "Body must be {\"sendMessages\": [...]} with at least one message.",
                          hint="E.g. client.push(session_id, 'Done!').")
        try:
            messages = [from_v1(item) for item in items]
        except ValueError as exc:
            raise V1Error(400, str(exc), hint="Build messages with toolkit.text(...) and the other "
                          "builders; ChatlayerClient.push converts them.") from None
        with self._lock:
            conv.deliver(messages)
        return 200, {"sessionId": conv.session_id, "sent": len(messages)}

    def session_data(self, *, method: str, params: Mapping[str, str], version: str,
                     **_: Any) -> tuple[int, Any]:
        conv = self.get(params["sid"], version)
        if method == "DELETE":
            conv.delete_session_data()
            return 200, {}
        return 200, conv.session_data()

    def messages(self, *, params: Mapping[str, str], version: str, **_: Any) -> tuple[int, Any]:
        return 200, {"data": self.get(params["sid"], version).history()}

    def conversations(self, *, version: str, **_: Any) -> tuple[int, Any]:
        with self._lock:
            convs = [c for c in self._conversations.values() if c.version == version]
        return 200, {"data": [c.summary() for c in convs]}


def nlp_extract(body: Mapping[str, Any], flow: Any) -> dict[str, Any]:
    """``POST /v1/bots/{botId}/nlp/extract`` with ``{language, expression}``: the intent ``flow`` matches
    (none without a flow), in the shape real clients read (contract 8.2)::

        {"extract": {"query", "language", "intent": name | None, "score",
                     "intents": [{"intent", "score"}],
                     "entities": [{"name", "value", "score", "startIndex", "endIndex", "systemEntity"}]}}

    Entities and sentiment are not emulated (``entities`` is empty)."""
    expression = body.get("expression") if isinstance(body, Mapping) else None
    if not isinstance(expression, str) or not expression.strip():
        raise V1Error(400, "Body must have an 'expression' (the text to understand), a non-empty string.",
                      hint="E.g. client.nlp_extract('where is my order', language='en').")
    intent = flow.match(expression) if flow is not None else None
    name = getattr(intent, "name", None)
    score = 1.0 if name else 0.0
    return {"extract": {"query": expression, "language": str(body.get("language") or "en"),
                        "intent": name, "score": score,
                        "intents": [{"intent": name, "score": score}] if name else [], "entities": []}}


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
