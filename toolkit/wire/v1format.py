"""Messages in Chatlayer's V1 REST format (``sendMessages`` items) and back.

The API step speaks ``{type, config}`` (the builders in :mod:`toolkit.messages`); the V1 "conversation
actions" call wants one ``*Template`` object per message (contract §2.3, shapes from Chatlayer's own
example ``chatlayer-examples/offloading-webhook/messaging.js``)::

    text          -> {"textMessageTemplate": {"textMessages": [{"text"}]}}
    buttons       -> {"buttonTemplate": {"textMessages", "buttons": [{"urlButton": {title, url}}
                       | {"phoneNumberButton": {title, phoneNumber}} | {"postBackButton": {title, payload}}]}}
    quickReplies  -> {"quickReplyTemplate": {"textMessages", "quickReplies": [{title, imageUrl?, payload}]}}
    carousel      -> {"carouselTemplate": {"elements": [{title, subTitle, imageUrl, buttons}]}}
    list          -> {"listTemplate": {"size": "LARGE"|"COMPACT", "button"?, "elements": [{..., "button"}]}}
    media         -> {"attachmentTemplate": {"media": {"url", "type"}}}

Postback payloads become ``{nextDialogstateId, sessionDataToSet: [{key, value}]}``.
Assumptions (no source shows them): a location quick reply is ``{title, type: "location", payload?}``;
a card's ``webUrl`` is passed through unchanged. Messages already in V1 form pass through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ReplyError
from ..messages import text
from ..reply import message_problems

TEMPLATES = ("textMessageTemplate", "buttonTemplate", "quickReplyTemplate", "carouselTemplate",
             "attachmentTemplate", "listTemplate")


def is_v1(message: Any) -> bool:
    """Whether ``message`` is already a V1 ``*Template`` object."""
    return isinstance(message, Mapping) and len(message) == 1 and next(iter(message)) in TEMPLATES


def flatten(messages: Iterable[Any]) -> list[Any]:
    """Messages given one by one or as lists (a ``toolkit.Reply`` gives its messages)."""
    out: list[Any] = []
    for m in messages:
        if isinstance(m, list | tuple):
            out.extend(flatten(m))
        elif hasattr(m, "messages") and hasattr(m, "to_wire"):
            out.extend(flatten(m.messages))
        else:
            out.append(m)
    return out


def to_v1(message: Any) -> dict[str, Any]:
    """One message (a builder's dict, a str, or a V1 template) as a V1 ``sendMessages`` item."""
    if isinstance(message, str):
        message = text(message)
    if is_v1(message):
        return dict(message)
    problems = message_problems(message)
    if problems:
        raise ReplyError(
            f"Cannot push this message: {'; '.join(problems)}.",
            hint="Build messages with toolkit.text(...), toolkit.buttons(...), toolkit.quick_replies(...), "
            "toolkit.carousel(...) or toolkit.media(...), as in a handler's reply.",
        )
    kind, config = message["type"], message["config"]
    if kind == "text":
        return {"textMessageTemplate": {"textMessages": _texts(config)}}
    if kind == "buttons":
        return {"buttonTemplate": {"textMessages": _texts(config),
                                   "buttons": [_button(b) for b in config.get("buttons", [])]}}
    if kind == "quickReplies":
        return {"quickReplyTemplate": {"textMessages": _texts(config),
                                       "quickReplies": [_quick(q) for q in config.get("quickReplies", [])]}}
    if kind == "carousel":
        return {"carouselTemplate": {"elements": [_card(c) for c in config.get("elements", [])]}}
    if kind == "list":  # Chatlayer's example: "size": "LARGE", a singular button per element (8.5)
        found: dict[str, Any] = {"elements": [_row(c) for c in config.get("elements", [])]}
        found.update({"button": _button(config["button"])} if config.get("button") else {})
        size = {"size": str(config["size"]).upper()} if config.get("size") else {}
        return {"listTemplate": {**size, **found}}
    media = config["media"]
    return {"attachmentTemplate": {"media": {"url": media["url"], "type": media.get("type", "image")}}}


def _texts(config: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"text": t["text"]} for t in config.get("textMessages", [])]


def _payload(payload: Any) -> dict[str, Any]:
    payload = dict(payload or {})
    out: dict[str, Any] = {"nextDialogstateId": payload.get("nextDialogstateId", "")}
    params = payload.get("params") or payload.get("sessionDataToSet")
    if params:
        out["sessionDataToSet"] = [{"key": p["key"], "value": p["value"]} for p in params]
    return out


