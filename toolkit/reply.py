"""Replies: the ``Reply`` type, turning whatever a handler returned into the wire dict, and the
validator every reply passes before it leaves (also used by the emulator on foreign backends).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ReplyError
from .jsonable import to_jsonable
from .messages import MEDIA_TYPES, MESSAGE_TYPES, text

ACCEPTED_FORMS = (
    "toolkit.Reply(...), a reply dict {session, messages, nextDialogstate/action}, a str "
    "(one text message), one message such as toolkit.text(...), a list of messages, or None"
)
REPLY_KEYS = ("session", "messages", "nextDialogstate", "action")


@dataclass
class Reply:
    """What a handler answers: session data (stored first), messages (sent second), and the
    block to move the user to (last).

    ``session`` is ``{"namespace": "order", "data": {...}}`` or the short form ``{"order": {...}}``.
    ``messages`` items may be builders' dicts or plain strings (one text message each).

    >>> Reply(messages=["Hi"], next_dialogstate="b1").to_wire("action")["action"]
    {'nextDialogstate': 'b1'}
    """

    session: Mapping[str, Any] | None = None
    messages: list[Any] = field(default_factory=list)
    next_dialogstate: str | None = None

    def to_wire(self, redirect_form: str = "both") -> dict[str, Any]:
        """The JSON-ready reply, redirect written as ``redirect_form`` says."""
        wire: dict[str, Any] = {}
        if self.session is not None:
            wire["session"] = _session(self.session)
        if self.messages:
            wire["messages"] = [text(m) if isinstance(m, str) else m for m in self.messages]
        if self.next_dialogstate is not None:
            wire.update(redirect(self.next_dialogstate, redirect_form))
        return wire


@dataclass
class JsonAnswer:
    """An answer that is not a Chatlayer reply: any JSON ``body`` with a ``status`` and ``headers``,
    sent as it is (the reply validator is skipped). For apps that are not API-step backends, such as
    the V1 emulator, or a health page.

    >>> JsonAnswer({"message": "EVENT_RECEIVED"}).status
    200
    """

    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The body as UTF-8 JSON bytes."""
        return json.dumps(to_jsonable(self.body), ensure_ascii=False).encode()


def redirect(target: str, form: str = "both") -> dict[str, Any]:
    """The redirect member(s) in the form the ``redirect_form`` setting picks."""
    out: dict[str, Any] = {}
    if form in ("both", "top"):
        out["nextDialogstate"] = target
    if form in ("both", "action"):
        out["action"] = {"nextDialogstate": target}
    return out


def _session(session: Mapping[str, Any]) -> dict[str, Any]:
    if set(session) == {"namespace", "data"}:
        return dict(session)
    if len(session) == 1:
        ((namespace, data),) = session.items()
        return {"namespace": namespace, "data": data}
    raise ReplyError(
        f"Reply session names {len(session)} namespaces ({', '.join(map(str, session))}); "
        "Chatlayer stores one namespace per reply.",
        hint="Put everything under one namespace, e.g. session={'order': {'status': ..., 'eta': ...}}.",
    )


def normalize(value: Any, *, handler: str, redirect_form: str = "both") -> dict[str, Any]:
    """Turn a handler's return value into the wire dict (not yet validated)."""
    if value is None:
        return {}
    if isinstance(value, Reply):
        return value.to_wire(redirect_form)
    if isinstance(value, str):
        return {"messages": [text(value)]}
    if isinstance(value, Mapping):
        if "type" in value and "config" in value:
            return {"messages": [dict(value)]}
        return _with_redirect_form(dict(value), redirect_form)
    if isinstance(value, list | tuple):
        return {"messages": [text(m) if isinstance(m, str) else m for m in value]} if value else {}
    raise ReplyError(
        f"Handler {handler!r} returned a {type(value).__name__}, which is not a reply.",
        hint=f"Return one of: {ACCEPTED_FORMS}.",
        handler=handler,
    )


def _with_redirect_form(wire: dict[str, Any], form: str) -> dict[str, Any]:
    target = redirect_target(wire)
    if target is None or not isinstance(target, str):
        return wire
    wire.pop("nextDialogstate", None)
    action = wire.pop("action", None)
    extra = {k: v for k, v in action.items() if k != "nextDialogstate"} if isinstance(action, dict) else {}
    wire.update(redirect(target, form))
    if extra:
        wire.setdefault("action", {}).update(extra)
    return wire


