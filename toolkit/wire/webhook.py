"""Chatlayer's webhook channel on the wire, both ways (contract §2.3 and §5.2).

**In** (a user message, ``POST /v1/channels/webhook/{channelId}/messages`` with a Bearer token)::

    {"message": {"introMessage": {}} | {"textMessage": {"text"}}
                | {"postbackMessage": {"title", "nextDialogstateId"?, "sessionDataToSet"?}}
                | {"locationMessage": {"latitude", "longitude"}},
     "user": {"id", "firstName"?, "lastName"?, "preferredLanguage"?}  | "conversationId",
     "sessionData": {...}}                   -> answer {"message": "EVENT_RECEIVED"}

The Redoc marks ``user`` required, Botium (since 2021) sends ``conversationId`` and no ``user``: both
are accepted (contract 8.3); ``user`` carries only the four Redoc fields (8.11). A click is
``postbackMessage: {title, nextDialogstateId?, sessionDataToSet?}`` taken from the clicked button's
payload (8.4): no source shows a ``payload`` member.

**Out** (each bot message, POSTed by Chatlayer to the channel's webhook URL), Messenger-like::

    {"recipient": {"id"}, "senderId", "verifyToken",
     "message": {"text"}
                | {"text", "quick_replies": [{"content_type": "text"|"location", "title", "payload"}]}
                | {"attachment": {"type": "template",
                                  "payload": {"template_type": "button", "text", "buttons"}
                                                             | {"template_type": "generic", "elements"}
                                                             | {"template_type": "list", "elements",
                                                                "buttons"?}}}
                | {"attachment": {"type": "image"|"video"|"audio"|"file", "payload": {"url"}}}}
     | {"type": "event", ...}               (not shown; answered 200 like everything well-formed)

Real bodies also carry ``messageCounter`` and ``nlp`` members and buttons of type ``element_share``
(contract 8.9); a card's link is ``item_url`` (8.6; a 2019 sample uses ``default_action``). What is not
shown (events, unknown message, attachment, template or button types) is skipped, never refused: a
refused delivery is retried by Chatlayer (8.1). A postback button's ``payload`` is a JSON string
``{"nextDialogstateId", "parameters"?}`` (what Botium parses a payload as), the members a click sends
back as ``nextDialogstateId`` / ``sessionDataToSet`` (8.4); ``sessionDataToSet`` and ``params`` are read
too. An opaque payload (not JSON) is kept as ``{"id": payload}``.

Assumptions (no source shows them), kept in one place: a location is ``locationMessage`` with
``latitude`` / ``longitude``; each line of a text message is one outbound message, and the text lines
of a buttons / quick-replies message but the last go out as text messages first; the recipient is read
from ``recipient.id``, ``senderId`` or ``sender.id`` (the legacy form's ``sender.id``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

INBOUND_KINDS = ("introMessage", "textMessage", "postbackMessage", "locationMessage")
TEMPLATE_BUTTONS = {"web_url", "phone_number", "postback"}
USER_FIELDS = ("id", "firstName", "lastName", "preferredLanguage")  # the Redoc's, contract 8.11
MEDIA_TYPES = {"image", "video", "audio", "file"}
PayloadId = Callable[[Mapping[str, Any], str | None], str]  # (button or quick reply, card) -> payload


# --- in: what the user sends ---------------------------------------------------------------------


def intro_message() -> dict[str, Any]:
    """The user opens the chat."""
    return {"introMessage": {}}


def text_message(text: str) -> dict[str, Any]:
    """The user types ``text``."""
    return {"textMessage": {"text": str(text)}}


def postback_message(title: str, payload: Any = None, *, next_dialogstate_id: str | None = None,
                     params: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The user clicks the button ``title``: ``{title, nextDialogstateId?, sessionDataToSet?}``.

    The block and the session values (``[{key, value}]``) come from the arguments, else from the
    button's outbound ``payload`` (a JSON string or object carrying them). An opaque payload adds
    nothing: no source shows a ``payload`` member in a click (contract 8.4).

    >>> postback_message("Basic", '{"nextDialogstateId": "b1"}')
    {'postbackMessage': {'title': 'Basic', 'nextDialogstateId': 'b1'}}
    """
    carried = payload_members(payload)
    body: dict[str, Any] = {"title": str(title)}
    target = next_dialogstate_id or carried.get("nextDialogstateId")
    if target:
        body["nextDialogstateId"] = str(target)
    data = [{"key": str(p["key"]), "value": p.get("value")}
            for p in (params or carried.get("sessionDataToSet") or ())]
    if data:
        body["sessionDataToSet"] = data
    return {"postbackMessage": body}


