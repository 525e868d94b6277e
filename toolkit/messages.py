"""The wire contract: commented TypedDicts for what a Chatlayer API step accepts, and tiny builders
that return JSON-ready dicts. Facts and sources: ``shared/chatlayer-contract.md`` §2.

Every builder that takes several items takes them as separate arguments or as one iterable (a list,
a tuple, a generator): ``buttons("Pick", b1, b2) == buttons("Pick", [b1, b2])``. A wrong item is a
:class:`~toolkit.errors.BuilderError` naming the builder, the position and the kinds accepted.

>>> text("Hello!")
{'type': 'text', 'config': {'textMessages': [{'text': 'Hello!'}]}}
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from numbers import Number
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

from .errors import BuilderError

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
    type: Literal["text", "buttons", "quickReplies", "carousel", "media", "list"]
    config: dict[str, Any]


class ListConfig(TypedDict):
    """``list`` is a documented type whose config Chatlayer never published for the API step; this is a
    best guess after the V1 ``listTemplate`` (contract §2.3): cards, an optional button below them."""

    elements: list[Card]  # 2-4 rows on most channels
    button: NotRequired[Button]  # e.g. "View more"
    size: NotRequired[Literal["large", "compact"]]  # the builder's large / compact list


class SessionWrite(TypedDict):
    namespace: str  # session key the data is stored under
    data: Any  # merged member-wise into that key by Chatlayer


class WireReply(TypedDict, total=False):
    session: SessionWrite  # stored first
    messages: list[Message]  # sent second
    action: dict[str, str]  # {"nextDialogstate": id} (every worked example and real backend)
    nextDialogstate: str  # redirect (prose of the docs; no real backend sends it), followed last


MESSAGE_TYPES = ("text", "buttons", "quickReplies", "carousel", "media", "list")
MEDIA_TYPES = ("image", "video", "audio", "attachment")
BUTTON_TYPES = ("postback", "web_url", "phone_number")
QUICK_REPLY_TYPES = ("postback", "location")
LIST_SIZES = ("large", "compact")
_BUTTON_KINDS = "toolkit.postback(...), toolkit.url_button(...) or toolkit.phone_button(...)"
_CARD_KINDS = "toolkit.card(...) (a dict with a title)"

# --- items: separate arguments or one iterable, each checked ------------------------------------


def _items(builder: str, args: tuple[Any, ...]) -> list[Any]:
    """``f(a, b)`` and ``f([a, b])`` (or a tuple, a generator, ...) give the same items."""
    if len(args) == 1 and _is_collection(args[0]):
        only = args[0]
        if hasattr(only, "columns") and hasattr(only, "to_dict"):
            raise BuilderError(
                f"{builder}() got a DataFrame; it takes its items one by one or as a list.",
                hint="Turn rows into cards with toolkit.carousel_from_frame(df, title='name', ...), "
                "or build the items yourself: [toolkit.card(r['name']) for r in df.to_dict('records')].")
        return list(only)
    return list(args)


def _is_collection(value: Any) -> bool:
    return not isinstance(value, str | bytes | Mapping) and hasattr(value, "__iter__")


def _describe(item: Any) -> str:
    if isinstance(item, Mapping):
        if "config" in item:
            return f"a {item.get('type')!r} message (a whole message, not an item of one)"
        if "type" in item:
            return f"a dict of type {item.get('type')!r}"
        return f"a dict without a type (keys: {', '.join(map(str, list(item)[:5])) or 'none'})"
    shown, name = repr(item), type(item).__name__
    article = "an" if name[0] in "aeiou" else "a"
    return f"{article} {name} ({shown if len(shown) <= 40 else shown[:37] + '...'})"


def _checked(builder: str, what: str, items: list[Any], kinds: tuple[str, ...] | None,
             accepted: str) -> list[dict[str, Any]]:
    """Each item as a dict, or a :class:`BuilderError` naming the builder, the position and the kinds."""
    out = []
    for i, item in enumerate(items, 1):
        ok = isinstance(item, Mapping) and "config" not in item and (
            item.get("type") in kinds if kinds else ("title" in item and "type" not in item))
        if not ok:
            raise BuilderError(
                f"{builder}(): {what} {i} of {len(items)} is {_describe(item)}; {builder}() accepts "
                f"{accepted}, as separate arguments or one list.",
                hint=f"e.g. {_EXAMPLES[builder]}")
        out.append(dict(item))
    return out


_EXAMPLES = {
    "buttons": "toolkit.buttons('Pick a plan', [toolkit.postback('Basic', 'b1'), "
               "toolkit.url_button('Compare', 'https://...')])",
    "quick_replies": "toolkit.quick_replies('Share your location?', [toolkit.postback('No', 'b2'), "
                     "toolkit.location()])",
    "carousel": "toolkit.carousel([toolkit.card('Bike A', '€499'), toolkit.card('Bike B', '€599')])",
    "list_message": "toolkit.list_message([toolkit.card('Bike A'), toolkit.card('Bike B')], "
                    "button=toolkit.url_button('All bikes', 'https://...'))",
    "card": "toolkit.card('Bike A', buttons=[toolkit.postback('Choose', 'b1')])",
}


def is_blank(value: Any) -> bool:
    """NaN, None, NaT and pandas' NA: a cell with nothing in it (rendered empty, or left out)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):  # pandas.NA refuses bool()
        return True