def redirect_target(wire: Mapping[str, Any]) -> Any:
    """The redirect of a wire reply in either form (``action.nextDialogstate`` or top-level)."""
    action = wire.get("action")
    nested = action.get("nextDialogstate") if isinstance(action, Mapping) else None
    return nested if nested is not None else wire.get("nextDialogstate")


# --- validation --------------------------------------------------------------------------------


def validate(wire: Any, *, max_bytes: int | None = None, handler: str | None = None) -> dict[str, Any]:
    """Check a wire reply against the Chatlayer contract and return it as plain JSON.

    Raises :class:`ReplyError` with every problem found, each saying what to change. Accepts
    both redirect forms and the ``{type, config}`` messages that real backends send.
    """
    return encode(wire, handler=handler, max_bytes=max_bytes)[0]


def encode(wire: Any, *, handler: str | None = None, max_bytes: int | None = None) -> tuple[Any, bytes]:
    """Validate a wire reply and encode it: ``(plain JSON value, UTF-8 bytes)``.

    ``max_bytes`` (the ``max_reply_bytes`` setting) bounds the encoded size.
    """
    try:
        data = json.dumps(wire, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):  # numpy / pandas values, NaN, timestamps: convert first
        try:
            wire = to_jsonable(wire)
        except ReplyError as exc:
            exc.handler = handler
            raise
        data = json.dumps(wire, ensure_ascii=False)
    problems = _reply_problems(wire)
    if problems:
        who = f"Handler {handler!r} returned an invalid reply" if handler else "Invalid reply"
        raise ReplyError(
            f"{who}: " + "; ".join(problems) + ".",
            hint="Build replies with toolkit.Reply and the message builders (toolkit.text, ...).",
            handler=handler,
        )
    encoded = data.encode()
    if max_bytes is not None and len(encoded) > max_bytes:
        of = f" of handler {handler!r}" if handler else ""
        raise ReplyError(
            f"The reply{of} is {len(encoded):,} bytes, over the max_reply_bytes limit of {max_bytes:,}.",
            hint="Send fewer or shorter messages (e.g. fewer carousel cards), or raise max_reply_bytes.",
            handler=handler,
        )
    return wire, encoded


def _reply_problems(wire: Any) -> list[str]:
    if not isinstance(wire, dict):
        return [f"a reply must be a JSON object, got {type(wire).__name__}"]
    out = [
        f"unknown key {k!r} (a reply may hold only {', '.join(REPLY_KEYS)}; to store data use "
        "Reply(session={'namespace': ..., 'data': ...}))"
        for k in wire
        if k not in REPLY_KEYS
    ]
    if "session" in wire:
        out += _session_problems(wire["session"])
    if "messages" in wire:
        msgs = wire["messages"]
        if not isinstance(msgs, list):
            out.append(f"messages must be a list, got {type(msgs).__name__}")
        else:
            for i, m in enumerate(msgs):
                out += [f"messages[{i}]: {p}" for p in message_problems(m)]
    out += _redirect_problems(wire)
    return out


def _session_problems(session: Any) -> list[str]:
    if isinstance(session, list):
        return [
            f"session holds {len(session)} namespaces; Chatlayer stores one namespace per reply: "
            "merge them under one namespace"
        ]
    if not isinstance(session, dict):
        return [f"session must be an object {{namespace, data}}, got {type(session).__name__}"]
    out = []
    missing = [k for k in ("namespace", "data") if k not in session]
    if missing:
        out.append(f"session is missing {' and '.join(missing)} (it needs both namespace and data)")
    extra = [k for k in session if k not in ("namespace", "data")]
    if extra:
        out.append(
            f"session has extra keys {', '.join(extra)}: one reply writes one namespace, "
            "put the values inside data"
        )
    ns = session.get("namespace")
    if "namespace" in session and (not isinstance(ns, str) or not ns):
        out.append("session.namespace must be a non-empty string")
    elif ns == "internal":
        out.append("session.namespace 'internal' is read-only in Chatlayer: choose another name")
    return out


