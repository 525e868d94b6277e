"""Chatlayer messages as HTML, the way a user would see them: text bubbles, buttons, quick
replies, carousel cards with images, media (the macros of ``templates/messages.html``), and as the
plain text a user reads. Pure functions shared by the log view's detail pane, transcripts and the
chat view (no ipywidgets here).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .icons import BUTTON_ICONS
from .templates import macro

_CHOICES = {"buttons": "buttons", "quickReplies": "quickReplies"}  # the kinds drawn as text then chips


def _macro(name: str) -> Any:
    return macro("messages.html", name)


def chip_view(item: Mapping[str, Any]) -> dict[str, str]:
    """What a chip shows of a button or quick reply: its title, a tooltip saying what a click does,
    and the name of its icon (``""`` for none)."""
    kind = item.get("type", "")
    target = item.get("url") or item.get("payload")
    if isinstance(target, Mapping):
        target = f"→ {target.get('nextDialogstateId', '')}"
    return {"title": str(item.get("title", "")), "tip": f"{kind} {target or ''}".strip(),
            "icon": BUTTON_ICONS.get(str(kind), "")}


def _chips(items: Any) -> list[dict[str, str]]:
    return [chip_view(i) for i in items or [] if isinstance(i, Mapping)]


def _element(item: Mapping[str, Any]) -> dict[str, Any]:
    """A carousel card or list row: image URL, title, subtitle, chips."""
    image, subtitle = item.get("imageUrl"), item.get("subTitle")
    return {"image": str(image) if image else "", "title": str(item.get("title", "")),
            "subtitle": str(subtitle) if subtitle else "", "chips": _chips(item.get("buttons"))}


def message_view(message: Mapping[str, Any]) -> dict[str, Any]:
    """A ``{type, config}`` message as the plain view ``templates/messages.html`` draws: ``kind`` (its
    type), the text lines, chips, card or list elements, the chips below a list, and the media."""
    kind, config = message.get("type"), message.get("config") or {}
    view: dict[str, Any] = {"kind": str(kind), "texts": [], "chips": [], "elements": [], "below": [],
                            "media": {}}
    if kind in ("text", *_CHOICES):
        lines = config.get("textMessages") or []
        view["texts"] = [str(t.get("text", "")) for t in lines if isinstance(t, Mapping)]
    if kind in _CHOICES:
        view["kind"], view["chips"] = "buttons", _chips(config.get(kind))
    elif kind in ("carousel", "list"):
        view["elements"] = [_element(e) for e in config.get("elements") or [] if isinstance(e, Mapping)]
        button = config.get("button")
        view["below"] = _chips([button]) if kind == "list" and isinstance(button, Mapping) else []
    elif kind == "media":
        media = config.get("media") or {}
        view["media"] = {"url": str(media.get("url", "")), "type": media.get("type")}
    return view


def card_html(card: Mapping[str, Any]) -> str:
    """One carousel card: image, title, subtitle, buttons."""
    return str(_macro("card")(_element(card)))


def message_html(message: Mapping[str, Any]) -> str:
    """One ``{type, config}`` message as HTML."""
    return messages_html([message])


def list_html(config: Mapping[str, Any]) -> str:
    """A ``list`` message (best-guess shape): one row a card, then the list's button."""
    return messages_html([{"type": "list", "config": config}])


def media_html(media: Mapping[str, Any]) -> str:
    """A media message: an image, a video or audio player, or a link to the file. A URL that is not
    http(s), mailto, tel or relative is shown as text."""
    return messages_html([{"type": "media", "config": {"media": media}}])


def messages_html(messages: Iterable[Mapping[str, Any]]) -> str:
    """Several messages, top to bottom."""
    return str(_macro("messages")([message_view(m) for m in messages if isinstance(m, Mapping)]))


def user_html(text: str) -> str:
    """A user's turn: a right-aligned bubble."""
    return str(_macro("user")(text))


def message_lines(message: Mapping[str, Any]) -> list[str]:
    """The text a user reads in one message: its text lines, then card (and list row) titles and
    subtitles, then button and quick-reply titles in brackets; a media message gives its URL."""
    config = message.get("config") or {}
    if not isinstance(config, Mapping):
        return []
    lines = [str(t.get("text", "")) for t in config.get("textMessages") or [] if isinstance(t, Mapping)]
    for card in config.get("elements") or []:
        if isinstance(card, Mapping):
            lines += [str(card[k]) for k in ("title", "subTitle") if card.get(k)]
            lines += [f"[{b.get('title', '')}]" for b in card.get("buttons") or [] if isinstance(b, Mapping)]
    for key in ("buttons", "quickReplies"):
        lines += [f"[{b.get('title', '')}]" for b in config.get(key) or [] if isinstance(b, Mapping)]
    if isinstance(config.get("button"), Mapping):  # a list message's button below its rows
        lines.append(f"[{config['button'].get('title', '')}]")
    media = config.get("media")
    if isinstance(media, Mapping) and media.get("url"):
        lines.append(str(media["url"]))
    return lines


def reply_text(response: Any) -> str:
    """The plain text of a reply's messages as the user reads them, one line each (``""`` for an
    error or no messages). Templates are filled from the session the reply wrote, as Chatlayer does:
    ``{"session": {"namespace": "order", "data": {"status": "shipped"}}}`` turns ``Your order
    {order.status}.`` into ``Your order shipped.``; a variable the reply did not write stays as written.
    """
    if not isinstance(response, Mapping) or not isinstance(response.get("messages"), list):
        return ""
    messages = [m for m in response["messages"] if isinstance(m, Mapping)]
    text = "\n".join(line for m in messages for line in message_lines(m))
    return fill_from_session(text, response.get("session"))


PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[\d+\])*)\s*\}")


def fill_from_session(text: str, session: Any) -> str:
    """``text`` with each ``{namespace.path}`` the wire ``session`` holds replaced by its value (plain
    paths only: a placeholder with modifiers, or one the session lacks, stays as written)."""
    if not isinstance(session, Mapping) or "{" not in text:
        return text
    scope = {str(session.get("namespace")): session.get("data")}

    def value(match: re.Match[str]) -> str:
        found: Any = scope
        for part in re.findall(r"[^.\[\]]+", match.group(1)):
            if isinstance(found, Mapping) and part in found:
                found = found[part]
            elif isinstance(found, list) and part.isdigit() and int(part) < len(found):
                found = found[int(part)]
            else:
                return match.group(0)
        return _as_text(found)

    return PLACEHOLDER.sub(value, text)


def _as_text(value: Any) -> str:
    """A value as Chatlayer (JavaScript) prints it: ``3.0`` -> ``3``, ``True`` -> ``true``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)
