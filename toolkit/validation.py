"""The checks every reply passes before it leaves (and the emulator runs on foreign backends): the
reply's shape, its session write, its redirect and each ``{type, config}`` message, against the contract
(``shared/chatlayer-contract.md`` §2). Each problem is a sentence saying what to change.
"""

from __future__ import annotations

from typing import Any

from .messages import BUTTON_TYPES, LIST_SIZES, MEDIA_TYPES, MESSAGE_TYPES


def reply_problems(wire: Any) -> list[str]:
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
