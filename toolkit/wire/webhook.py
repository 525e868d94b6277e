"""Chatlayer's webhook channel on the wire, both ways (contract §2.3 and §5.2).

**In** (a user message, ``POST /v1/channels/webhook/{channelId}/messages`` with a Bearer token)::

    {"message": {"introMessage": {}} | {"textMessage": {"text"}}
                | {"postbackMessage": {"title", "payload"?, "nextDialogstateId"?, "sessionDataToSet"?}}
                | {"locationMessage": {"latitude", "longitude"}},
     "user": {"id", "firstName"?, "lastName"?, "preferredLanguage"?},
     "sessionData": {...}}                   -> answer {"message": "EVENT_RECEIVED"}

**Out** (each bot message, POSTed by Chatlayer to the channel's webhook URL), Messenger-like::

    {"recipient": {"id"}, "senderId", "verifyToken",
     "message": {"text"}
                | {"text", "quick_replies": [{"content_type": "text"|"location", "title", "payload"}]}
                | {"attachment": {"type": "template",
                                  "payload": {"template_type": "button", "text", "buttons"}
                                                             | {"template_type": "generic", "elements"}}}
                | {"attachment": {"type": "image"|"video"|"audio"|"file", "payload": {"url"}}}}

Assumptions (no source shows them), kept in one place: a location is ``locationMessage`` with
``latitude`` / ``longitude``; a click sends the button's opaque ``payload`` with its ``title``; each line
of a text message is one outbound message, and the text lines of a buttons / quick-replies message but
the last go out as text messages first; the recipient is read from ``recipient.id``, ``senderId`` or
``sender.id`` (Botium's connector reads ``sender.id``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

INBOUND_KINDS = ("introMessage", "textMessage", "postbackMessage", "locationMessage")
TEMPLATE_BUTTONS = {"web_url", "phone_number", "postback"}
PayloadId = Callable[[Mapping[str, Any], str | None], str]  # (button or quick reply, card) -> opaque id


# --- in: what the user sends ---------------------------------------------------------------------


def intro_message() -> dict[str, Any]:
    """The user opens the chat."""
    return {"introMessage": {}}


def text_message(text: str) -> dict[str, Any]:
    """The user types ``text``."""
    return {"textMessage": {"text": str(text)}}


def postback_message(title: str, payload: Any = None, *, next_dialogstate_id: str | None = None,
                     params: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The user clicks the button ``title``: its outbound ``payload`` (opaque), or, in the documented
    V1 form, the block it leads to and the session values it sets (``[{key, value}]``)."""
    body: dict[str, Any] = {"title": str(title)}
    if payload is not None:
        body["payload"] = payload
    if next_dialogstate_id:
        body["nextDialogstateId"] = str(next_dialogstate_id)
    data = [{"key": str(p["key"]), "value": p.get("value")} for p in params]
    if data:
        body["sessionDataToSet"] = data
    return {"postbackMessage": body}


def location_message(lat: float, lon: float) -> dict[str, Any]:
    """The user shares a location (shape assumed, see the module's docstring)."""
    return {"locationMessage": {"latitude": float(lat), "longitude": float(lon)}}


def inbound_kind(message: Any) -> str:
    """Which of :data:`INBOUND_KINDS` ``message`` is; ``ValueError`` naming the fix otherwise."""
    if isinstance(message, Mapping) and len(message) == 1 and next(iter(message)) in INBOUND_KINDS:
        kind = next(iter(message))
        if isinstance(message[kind], Mapping):
            return kind
    kinds = ", ".join(INBOUND_KINDS)
    raise ValueError(f"'message' must be one of {kinds} (an object), got {message!r:.120}.")


# --- out: what the bot answers -------------------------------------------------------------------


def outbound_body(user_id: str, verify_token: str, message: Mapping[str, Any]) -> dict[str, Any]:
    """One POST body to the webhook URL: recipient, verify token and one Messenger-like message."""
    return {"recipient": {"id": user_id}, "senderId": user_id, "verifyToken": verify_token,
            "message": dict(message)}


def recipient_of(body: Mapping[str, Any]) -> str | None:
    """The user an outbound body is for: ``recipient.id``, ``senderId`` or ``sender.id``."""
    for key in ("recipient", "sender"):
        part = body.get(key)
        if isinstance(part, Mapping) and part.get("id"):
            return str(part["id"])
    return str(body["senderId"]) if body.get("senderId") else None


def to_outbound(message: Mapping[str, Any], payload_id: PayloadId) -> list[dict[str, Any]]:
    """A ``{type, config}`` message as the outbound ``message`` objects Chatlayer POSTs (one or more).

    ``payload_id(item, card)`` gives the opaque payload string of a postback button or quick reply.
    """
    kind, config = message.get("type"), message.get("config") or {}
    lines = [str(t.get("text", "")) for t in config.get("textMessages") or []]
    if kind == "text":
        return [{"text": line} for line in lines]
    head, last = [{"text": line} for line in lines[:-1]], (lines[-1] if lines else "")
    if kind == "buttons":
        buttons = [_button_out(b, payload_id, None) for b in config.get("buttons") or []]
        return head + [_template({"template_type": "button", "text": last, "buttons": buttons})]
    if kind == "quickReplies":
        quick = [_quick_out(q, payload_id) for q in config.get("quickReplies") or []]
        return head + [{"text": last, "quick_replies": quick}]
    if kind == "carousel":
        cards = [_card_out(c, payload_id) for c in config.get("elements") or []]
        return [_template({"template_type": "generic", "elements": cards})]
    if kind == "media":
        media = config.get("media") or {}
        kind_ = {"attachment": "file"}.get(str(media.get("type", "image")), str(media.get("type", "image")))
        return [{"attachment": {"type": kind_, "payload": {"url": media.get("url", "")}}}]
    return [{"text": f"({kind} message)"}]


