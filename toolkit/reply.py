"""Replies: the ``Reply`` type, turning whatever a handler returned into the wire dict, and the
validator every reply passes before it leaves (also used by the emulator on foreign backends).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ReplyError
from .jsonable import to_jsonable
from .messages import BUTTON_TYPES, LIST_SIZES, MEDIA_TYPES, MESSAGE_TYPES, text

ACCEPTED_FORMS = (
    "toolkit.Reply(...), a reply dict {session, messages, action: {nextDialogstate}}, a str "
    "(one text message), one message such as toolkit.text(...), a list of messages, or None"
)
REPLY_KEYS = ("session", "messages", "action", "nextDialogstate")
LIST_NOTICE = (
    "A 'list' message was sent. Chatlayer names the type but never published its config for the API "
    "step; toolkit sends its best guess (the V1 listTemplate shape: elements, an optional button). "
    "Check it renders in your bot's channel before relying on it."
)


@dataclass
class Reply:
    """What a handler answers: session data (stored first), messages (sent second), and the
    block to move the user to (last).

    ``session`` is ``{"namespace": "order", "data": {...}}`` or the short form ``{"order": {...}}``.
    ``messages`` items may be builders' dicts or plain strings (one text message each).

    ``next_dialogstate=None`` (or ``""``, which the app drops with a warning) means no redirect.

    >>> Reply(messages=["Hi"], next_dialogstate="b1").to_wire()["action"]
    {'nextDialogstate': 'b1'}
    """

    session: Mapping[str, Any] | None = None
    messages: list[Any] = field(default_factory=list)
    next_dialogstate: str | None = None

    def to_wire(self, redirect_form: str = "action") -> dict[str, Any]:
        """The JSON-ready reply, redirect written as ``redirect_form`` says."""
        wire: dict[str, Any] = {}
        if self.session is not None:
            wire["session"] = _session(self.session)
        if self.messages:
            wire["messages"] = [text(m) if isinstance(m, str) else m for m in self.messages]
        if self.next_dialogstate is not None:
            wire.update(redirect(self.next_dialogstate, redirect_form))
        return wire


def redirect(target: str, form: str = "action") -> dict[str, Any]:
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


def normalize(value: Any, *, handler: str, redirect_form: str = "action") -> dict[str, Any]:
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


# --- what is dropped rather than refused ------------------------------------------------------


def tidy(wire: Any) -> tuple[Any, list[str]]:
    """``wire`` without what Chatlayer cannot use but need not fail the reply, and a warning for each.

    Dropped: unknown top-level keys (e.g. ``"success": true`` of hand-written backends; the value is
    never quoted, it may be a secret) and an empty redirect (``""``: no block to go to, so no
    redirect). ``None`` as a redirect is simply no redirect. ``wire`` itself is not changed.
    """
    if not isinstance(wire, Mapping):
        return wire, []
    out, warnings = dict(wire), []
    for key in [k for k in out if k not in REPLY_KEYS and k not in ("type", "config")]:
        kind = _json_kind(out.pop(key))
        close = difflib.get_close_matches(str(key), REPLY_KEYS, n=1)
        guess = f" Did you mean {close[0]!r}?" if close else ""
        warnings.append(f"Dropped the top-level key {key!r} ({kind}): a reply holds only session, messages "
                        "and action.nextDialogstate, and Chatlayer documents no other key, so the reply "
                        f"was sent without it.{guess}")
    empty = []
    if "nextDialogstate" in out and _no_id(out["nextDialogstate"]):
        value = out.pop("nextDialogstate")
        empty += [] if value is None else [f"nextDialogstate {value!r}"]
    action = out.get("action")
    if isinstance(action, Mapping) and "nextDialogstate" in action and _no_id(action["nextDialogstate"]):
        value = action["nextDialogstate"]
        empty += [] if value is None else [f"action.nextDialogstate {value!r}"]
        rest = {k: v for k, v in action.items() if k != "nextDialogstate"}
        out.pop("action") if not rest else out.update(action=rest)
    if empty:
        warnings.append(f"Dropped the empty redirect ({' and '.join(empty)}): an empty block id cannot be "
                        "followed, so the reply was sent without a redirect. Return None for no redirect, "
                        "or a block id.")
    return out, warnings


def _no_id(value: Any) -> bool:
    """``None`` or a blank string: a redirect to nowhere."""
    return value is None or (isinstance(value, str) and not value.strip())


def _json_kind(value: Any) -> str:
    for kinds, name in ((bool, "a boolean"), (str, "a string"), (int | float, "a number"),
                        (Mapping, "an object"), (list | tuple, "an array")):
        if isinstance(value, kinds):
            return name
    return "null" if value is None else f"a {type(value).__name__}"


def has_list(wire: Any) -> bool:
    """Whether a reply sends a ``list`` message (its shape is a best guess: see ``LIST_NOTICE``)."""
    messages = wire.get("messages") if isinstance(wire, Mapping) else None
    return isinstance(messages, list) and any(isinstance(m, Mapping) and m.get("type") == "list"
                                              for m in messages)


# --- validation --------------------------------------------------------------------------------


def validate(wire: Any, *, max_bytes: int | None = None, handler: str | None = None,
             warnings: list[str] | None = None) -> dict[str, Any]:
    """Check a wire reply against the Chatlayer contract and return it as plain JSON.

    Raises :class:`ReplyError` with every problem found, each saying what to change. Accepts
    both redirect forms and the ``{type, config}`` messages that real backends send. Unknown
    top-level keys and an empty redirect are dropped (see :func:`tidy`), with a line added to
    ``warnings`` (a list) for each.
    """
    return encode(wire, handler=handler, max_bytes=max_bytes, warnings=warnings)[0]


def encode(wire: Any, *, handler: str | None = None, max_bytes: int | None = None,
           warnings: list[str] | None = None) -> tuple[Any, bytes]:
    """Tidy, validate and encode a wire reply: ``(plain JSON value, UTF-8 bytes)``.

    ``max_bytes`` (the ``max_reply_bytes`` setting) bounds the encoded size; what :func:`tidy` drops
    is told in ``warnings`` (a list, extended in place) when one is given.
    """
    wire, dropped = tidy(wire)
    if warnings is not None:
        warnings.extend(dropped)
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
        f"key {k!r} at the top of the reply: a message goes inside messages, e.g. "
        "{'messages': [toolkit.text('Hi')]}"
        for k in ("type", "config")
        if k in wire
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
    elif kind == "list":
        out += _list_message_problems(config)
    elif kind == "media":
        out += _media_problems(config)
    return out


def _media_problems(config: dict[str, Any]) -> list[str]:
    media = config.get("media")
    if not isinstance(media, dict) or not media.get("url"):
        return ["media message needs config.media with a url"]
    if media.get("type") not in MEDIA_TYPES:
        return [f"media type {media.get('type')!r} is not one of {', '.join(MEDIA_TYPES)}"]
    if "isCache" in media and not isinstance(media["isCache"], bool):
        return [f"media isCache must be true or false, got {media['isCache']!r}"]
    return []


def _list_message_problems(config: dict[str, Any]) -> list[str]:
    """The best-guess ``list`` config (V1 ``listTemplate``): elements as cards, an optional button."""
    out = _list_problems(config, "elements", _card_problems)
    if "button" in config:
        out += [f"list button: {p}" for p in _button_problems(config["button"])]
    if "size" in config and config["size"] not in LIST_SIZES:
        out.append(f"list size {config['size']!r} is not one of {', '.join(LIST_SIZES)}")
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
    return [f"unknown button type {kind!r} (use {', '.join(BUTTON_TYPES)})"]


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