def _line(builder: str, value: Any, i: int, n: int) -> TextLine:
    if isinstance(value, str):
        return {"text": value}
    if isinstance(value, Number) and not isinstance(value, bool):  # numpy numbers too
        return {"text": "" if value != value else str(value)}  # NaN -> empty
    raise BuilderError(
        f"{builder}(): text line {i} of {n} is {_describe(value)}; a line is a str (or a number), "
        "given as separate arguments or one list.",
        hint="e.g. toolkit.text('Hello!', 'How can I help?') or toolkit.text(['Hello!', 'How can I help?']).")


def _lines(builder: str, text: Any) -> list[TextLine]:
    lines = _items(builder, text if isinstance(text, tuple) else (text,))
    if not lines:
        raise BuilderError(f"{builder}() needs at least one line of text.",
                           hint="e.g. toolkit.text('Hello!').")
    return [_line(builder, line, i, len(lines)) for i, line in enumerate(lines, 1)]


def _params(params: Mapping[str, Any] | Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        return [{"key": str(k), "value": v} for k, v in params.items()]
    return [dict(p) for p in params]


# --- builders --------------------------------------------------------------------------------


def text(*lines: str | Iterable[str]) -> Message:
    """A text message; each line is its own bubble: ``text("Hi", "Bye")`` == ``text(["Hi", "Bye"])``."""
    if len(lines) == 1 and type(lines[0]) is str:  # the usual text("...") needs no checks
        return {"type": "text", "config": {"textMessages": [{"text": lines[0]}]}}
    return {"type": "text", "config": {"textMessages": _lines("text", lines)}}


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


def buttons(text: str | Iterable[str], *items: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> Message:
    """Text with buttons (``postback``, ``url_button``, ``phone_button``), one by one or as one list."""
    found = _checked("buttons", "button", _items("buttons", items), BUTTON_TYPES, _BUTTON_KINDS)
    return {"type": "buttons", "config": {"textMessages": _lines("buttons", text), "buttons": found}}


def quick_replies(text: str | Iterable[str],
                  *items: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> Message:
    """Text with quick replies (``postback`` or ``location``), one by one or as one list."""
    found = _checked("quick_replies", "quick reply", _items("quick_replies", items), QUICK_REPLY_TYPES,
                     "toolkit.postback(...) or toolkit.location(...)")
    return {"type": "quickReplies", "config": {"textMessages": _lines("quick_replies", text),
                                               "quickReplies": found}}


def card(
    title: str,
    subtitle: str | None = None,
    *,
    image_url: str | None = None,
    url: str | None = None,
    buttons: Iterable[Mapping[str, Any]] | Mapping[str, Any] = (),
) -> Card:
    """One carousel (or list) card; an empty value (None, NaN) leaves its field out."""
    out: dict[str, Any] = {"title": "" if is_blank(title) else str(title)}
    if not is_blank(subtitle):
        out["subTitle"] = str(subtitle)
    if image_url and not is_blank(image_url):
        out["imageUrl"] = str(image_url)
    if url and not is_blank(url):
        out["webUrl"] = str(url)
    given = [buttons] if isinstance(buttons, Mapping) else _items("card", (buttons,))
    out["buttons"] = _checked("card", "button", given, BUTTON_TYPES, _BUTTON_KINDS)
    return out  # type: ignore[return-value]


def carousel(*cards: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> Message:
    """A carousel of ``card(...)`` elements, one by one or as one list."""
    found = _checked("carousel", "card", _items("carousel", cards), None, _CARD_KINDS)
    return {"type": "carousel", "config": {"elements": found}}


def list_message(*elements: Mapping[str, Any] | Iterable[Mapping[str, Any]],
                 button: Mapping[str, Any] | None = None, size: str | None = None) -> Message:
    """A ``list`` message: ``card(...)`` rows and an optional button below them.

    Chatlayer names the type but never published its config for the API step: this emits the
    best guess described in :class:`ListConfig` (the V1 ``listTemplate`` shape); the app notes once
    that the shape is unconfirmed. ``size`` is ``"large"`` or ``"compact"``.
    """
    found = _checked("list_message", "element", _items("list_message", elements), None, _CARD_KINDS)
    config: dict[str, Any] = {"elements": found}
    if button is not None:
        config["button"] = _checked("list_message", "button", [button], BUTTON_TYPES, _BUTTON_KINDS)[0]
    if size is not None:
        if size not in LIST_SIZES:
            raise BuilderError(f"list_message(): size {size!r} is not one of {', '.join(LIST_SIZES)}.",
                               hint="Leave size out, or write size='compact'.")
        config["size"] = size
    return {"type": "list", "config": config}




def media(url: str, kind: str = "image", *, cache: bool = False) -> Message:
    """An image, video, audio or attachment by URL; ``cache=True`` sets the 2020 spec's ``isCache``."""
    if kind not in MEDIA_TYPES:
        raise BuilderError(f"media(): kind {kind!r} is not one of {', '.join(MEDIA_TYPES)}.",
                           hint="e.g. toolkit.media('https://.../clip.mp4', 'video').")
    found: dict[str, Any] = {"type": kind, "url": url}
    if cache:
        found["isCache"] = True
    return {"type": "media", "config": {"media": found}}


LIST_DEPRECATED = ("toolkit.list_ is deprecated and will be removed in the next release: "
                   "use toolkit.list_message (the same function).")

if TYPE_CHECKING:
    list_ = list_message  # the old name still type-checks; at run time it warns
else:

    def __getattr__(name: str) -> Any:
        if name == "list_":  # the old short name of list_message, for one release
            warnings.warn(LIST_DEPRECATED, DeprecationWarning, stacklevel=2)
            return list_message
        raise AttributeError(f"module 'toolkit.messages' has no attribute {name!r}")
