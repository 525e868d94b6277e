"""Chatlayer messages as HTML, the way a user would see them: text bubbles, buttons, quick
replies, carousel cards with images, media. Pure functions shared by the log view's detail pane
and the chat view (no ipywidgets here).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

BUBBLE = ("display:inline-block;max-width:80%;margin:2px 0;padding:6px 10px;border-radius:14px;"
          "background:#eef1f5;color:#222;font:13px/1.4 sans-serif;white-space:pre-wrap")
USER_BUBBLE = BUBBLE.replace("background:#eef1f5;color:#222", "background:#2563eb;color:#fff")
CHIP = ("display:inline-block;margin:2px 4px 2px 0;padding:3px 10px;border:1px solid #2563eb;"
        "border-radius:12px;color:#2563eb;font:12px sans-serif")
# A carousel scrolls inside its own row: width 0 keeps its cards out of the width the page lays out
# (the chat stays 420 px wide), min-width 100% then gives it the row.
CAROUSEL = ("width:0;min-width:100%;box-sizing:border-box;white-space:nowrap;overflow-x:auto;"
            "padding-bottom:2px")
CARD = ("display:inline-block;vertical-align:top;width:160px;margin:2px 6px 2px 0;border:1px solid #ddd;"
        "border-radius:8px;overflow:hidden;font:12px sans-serif;background:#fff")


def _texts(config: Mapping[str, Any]) -> str:
    lines = config.get("textMessages") or []
    return "".join(f'<div><span class="tk-bubble" style="{BUBBLE}">{escape(str(t.get("text", "")))}'
                   "</span></div>" for t in lines if isinstance(t, Mapping))


def chip(item: Mapping[str, Any]) -> str:
    """One button or quick reply as a pill; the title says what a click does."""
    kind = item.get("type", "")
    icon = {"web_url": "↗ ", "phone_number": "☎ ", "location": "📍 "}.get(str(kind), "")
    target = item.get("url") or item.get("payload")
    if isinstance(target, Mapping):
        target = f"→ {target.get('nextDialogstateId', '')}"
    tip = escape(f"{kind} {target or ''}".strip(), quote=True)
    title = escape(str(item.get("title", "")))
    return f'<span class="tk-chip" style="{CHIP}" title="{tip}">{icon}{title}</span>'


def _chips(items: Iterable[Mapping[str, Any]]) -> str:
    return "<div>" + "".join(chip(i) for i in items if isinstance(i, Mapping)) + "</div>"


def card_html(card: Mapping[str, Any]) -> str:
    """One carousel card: image, title, subtitle, buttons."""
    img, title, sub = _element_parts(card, "width:100%;height:90px;object-fit:cover;display:block")
    return (f'<div class="tk-card" style="{CARD}">{img}<div style="padding:6px"><b>{title}'
            f"</b>{sub}{_chips(card.get('buttons') or [])}</div></div>")


def _element_parts(item: Mapping[str, Any], img_style: str) -> tuple[str, str, str]:
    """The image (styled ``img_style``), title and subtitle HTML of a card or a list element."""
    image = item.get("imageUrl")
    img = f'<img src="{escape(str(image), quote=True)}" alt="" style="{img_style}">' if image else ""
    subtitle = item.get("subTitle")
    sub = f'<div style="color:#666">{escape(str(subtitle))}</div>' if subtitle else ""
    return img, escape(str(item.get("title", ""))), sub


def message_html(message: Mapping[str, Any]) -> str:
    """One ``{type, config}`` message as HTML."""
    kind, config = message.get("type"), message.get("config") or {}
    if kind == "text":
        return _texts(config)
    if kind == "buttons":
        return _texts(config) + _chips(config.get("buttons") or [])
    if kind == "quickReplies":
        return _texts(config) + _chips(config.get("quickReplies") or [])
    if kind == "carousel":
        cards = "".join(card_html(c) for c in config.get("elements") or [] if isinstance(c, Mapping))
        return f'<div class="tk-carousel" style="{CAROUSEL}">{cards}</div>'
    if kind == "list":
        return list_html(config)
    if kind == "media":
        return media_html(config.get("media") or {})
    return f"<div><code>{escape(str(kind))}</code> message</div>"


def list_html(config: Mapping[str, Any]) -> str:
    """A ``list`` message (best-guess shape): one row a card, then the list's button."""
    rows = []
    for item in config.get("elements") or []:
        if not isinstance(item, Mapping):
            continue
        img, title, sub = _element_parts(
            item, "width:48px;height:48px;object-fit:cover;float:right;border-radius:4px")
        rows.append(f'<div style="padding:6px;border-bottom:1px solid #eee;overflow:hidden">{img}'
                    f'<b>{title}</b>{sub}{_chips(item.get("buttons") or [])}</div>')
    button = config.get("button")
    below = _chips([button]) if isinstance(button, Mapping) else ""
    box = "width:260px;border:1px solid #ddd;border-radius:8px;background:#fff;font:12px sans-serif"
    return f'<div style="{box}" title="list (best-guess shape)">{"".join(rows)}</div>{below}'


def media_html(media: Mapping[str, Any]) -> str:
    url = escape(str(media.get("url", "")), quote=True)
    kind = media.get("type")
    if kind == "image":
        return f'<div><img src="{url}" alt="image" style="max-width:220px;border-radius:8px"></div>'
    if kind in ("video", "audio"):
        return f'<div><{kind} controls src="{url}" style="max-width:260px"></{kind}></div>'
    return f'<div><a href="{url}" target="_blank">📎 {url}</a></div>'


def messages_html(messages: Iterable[Mapping[str, Any]]) -> str:
    """Several messages, top to bottom."""
    return "".join(message_html(m) for m in messages if isinstance(m, Mapping))


def user_html(text: str) -> str:
    """A user's turn: a right-aligned bubble."""
    return (f'<div style="text-align:right"><span class="tk-bubble tk-user-bubble" style="{USER_BUBBLE}">'
            f"{escape(text)}</span></div>")


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