def _redirect_problems(wire: dict[str, Any]) -> list[str]:
    out = []
    action = wire.get("action")
    if "action" in wire and not isinstance(action, dict):
        out.append("action must be an object {nextDialogstate: <block id>}")
        action = {}
    top, nested = wire.get("nextDialogstate"), (action or {}).get("nextDialogstate")
    for name, value in (("nextDialogstate", top), ("action.nextDialogstate", nested)):
        if value is not None and (not isinstance(value, str) or not value):
            out.append(f"{name} must be a block id string, got {value!r}")
    if top is not None and nested is not None and top != nested:
        out.append(f"nextDialogstate ({top!r}) and action.nextDialogstate ({nested!r}) differ: keep one")
    return out


def message_problems(message: Any) -> list[str]:
    """Problems with one ``{type, config}`` message (empty when it is valid)."""
    if not isinstance(message, dict):
        return [f"a message must be an object {{type, config}}, got {type(message).__name__}"]
    kind, config = message.get("type"), message.get("config")
    if kind not in MESSAGE_TYPES:
        return [f"unknown message type {kind!r} (use one of {', '.join(MESSAGE_TYPES)})"]
    if not isinstance(config, dict):
        return [f"{kind} message is missing its config object"]
    out: list[str] = []
    if kind in ("text", "buttons", "quickReplies"):
        out += _text_problems(config)
    if kind == "buttons":
        out += _list_problems(config, "buttons", _button_problems)
    elif kind == "quickReplies":
        out += _list_problems(config, "quickReplies", _quick_reply_problems)
    elif kind == "carousel":
        out += _list_problems(config, "elements", _card_problems)
    elif kind == "media":
        media = config.get("media")
        if not isinstance(media, dict) or not media.get("url"):
            out.append("media message needs config.media with a url")
        elif media.get("type") not in MEDIA_TYPES:
            out.append(f"media type {media.get('type')!r} is not one of {', '.join(MEDIA_TYPES)}")
    return out


def _text_problems(config: dict[str, Any]) -> list[str]:
    lines = config.get("textMessages")
    if not isinstance(lines, list) or not lines:
        return ["config.textMessages must be a non-empty list of {text}"]
    return [
        f"textMessages[{i}] needs a text string"
        for i, line in enumerate(lines)
        if not isinstance(line, dict) or not isinstance(line.get("text"), str)
    ]


def _list_problems(config: dict[str, Any], key: str, check: Any) -> list[str]:
    items = config.get(key)
    if not isinstance(items, list) or not items:
        return [f"config.{key} must be a non-empty list"]
    return [f"{key}[{i}]: {p}" for i, item in enumerate(items) for p in check(item)]


def _postback_problems(item: dict[str, Any]) -> list[str]:
    payload = item.get("payload")
    if not isinstance(payload, dict) or not payload.get("nextDialogstateId"):
        return [
            f"postback {item.get('title')!r} has no target: set payload.nextDialogstateId to a "
            "block id (toolkit.postback(title, target))"
        ]
    params = payload.get("params", [])
    if not isinstance(params, list) or any(not isinstance(p, dict) or "key" not in p for p in params):
        return ["postback params must be a list of {key, value}"]
    return []


def _button_problems(item: Any) -> list[str]:
    if not isinstance(item, dict):
        return ["a button must be an object"]
    kind = item.get("type")
    if not item.get("title"):
        return [f"{kind or 'button'} needs a title"]
    if kind == "postback":
        return _postback_problems(item)
    if kind == "web_url":
        return [] if item.get("url") else [f"web_url button {item['title']!r} needs a url"]
    if kind == "phone_number":
        return [] if isinstance(item.get("payload"), str) else [
            f"phone_number button {item['title']!r} needs the number as payload"
        ]
    return [f"unknown button type {kind!r} (use postback, web_url or phone_number)"]


def _quick_reply_problems(item: Any) -> list[str]:
    if not isinstance(item, dict):
        return ["a quick reply must be an object"]
    kind = item.get("type")
    if not item.get("title"):
        return [f"{kind or 'quick reply'} needs a title"]
    if kind == "postback":
        return _postback_problems(item)
    if kind == "location":
        return []
    return [f"unknown quick reply type {kind!r} (use postback or location)"]


def _card_problems(item: Any) -> list[str]:
    if not isinstance(item, dict) or not item.get("title"):
        return ["a carousel card needs a title"]
    found = item.get("buttons", [])
    if not isinstance(found, list):
        return ["card buttons must be a list"]
    return [f"buttons[{i}]: {p}" for i, b in enumerate(found) for p in _button_problems(b)]