def _template(payload: dict[str, Any]) -> dict[str, Any]:
    return {"attachment": {"type": "template", "payload": payload}}


def _button_out(button: Mapping[str, Any], payload_id: PayloadId, card: str | None) -> dict[str, Any]:
    kind, title = button.get("type"), str(button.get("title", ""))
    if kind == "web_url":
        return {"type": "web_url", "title": title, "url": button.get("url", "")}
    if kind == "phone_number":
        return {"type": "phone_number", "title": title, "payload": str(button.get("payload", ""))}
    return {"type": "postback", "title": title, "payload": payload_id(button, card)}


def _quick_out(reply: Mapping[str, Any], payload_id: PayloadId) -> dict[str, Any]:
    title = str(reply.get("title", ""))
    if reply.get("type") == "location":
        return {"content_type": "location", "title": title}
    out = {"content_type": "text", "title": title, "payload": payload_id(reply, None)}
    if reply.get("imageUrl"):
        out["image_url"] = reply["imageUrl"]
    return out


def _card_out(card: Mapping[str, Any], payload_id: PayloadId) -> dict[str, Any]:
    title = str(card.get("title", ""))
    out: dict[str, Any] = {"title": title}
    if card.get("subTitle"):
        out["subtitle"] = card["subTitle"]
    if card.get("imageUrl"):
        out["image_url"] = card["imageUrl"]
    if card.get("webUrl"):
        out["default_action"] = {"type": "web_url", "url": card["webUrl"]}
    out["buttons"] = [_button_out(b, payload_id, title) for b in card.get("buttons") or []]
    return out


# --- back: outbound messages as the emulator's transcript model -----------------------------------


def from_outbound(message: Mapping[str, Any]) -> dict[str, Any]:
    """An outbound ``message`` object as a ``{type, config}`` message (what transcripts hold).

    Postback payloads stay opaque: ``{"id": "<payload>"}``. Raises ``ValueError`` for a shape it does
    not know, naming it.
    """
    attachment = message.get("attachment")
    if isinstance(attachment, Mapping):
        return _attachment_back(attachment)
    text_ = message.get("text")
    if not isinstance(text_, str):
        raise ValueError(f"An outbound message has 'text' or 'attachment', got {dict(message)!r:.160}.")
    lines = [{"text": text_}]
    if message.get("quick_replies"):
        quick = [_quick_back(q) for q in message["quick_replies"]]
        return {"type": "quickReplies", "config": {"textMessages": lines, "quickReplies": quick}}
    return {"type": "text", "config": {"textMessages": lines}}


def _attachment_back(attachment: Mapping[str, Any]) -> dict[str, Any]:
    payload = attachment.get("payload") or {}
    kind = attachment.get("type")
    if kind != "template":
        media_type = {"file": "attachment"}.get(str(kind), str(kind))
        media = {"type": media_type, "url": str(payload.get("url", ""))}
        return {"type": "media", "config": {"media": media}}
    template = payload.get("template_type")
    if template == "button":
        buttons = [_button_back(b) for b in payload.get("buttons") or []]
        return {"type": "buttons", "config": {"textMessages": [{"text": str(payload.get("text", ""))}],
                                              "buttons": buttons}}
    if template in ("generic", "list"):  # a list shows like a carousel in the transcript
        cards = [_card_back(c) for c in payload.get("elements") or []]
        return {"type": "carousel", "config": {"elements": cards}}
    raise ValueError(f"Unknown outbound template_type {template!r} (known: button, generic, list).")


def _button_back(button: Mapping[str, Any]) -> dict[str, Any]:
    kind, title = button.get("type"), str(button.get("title", ""))
    if kind == "web_url":
        return {"type": "web_url", "title": title, "url": str(button.get("url", ""))}
    if kind == "phone_number":
        return {"type": "phone_number", "title": title, "payload": str(button.get("payload", ""))}
    return {"type": "postback", "title": title, "payload": {"id": button.get("payload")}}


def _quick_back(reply: Mapping[str, Any]) -> dict[str, Any]:
    if reply.get("content_type") == "location":
        return {"type": "location", "title": str(reply.get("title") or "Send location")}
    out: dict[str, Any] = {"type": "postback", "title": str(reply.get("title", "")),
                           "payload": {"id": reply.get("payload")}}
    if reply.get("image_url"):
        out["imageUrl"] = reply["image_url"]
    return out


def _card_back(card: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"title": str(card.get("title", ""))}
    if card.get("subtitle"):
        out["subTitle"] = card["subtitle"]
    if card.get("image_url"):
        out["imageUrl"] = card["image_url"]
    action = card.get("default_action")
    if isinstance(action, Mapping) and action.get("url"):
        out["webUrl"] = action["url"]
    out["buttons"] = [_button_back(b) for b in card.get("buttons") or []]
    return out
