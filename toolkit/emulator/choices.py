"""What the user can click: buttons, quick replies and carousel-card buttons offered in the
transcript, found by title (newest first)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from ..errors import ConversationError


class Choice(NamedTuple):
    """One clickable item: its title, type (postback, web_url, phone_number, location), the wire
    object, and the carousel card it sits on (or None)."""

    title: str
    kind: str
    item: dict[str, Any]
    card: str | None = None


def message_choices(message: Mapping[str, Any]) -> Iterator[Choice]:
    """The clickable items of one message, in order."""
    kind, config = message.get("type"), message.get("config") or {}
    if kind in ("buttons", "quickReplies"):
        for item in config.get("buttons" if kind == "buttons" else "quickReplies") or []:
            if isinstance(item, Mapping):
                yield Choice(str(item.get("title", "")), str(item.get("type", "")), dict(item))
    elif kind in ("carousel", "list"):  # a list's rows are cards, and it may have a button below
        for card in config.get("elements") or []:
            for item in card.get("buttons") or []:
                if isinstance(item, Mapping):
                    yield Choice(str(item.get("title", "")), str(item.get("type", "")), dict(item),
                                 str(card.get("title", "")))
        below = config.get("button")
        if kind == "list" and isinstance(below, Mapping):
            yield Choice(str(below.get("title", "")), str(below.get("type", "")), dict(below))


def _bot_messages_newest_first(entries: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for entry in reversed(entries):
        if entry.get("sender") == "bot":
            yield entry.get("message") or {}


def latest_choices(entries: Sequence[Mapping[str, Any]]) -> list[Choice]:
    """Everything clickable that the bot offered after the user's last turn."""
    last_user = max((i for i, e in enumerate(entries) if e.get("sender") == "user"), default=-1)
    out: list[Choice] = []
    for entry in entries[last_user + 1:]:
        if entry.get("sender") == "bot":
            out += message_choices(entry.get("message") or {})
    return out


def find_choice(entries: Sequence[Mapping[str, Any]], title: str, card: str | None = None) -> Choice:
    """The newest item titled ``title`` (exact, then ignoring case); ``card`` picks a carousel card."""
    wanted, offered = str(title).strip(), list[Choice]()
    for message in _bot_messages_newest_first(entries):
        items = list(message_choices(message))
        offered += [c for c in items if c.title not in {o.title for o in offered}]
        if card is not None:
            items = [c for c in items if (c.card or "").lower() == card.strip().lower()]
        hits = ([c for c in items if c.title == wanted]
                or [c for c in items if c.title.lower() == wanted.lower()])
        if not hits:
            continue
        if len({repr(c.item) for c in hits}) > 1:
            cards = ", ".join(repr(c.card) for c in hits if c.card)
            which = f" (cards {cards})." if cards else "."
            raise ConversationError(f"{len(hits)} buttons are titled {title!r}{which}",
                                    hint=f"Say which card: click({title!r}, card={hits[0].card!r}).")
        return hits[0]
    shown = ", ".join(repr(c.title) + (f" (card {c.card!r})" if c.card else "") for c in offered[:12])
    on_card = f" on card {card!r}" if card else ""
    raise ConversationError(f"No button or quick reply titled {title!r}{on_card}.",
                            hint=f"Offered so far: {shown}." if shown else "No buttons were offered yet.")


def location_target(entries: Sequence[Mapping[str, Any]]) -> str | None:
    """The block of the newest location quick reply offered, or None."""
    for message in _bot_messages_newest_first(entries):
        for choice in message_choices(message):
            if choice.kind == "location":
                payload = choice.item.get("payload") or {}
                return str(payload.get("nextDialogstateId") or "") or None
    return None