def payload_members(payload: Any) -> dict[str, Any]:
    """The ``nextDialogstateId`` / ``sessionDataToSet`` a button's payload carries (JSON string or object);
    ``{}`` for an opaque payload."""
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return {}
    if not isinstance(payload, Mapping):
        return {}
    out: dict[str, Any] = {}
    if payload.get("nextDialogstateId"):
        out["nextDialogstateId"] = str(payload["nextDialogstateId"])
    data = payload.get("parameters") or payload.get("sessionDataToSet") or payload.get("params")
    if isinstance(data, list) and all(isinstance(p, Mapping) and "key" in p for p in data):
        out["sessionDataToSet"] = [{"key": str(p["key"]), "value": p.get("value")} for p in data]
    return out


def json_payload(item: Mapping[str, Any], card: str | None = None) -> str:
    """A postback's outbound payload as the JSON string a click sends back (the default of
    :func:`to_outbound`): ``{"nextDialogstateId", "parameters"?}``. Botium parses exactly these two
    members of a button's payload into the click's ``nextDialogstateId`` / ``sessionDataToSet``."""
    found = item.get("payload")
    payload: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    out: dict[str, Any] = {"nextDialogstateId": str(payload.get("nextDialogstateId") or "")}
    params = [{"key": str(p["key"]), "value": p.get("value")} for p in payload.get("params") or []]
    if params:
        out["parameters"] = params  # the member Botium reads into sessionDataToSet
    return json.dumps(out, separators=(",", ":"))


