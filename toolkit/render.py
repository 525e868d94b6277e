"""Chatlayer messages as HTML, the way a user would see them: text bubbles, buttons, quick
replies, carousel cards with images, media. Pure functions shared by the log view's detail pane
and the chat view (no ipywidgets here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

BUBBLE = ("display:inline-block;max-width:80%;margin:2px 0;padding:6px 10px;border-radius:14px;"
          "background:#eef1f5;color:#222;font:13px/1.4 sans-serif;white-space:pre-wrap")
USER_BUBBLE = BUBBLE.replace("background:#eef1f5;color:#222", "background:#2563eb;color:#fff")
CHIP = ("display:inline-block;margin:2px 4px 2px 0;padding:3px 10px;border:1px solid #2563eb;"
        "border-radius:12px;color:#2563eb;font:12px sans-serif")
CARD = ("display:inline-block;vertical-align:top;width:160px;margin:2px 6px 2px 0;border:1px solid #ddd;"
        "border-radius:8px;overflow:hidden;font:12px sans-serif;background:#fff")


def _texts(config: Mapping[str, Any]) -> str:
    lines = config.get("textMessages") or []
    return "".join(f'<div><span style="{BUBBLE}">{escape(str(t.get("text", "")))}</span></div>'
                   for t in lines if isinstance(t, Mapping))


def chip(item: Mapping[str, Any]) -> str:
    """One button or quick reply as a pill; the title says what a click does."""
    kind = item.get("type", "")
    icon = {"web_url": "↗ ", "phone_number": "☎ ", "location": "📍 "}.get(str(kind), "")
    target = item.get("url") or item.get("payload")
    if isinstance(target, Mapping):
        target = f"→ {target.get('nextDialogstateId', '')}"
    tip = escape(f"{kind} {target or ''}".strip(), quote=True)
    return f'<span style="{CHIP}" title="{tip}">{icon}{escape(str(item.get("title", "")))}</span>'


def _chips(items: Iterable[Mapping[str, Any]]) -> str:
    return "<div>" + "".join(chip(i) for i in items if isinstance(i, Mapping)) + "</div>"


def card_html(card: Mapping[str, Any]) -> str:
    """One carousel card: image, title, subtitle, buttons."""
    image = card.get("imageUrl")
    img = (f'<img src="{escape(str(image), quote=True)}" alt="" '
           'style="width:100%;height:90px;object-fit:cover;display:block">') if image else ""
    subtitle = card.get("subTitle")
    sub = f'<div style="color:#666">{escape(str(subtitle))}</div>' if subtitle else ""
    return (f'<div style="{CARD}">{img}<div style="padding:6px"><b>{escape(str(card.get("title", "")))}'
            f"</b>{sub}{_chips(card.get('buttons') or [])}</div></div>")


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
        return f'<div style="white-space:nowrap;overflow-x:auto">{cards}</div>'
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
        image = item.get("imageUrl")
        img = (f'<img src="{escape(str(image), quote=True)}" alt="" style="width:48px;height:48px;'
               'object-fit:cover;float:right;border-radius:4px">') if image else ""
        subtitle = item.get("subTitle")
        sub = f'<div style="color:#666">{escape(str(subtitle))}</div>' if subtitle else ""
        title = escape(str(item.get("title", "")))
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
    return f'<div style="text-align:right"><span style="{USER_BUBBLE}">{escape(text)}</span></div>'
