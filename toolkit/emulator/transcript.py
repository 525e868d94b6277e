"""Transcripts as text: one readable line per message, what scripted checks match against, and
:class:`Turn`, what ``say`` / ``click`` / ``share_location`` return.

Entries are plain JSON-ready dicts: ``{"sender": "user", "type", "text"}``, ``{"sender": "bot",
"source": "flow" | "api" | "push", "block", "message"}`` and ``{"sender": "system", "type": "error",
"text"}`` (an API step that failed; Chatlayer shows the user nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..html.render import message_view
from ..html.templates import macro

KIND_LABELS = {"buttons": "buttons", "quickReplies": "quick replies", "carousel": "carousel",
               "media": "media"}


def _texts(config: Mapping[str, Any]) -> str:
    lines = config.get("textMessages") or []
    return " / ".join(str(t.get("text", "")) for t in lines if isinstance(t, Mapping))


def choice_label(item: Mapping[str, Any]) -> str:
    """``[Title]`` for a postback, ``[Title ↗]`` for a link, ``[Title ☎]``, ``[📍 Title]``."""
    title = str(item.get("title", ""))
    kind = item.get("type")
    if kind == "web_url":
        return f"[{title} ↗]"
    if kind == "phone_number":
        return f"[{title} ☎]"
    if kind == "location":
        return f"[📍 {title}]"
    return f"[{title}]"


def message_text(message: Mapping[str, Any]) -> str:
    """One message as one line of text (what a scripted check matches against)."""
    kind, config = message.get("type"), message.get("config") or {}
    if kind == "text":
        return _texts(config)
    if kind in ("buttons", "quickReplies"):
        items = config.get("buttons" if kind == "buttons" else "quickReplies") or []
        return " ".join([_texts(config), *(choice_label(i) for i in items if isinstance(i, Mapping))])
    if kind in ("carousel", "list"):  # a list: its rows like cards, then the button below them
        cards = []
        for c in config.get("elements") or []:
            sub = f" ({c['subTitle']})" if c.get("subTitle") else ""
            buttons = "".join(" " + choice_label(b) for b in c.get("buttons") or [])
            cards.append(f"{c.get('title', '')}{sub}{buttons}")
        below = config.get("button") if kind == "list" else None
        return " | ".join(cards) + (f" {choice_label(below)}" if isinstance(below, Mapping) else "")
    if kind == "media":
        media = config.get("media") or {}
        return f"{media.get('type', 'media')}: {media.get('url', '')}"
    return f"{kind} message"


def call_text(call: Mapping[str, Any]) -> str:
    """One request the app got during a turn: ``called /order-status → 200, 42 ms``."""
    return f"called {call.get('path')} → {call.get('status')}, {float(call.get('ms') or 0):.0f} ms"


def entry_text(entry: Mapping[str, Any]) -> str:
    """``you: ...`` / ``bot [carousel]: ...`` / ``error: ...``; a user turn that made the bot call the
    app's handlers is followed by one ``  ↳ called /path → status, N ms`` line per call."""
    sender = entry.get("sender")
    if sender == "user":
        said = str(entry.get("text", ""))
        line = f"you: [{said}]" if entry.get("type") in ("postback", "link") else f"you: {said}"
        return "\n".join([line, *(f"  ↳ {call_text(c)}" for c in entry.get("calls") or [])])
    if sender == "bot":
        message = entry.get("message") or {}
        label = KIND_LABELS.get(str(message.get("type")))
        return f"bot{f' [{label}]' if label else ''}: {message_text(message)}"
    return f"error: {entry.get('text', '')}"


def transcript_text(entries: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(entry_text(e) for e in entries)


def transcript_html(entries: Iterable[Mapping[str, Any]]) -> str:
    """Chat bubbles for the entries (the chat view and ``Turn._repr_html_``)."""
    items: list[tuple[str, Any, list[str]]] = []
    for e in entries:
        if e.get("sender") == "user":
            items.append(("user", str(e.get("text", "")), [call_text(c) for c in e.get("calls") or []]))
        elif e.get("sender") == "bot":
            message = e.get("message") or {}
            if isinstance(message, Mapping):
                items.append(("bot", message_view(message), []))
        else:
            items.append(("system", str(e.get("text")), []))
    return str(macro("transcript.html", "transcript")(items))


@dataclass
class Turn:
    """One exchange: the user's action and what the bot answered (plus API-step errors)."""

    user: dict[str, Any] | None
    entries: list[dict[str, Any]] = field(default_factory=list)  # bot and error entries
    id: str | None = None  # the turn id requests to the app were linked with (Exchange.turn)
    calls: list[dict[str, Any]] = field(default_factory=list)  # {method, path, status, ms} per request

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The bot's messages of this turn, rendered."""
        return [e["message"] for e in self.entries if e.get("sender") == "bot"]

    @property
    def errors(self) -> list[str]:
        return [str(e.get("text")) for e in self.entries if e.get("sender") == "system"]

    @property
    def text(self) -> str:
        """The bot's answer as text, one line per message."""
        return "\n".join(message_text(m) for m in self.messages)

    def __repr__(self) -> str:
        head = [entry_text(self.user)] if self.user else [f"↳ {call_text(c)}" for c in self.calls]
        lines = head + [entry_text(e) for e in self.entries]
        return "\n".join(lines) if lines else "(nothing)"

    def _repr_html_(self) -> str:
        return transcript_html(([self.user] if self.user else []) + self.entries)