def user_of(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The user of an injected body: ``user`` (only the four Redoc fields) or, as Botium sends it,
    ``{"id": conversationId}``; None when neither names one."""
    user = body.get("user")
    if isinstance(user, Mapping) and str(user.get("id") or "").strip():
        return {k: user[k] for k in USER_FIELDS if user.get(k) is not None}
    conversation = body.get("conversationId")
    if isinstance(conversation, str | int) and str(conversation).strip():
        return {"id": str(conversation)}
    return None


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
        if part is not None and not isinstance(part, Mapping):
            raise ValueError(f"{key} is a {type(part).__name__}, not an object")
        if isinstance(part, Mapping) and part.get("id") is not None:
            if not isinstance(part["id"], str | int):
                raise ValueError(f"{key}.id is a {type(part['id']).__name__}, not a string")
            return str(part["id"])
    return str(body["senderId"]) if body.get("senderId") else None


def to_outbound(message: Mapping[str, Any], payload_id: PayloadId = json_payload) -> list[dict[str, Any]]:
    """A ``{type, config}`` message as the outbound ``message`` objects Chatlayer POSTs (one or more).

    ``payload_id(item, card)`` gives the payload string of a postback button or quick reply; the
    default, :func:`json_payload`, carries what a click sends back.
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
    if kind == "list":
        rows = [_card_out(c, payload_id) for c in config.get("elements") or []]
        payload: dict[str, Any] = {"template_type": "list", "elements": rows}
        if config.get("button"):
            payload["buttons"] = [_button_out(config["button"], payload_id, None)]
        return [_template(payload)]
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
        out["item_url"] = card["webUrl"]
    out["buttons"] = [_button_out(b, payload_id, title) for b in card.get("buttons") or []]
    return out


# --- back: outbound messages as the emulator's transcript model -----------------------------------


def shown(message: Mapping[str, Any]) -> dict[str, Any] | None:
    """Like :func:`from_outbound`, but None for what a chat does not show: an ``event``, an unknown
    message, attachment or template type (contract 8.1, 8.9). A receiver answers 200 either way."""
    if message.get("type") == "event":
        return None
    attachment, text_ = message.get("attachment"), message.get("text")
    if attachment is not None and not isinstance(attachment, Mapping):
        raise ValueError(f"its attachment is a {type(attachment).__name__}, not an object")
    if text_ is not None and not isinstance(text_, str):
        raise ValueError(f"its text is a {type(text_).__name__}, not a string")
    if isinstance(attachment, Mapping):
        kind, template = attachment.get("type"), attachment.get("payload")
        if kind != "template" and kind not in MEDIA_TYPES:
            return None
        if kind == "template":
            if not isinstance(template, Mapping):
                raise ValueError(f"its template payload is a {type(template).__name__}, not an object")
            if template.get("template_type") not in ("button", "generic", "list"):
                return None
        return _attachment_back(attachment)
    if text_ is None:
        return None
    return from_outbound(message)


def from_outbound(message: Mapping[str, Any]) -> dict[str, Any]:
    """An outbound ``message`` object as a ``{type, config}`` message (what transcripts hold).

    A postback's JSON payload comes back as ``{nextDialogstateId, params?}``, an opaque one as
    ``{"id": "<payload>"}``; buttons of a type not shown (``element_share``) are left out. Raises
    ``ValueError`` for a shape it does not know, naming it (:func:`shown` skips those instead).
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
        buttons = _buttons_back(payload.get("buttons"))
        return {"type": "buttons", "config": {"textMessages": [{"text": str(payload.get("text", ""))}],
                                              "buttons": buttons}}
    if template == "generic":
        cards = [_card_back(c) for c in payload.get("elements") or []]
        return {"type": "carousel", "config": {"elements": cards}}
    if template == "list":
        rows = [_card_back(c) for c in payload.get("elements") or []]
        config: dict[str, Any] = {"elements": rows}
        below = _buttons_back(payload.get("buttons"))
        if below:
            config["button"] = below[0]
        return {"type": "list", "config": config}
    raise ValueError(f"Unknown outbound template_type {template!r} (known: button, generic, list).")


def _buttons_back(buttons: Any) -> list[dict[str, Any]]:
    """The buttons a chat shows: those of type web_url, phone_number and postback."""
    return [_button_back(b) for b in buttons or []
            if isinstance(b, Mapping) and b.get("type", "postback") in TEMPLATE_BUTTONS]


def _payload_back(payload: Any) -> dict[str, Any]:
    carried = payload_members(payload)
    if not carried:
        return {"id": payload}
    out: dict[str, Any] = {"nextDialogstateId": carried.get("nextDialogstateId", "")}
    if carried.get("sessionDataToSet"):
        out["params"] = carried["sessionDataToSet"]
    return out


def _button_back(button: Mapping[str, Any]) -> dict[str, Any]:
    kind, title = button.get("type"), str(button.get("title", ""))
    if kind == "web_url":
        return {"type": "web_url", "title": title, "url": str(button.get("url", ""))}
    if kind == "phone_number":
        return {"type": "phone_number", "title": title, "payload": str(button.get("payload", ""))}
    return {"type": "postback", "title": title, "payload": _payload_back(button.get("payload"))}


def _quick_back(reply: Mapping[str, Any]) -> dict[str, Any]:
    if reply.get("content_type") == "location":
        return {"type": "location", "title": str(reply.get("title") or "Send location")}
    out: dict[str, Any] = {"type": "postback", "title": str(reply.get("title", "")),
                           "payload": _payload_back(reply.get("payload"))}
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
    if card.get("item_url"):
        out["webUrl"] = card["item_url"]
    elif isinstance(action, Mapping) and action.get("url"):
        out["webUrl"] = action["url"]
    out["buttons"] = _buttons_back(card.get("buttons"))
    return out
