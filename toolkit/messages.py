"""The wire contract: commented TypedDicts for what a Chatlayer API step accepts, and tiny builders
that return JSON-ready dicts. Facts and sources: ``shared/chatlayer-contract.md`` §2.

>>> text("Hello!")
{'type': 'text', 'config': {'textMessages': [{'text': 'Hello!'}]}}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, NotRequired, TypedDict

# --- wire types ------------------------------------------------------------------------------


class TextLine(TypedDict):
    text: str  # one bubble


class Payload(TypedDict):
    nextDialogstateId: str  # block id the click jumps to
    params: NotRequired[list[dict[str, Any]]]  # [{key, value}] written into the session


class Button(TypedDict):
    type: Literal["postback", "web_url", "phone_number"]
    title: str
    payload: NotRequired[Payload | str]  # postback: Payload; phone_number: the number
    url: NotRequired[str]  # web_url only


class QuickReply(TypedDict):
    type: Literal["postback", "location"]
    title: str
    payload: NotRequired[Payload]
    imageUrl: NotRequired[str]  # small icon


class Card(TypedDict):
    title: str
    subTitle: NotRequired[str]
    imageUrl: NotRequired[str]
    webUrl: NotRequired[str]  # opened when the card is tapped
    buttons: NotRequired[list[Button]]


class Message(TypedDict):
    type: Literal["text", "buttons", "quickReplies", "carousel", "media"]
    config: dict[str, Any]


class SessionWrite(TypedDict):
    namespace: str  # session key the data is stored under
    data: Any  # merged member-wise into that key by Chatlayer


class WireReply(TypedDict, total=False):
    session: SessionWrite  # stored first
    messages: list[Message]  # sent second
    nextDialogstate: str  # redirect (prose of the docs), followed last
    action: dict[str, str]  # {"nextDialogstate": id} (every worked example and real backend)


MESSAGE_TYPES = ("text", "buttons", "quickReplies", "carousel", "media")
MEDIA_TYPES = ("image", "video", "audio", "attachment")

# --- builders --------------------------------------------------------------------------------


def _lines(text: str | Iterable[str]) -> list[TextLine]:
    lines = [text] if isinstance(text, str) else list(text)
    return [{"text": str(line)} for line in lines]


def _params(params: Mapping[str, Any] | Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        return [{"key": str(k), "value": v} for k, v in params.items()]
    return [dict(p) for p in params]


def text(*lines: str) -> Message:
    """A text message; each line is its own bubble."""
    return {"type": "text", "config": {"textMessages": _lines(lines)}}


def postback(
    title: str,
    target: str,
    params: Mapping[str, Any] | None = None,
    *,
    image_url: str | None = None,
) -> dict[str, Any]:
    """A postback button or quick reply: jumps to block ``target`` and writes ``params`` to the session.

    ``image_url`` (an icon) is for quick replies only.
    """
    payload: dict[str, Any] = {"nextDialogstateId": target}
    if params:
        payload["params"] = _params(params)
    button: dict[str, Any] = {"type": "postback", "title": title, "payload": payload}
    if image_url:
        button["imageUrl"] = image_url
    return button


def url_button(title: str, url: str) -> Button:
    """A button that opens ``url``."""
    return {"type": "web_url", "title": title, "url": url}


def phone_button(title: str, number: str) -> Button:
    """A button that calls ``number``."""
    return {"type": "phone_number", "title": title, "payload": number}


def location(title: str = "Send location", target: str | None = None) -> dict[str, Any]:
    """A quick reply asking for the user's location, then jumping to block ``target``."""
    reply: dict[str, Any] = {"type": "location", "title": title}
    if target:
        reply["payload"] = {"nextDialogstateId": target}
    return reply


def buttons(text: str | Iterable[str], *items: Mapping[str, Any]) -> Message:
    """Text with buttons (``postback``, ``url_button``, ``phone_button``)."""
    return {"type": "buttons", "config": {"textMessages": _lines(text), "buttons": [dict(b) for b in items]}}


def quick_replies(text: str | Iterable[str], *items: Mapping[str, Any]) -> Message:
    """Text with quick replies (``postback`` or ``location``)."""
    return {
        "type": "quickReplies",
        "config": {"textMessages": _lines(text), "quickReplies": [dict(q) for q in items]},
    }


def card(
    title: str,
    subtitle: str | None = None,
    *,
    image_url: str | None = None,
    url: str | None = None,
    buttons: Iterable[Mapping[str, Any]] = (),
) -> Card:
    """One carousel card."""
    out: dict[str, Any] = {"title": str(title)}
    if subtitle is not None:
        out["subTitle"] = str(subtitle)
    if image_url:
        out["imageUrl"] = image_url
    if url:
        out["webUrl"] = url
    out["buttons"] = [dict(b) for b in buttons]
    return out  # type: ignore[return-value]


def carousel(*cards: Mapping[str, Any]) -> Message:
    """A carousel of ``card(...)`` elements."""
    return {"type": "carousel", "config": {"elements": [dict(c) for c in cards]}}


def media(url: str, kind: str = "image") -> Message:
    """An image, video, audio or attachment by URL."""
    return {"type": "media", "config": {"media": {"type": kind, "url": url}}}


def _field(row: Mapping[str, Any], spec: str | None) -> str | None:
    """A column name, or a template like ``"{price} EUR"`` filled from the row."""
    if spec is None:
        return None
    if spec in row:
        value = row[spec]
        return None if value is None or value != value else str(value)  # NaN -> None
    return spec.format_map(dict(row))


def carousel_from_frame(
    frame: Any,
    *,
    title: str,
    subtitle: str | None = None,
    image_url: str | None = None,
    url: str | None = None,
    button: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
    limit: int = 10,
) -> Message:
    """Turn DataFrame rows (or a list of dicts) into a carousel, one card a row.

    ``title``, ``subtitle``, ``image_url`` and ``url`` are column names or templates such as
    ``"{price:.2f} EUR"``; ``button(row)`` makes a button for each card. At most ``limit`` cards
    (channels show about 10).
    """
    rows = frame.to_dict("records") if hasattr(frame, "to_dict") else [dict(r) for r in frame]
    cards = [
        card(
            _field(row, title) or "",
            _field(row, subtitle),
            image_url=_field(row, image_url),
            url=_field(row, url),
            buttons=[button(row)] if button else (),
        )
        for row in rows[:limit]
    ]
    return carousel(*cards)
