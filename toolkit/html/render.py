"""Chatlayer messages as HTML, the way a user would see them: text bubbles, buttons, quick
replies, carousel cards with images, media (the macros of ``templates/messages.html``), and as the
plain text a user reads. Pure functions shared by the log view's detail pane, transcripts and the
chat view (no ipywidgets here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .templates import macro


def _macro(name: str) -> Any:
    return macro("messages.html", name)


def chip(item: Mapping[str, Any]) -> str:
    """One button or quick reply as a pill; the title says what a click does."""
    return str(_macro("chip")(item))


def card_html(card: Mapping[str, Any]) -> str:
    """One carousel card: image, title, subtitle, buttons."""
    return str(_macro("card")(card))


def message_html(message: Mapping[str, Any]) -> str:
    """One ``{type, config}`` message as HTML."""
    return str(_macro("message")(message))


def list_html(config: Mapping[str, Any]) -> str:
    """A ``list`` message (best-guess shape): one row a card, then the list's button."""
    return str(_macro("list")(config))


def media_html(media: Mapping[str, Any]) -> str:
    """A media message: an image, a video or audio player, or a link to the file. A URL that is not
    http(s), mailto, tel or relative is shown as text."""
    return str(_macro("media")(media))


def messages_html(messages: Iterable[Mapping[str, Any]]) -> str:
    """Several messages, top to bottom."""
    return str(_macro("messages")(messages))


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
    """The plain text of a reply's messages, one line each (``""`` for an error or no messages)."""
    if not isinstance(response, Mapping) or not isinstance(response.get("messages"), list):
        return ""
    messages = [m for m in response["messages"] if isinstance(m, Mapping)]
    return "\n".join(line for m in messages for line in message_lines(m))