def _button(button: Mapping[str, Any]) -> dict[str, Any]:
    kind = button.get("type")
    if kind == "web_url":
        return {"urlButton": {"title": button["title"], "url": button["url"]}}
    if kind == "phone_number":
        return {"phoneNumberButton": {"title": button["title"], "phoneNumber": button["payload"]}}
    return {"postBackButton": {"title": button["title"], "payload": _payload(button.get("payload"))}}


def _quick(reply: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"title": reply["title"]}
    if reply.get("type") == "location":
        out["type"] = "location"  # assumption: no source shows a V1 location quick reply
    if reply.get("imageUrl"):
        out["imageUrl"] = reply["imageUrl"]
    if reply.get("payload") is not None:
        out["payload"] = _payload(reply["payload"])
    return out


def _card(card: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: card[k] for k in ("title", "subTitle", "imageUrl", "webUrl") if card.get(k) is not None}
    out["buttons"] = [_button(b) for b in card.get("buttons", [])]
    return out


def _row(card: Mapping[str, Any]) -> dict[str, Any]:
    """A list element: its first button as the singular ``button`` of Chatlayer's example."""
    out = {k: card[k] for k in ("title", "subTitle", "imageUrl", "webUrl") if card.get(k) is not None}
    if card.get("buttons"):
        out["button"] = _button(card["buttons"][0])
    return out


# --- back: what the emulated API delivers into an emulator conversation -------------------------


def from_v1(item: Any) -> dict[str, Any]:
    """A V1 ``sendMessages`` item as a ``{type, config}`` message (raises ``ValueError`` naming the fix)."""
    if not is_v1(item):
        raise ValueError(
            f"A sendMessages item must be one V1 template object ({', '.join(TEMPLATES[:5])}), "
            f"got {_short(item)}. ChatlayerClient.push converts toolkit messages for you."
        )
    ((kind, body),) = item.items()
    body = body if isinstance(body, Mapping) else {}
    try:
        return _from_template(kind, body)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{kind} is missing or has a malformed member {exc}: {_short(item)}.") from None


def _from_template(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    lines = [{"text": t["text"]} for t in body.get("textMessages", [])]
    if kind == "textMessageTemplate":
        return {"type": "text", "config": {"textMessages": lines}}
    if kind == "buttonTemplate":
        return {"type": "buttons", "config": {"textMessages": lines,
                                              "buttons": [_button_back(b) for b in body.get("buttons", [])]}}
    if kind == "quickReplyTemplate":
        quick = [_quick_back(q) for q in body.get("quickReplies", [])]
        return {"type": "quickReplies", "config": {"textMessages": lines, "quickReplies": quick}}
    if kind == "carouselTemplate":
        return {"type": "carousel", "config": {"elements": [_card_back(c) for c in body.get("elements", [])]}}
    if kind == "listTemplate":  # "size" in either case, "button" or "buttons" per element (8.5)
        config: dict[str, Any] = {"elements": [_card_back(c) for c in body.get("elements", [])]}
        if isinstance(body.get("button"), Mapping):
            config["button"] = _button_back(body["button"])
        if str(body.get("size") or "").lower() in ("large", "compact"):
            config["size"] = str(body["size"]).lower()
        return {"type": "list", "config": config}
    media = body["media"]
    return {"type": "media", "config": {"media": {"type": media.get("type", "image"), "url": media["url"]}}}


def _payload_back(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    payload = payload or {}
    out: dict[str, Any] = {"nextDialogstateId": payload.get("nextDialogstateId", "")}
    if payload.get("sessionDataToSet"):
        out["params"] = [dict(p) for p in payload["sessionDataToSet"]]
    return out


def _button_back(button: Mapping[str, Any]) -> dict[str, Any]:
    if "urlButton" in button:
        b = button["urlButton"]
        return {"type": "web_url", "title": b["title"], "url": b["url"]}
    if "phoneNumberButton" in button:
        b = button["phoneNumberButton"]
        return {"type": "phone_number", "title": b["title"], "payload": b["phoneNumber"]}
    b = button["postBackButton"]
    return {"type": "postback", "title": b["title"], "payload": _payload_back(b.get("payload"))}


def _quick_back(reply: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "location" if reply.get("type") == "location" else "postback",
                           "title": reply["title"]}
    if reply.get("payload") is not None:
        out["payload"] = _payload_back(reply["payload"])
    if reply.get("imageUrl"):
        out["imageUrl"] = reply["imageUrl"]
    return out


def _card_back(card: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: card[k] for k in ("title", "subTitle", "imageUrl", "webUrl") if card.get(k) is not None}
    buttons = card.get("buttons") or ([card["button"]] if card.get("button") else [])
    out["buttons"] = [_button_back(b) for b in buttons]
    return out


def _short(value: Any) -> str:
    text_ = repr(value)
    return text_ if len(text_) <= 120 else text_[:117] + "..."
