"""``toolkit.parity``: one script, two partners -- the emulated flow and the live bot -- side by side,
every difference marked: a text, a button, a missing or extra message, a different block where both
sides show it, a different set of calls to the app.

With the live bot: ``report = parity(script, Conversation(flow, app), Conversation(live_bot))``, then
``assert report, str(report)`` in pytest (the text lists every difference). Offline, two emulated
conversations of one flow agree:

>>> import toolkit
>>> flow = toolkit.Flow("cafe", start="welcome")
>>> _ = flow.message("welcome", "Hi! What would you like?")
>>> report = parity([("", "What would you like?")], toolkit.Conversation(flow), toolkit.Conversation(flow))
>>> bool(report), report.differences
(True, [])

Messages are compared as the user sees them: each text line is a bubble, a buttons / quick-replies
message is its last line with its choices (titles, kinds, links), a carousel its cards, a media its
URL. Postback payloads are not compared (a live bot's are opaque).

``ignore=`` masks volatile values (ids, timestamps, prices) on both sides before comparing: regular
expressions (strings or compiled) whose matches become ``‹masked›``, or callables ``text -> text``.
The report shows the masked text, so what was ignored stays visible.

>>> report = parity(script, emulated, live, ignore=[r"A-[0-9]{4}", masks_times])   # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..emulator.script import ScriptTurn, parse, play_turn
from ..emulator.transcript import choice_label, message_text
from ..errors import ToolkitError
from ..html.templates import macro

Bubble = tuple[Any, ...]  # (kind, what the user sees...) -- compared
WIDTH = 44
MASK = "‹masked›"
Ignore = str | re.Pattern[str] | Callable[[str], str]
Played = tuple[list[dict[str, Any]], list[Any]]  # per turn: the bot's and error entries, the calls


@dataclass(frozen=True)
class Difference:
    """One difference: in turn ``turn`` (``label``), of ``kind``, what each side showed."""

    turn: int
    label: str
    kind: str  # text, button, message, missing, extra, block, calls
    emulated: str
    live: str

    def __str__(self) -> str:
        return f"turn {self.turn} ({self.label}): {self.kind}: emulated {self.emulated!r}, live {self.live!r}"


@dataclass
class Line:
    """One aligned row of a turn: what each side showed (None: nothing) and its difference, if any."""

    emulated: str | None
    live: str | None
    difference: Difference | None = None


@dataclass
class TurnParity:
    number: int
    label: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class ParityReport:
    """The side-by-side transcript. ``bool(report)`` is True when nothing differs; :meth:`check`
    raises ``AssertionError`` with the text otherwise."""

    emulated: str
    live: str
    turns: list[TurnParity] = field(default_factory=list)

    @property
    def differences(self) -> list[Difference]:
        return [ln.difference for t in self.turns for ln in t.lines if ln.difference is not None]

    def __bool__(self) -> bool:
        return not self.differences

    def check(self) -> ParityReport:
        if self.differences:
            raise AssertionError(str(self))
        return self

    def headline(self) -> str:
        n, bad = len(self.turns), len(self.differences)
        what = "no difference" if not bad else f"{bad} difference{'' if bad == 1 else 's'}"
        return f"Parity of {self.emulated} and {self.live}: {what} in {n} turns."

    def __str__(self) -> str:
        out = [self.headline(), f"     {'#':>2}  {'emulated':<{WIDTH}}  live"]
        for t in self.turns:
            out.append(f"     {t.number:>2}  user: {t.label}")
            for ln in t.lines:
                mark = "  ✗ " if ln.difference else "    "
                left, right = _cut_pair(ln.emulated, ln.live)
                out.append(f"{mark}     {left:<{WIDTH}}  {right}")
        out += ["Differences:", *(f"  {d}" for d in self.differences)] if self.differences else []
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        turns = [(t.number, t.label, [(bool(ln.difference), ln.emulated or "—", ln.live or "—",
                                       ln.difference.kind if ln.difference else "") for ln in t.lines])
                 for t in self.turns]
        return str(macro("chatlayer.html", "parity")(self.headline(), bool(self), turns))


def parity(script: Any, emulated: Any, live: Any, *, ignore: Iterable[Ignore] | Ignore = ()) -> ParityReport:
    """Play ``script`` through both conversations (each restarted first) and compare turn by turn.

    ``ignore``: patterns (regex strings, compiled regexes) or callables ``text -> text`` that mask
    volatile values on both sides before comparing; masked text shows as ``‹masked›``.
    """
    turns = parse(script)
    mask = masker(ignore)
    report = ParityReport(_name(emulated), _name(live))
    sides = [_played(emulated, turns), _played(live, turns)]
    for number, (turn, a, b) in enumerate(zip(turns, *sides, strict=True), 1):
        report.turns.append(compare_turn(number, turn.label(), a, b, mask=mask))
    return report


def masker(ignore: Iterable[Ignore] | Ignore) -> Callable[[str], str]:
    """One function applying every ``ignore`` pattern or callable to a text (``ValueError`` naming a
    pattern that is not a valid regex, or an item that is neither)."""
    items = [ignore] if isinstance(ignore, str | re.Pattern) or callable(ignore) else list(ignore)
    steps: list[Callable[[str], str]] = []
    for item in items:
        if isinstance(item, str | re.Pattern):
            try:
                pattern = re.compile(item)
            except re.error as exc:
                raise ValueError(f"ignore pattern {item!r} is not a regular expression: {exc}.") from None
            steps.append(_regex_step(pattern))
        elif callable(item):
            steps.append(_call_step(item))
        else:
            raise ValueError(f"ignore= takes regex strings or callables, got {item!r}.")

    def mask(text: str) -> str:
        for step in steps:
            text = step(text)
        return text

    return mask


def _regex_step(pattern: re.Pattern[str]) -> Callable[[str], str]:
    return lambda text: pattern.sub(MASK, text)


def _call_step(fn: Callable[[str], Any]) -> Callable[[str], str]:
    return lambda text: str(fn(text))


def _masked(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, tuple):
        return tuple(_masked(v, mask) for v in value)
    return value


def _name(conversation: Any) -> str:
    live = getattr(conversation, "live", None)
    return f"live bot {live.name!r}" if live is not None else f"flow {conversation.flow.name!r}"


def _played(conversation: Any, turns: Sequence[ScriptTurn]) -> list[Played]:
    """Per turn: the bot's and error entries, and the calls to the app (kept when a turn failed, e.g.
    a live turn that timed out: they are on the user's entry)."""
    out: list[Played] = []
    opening = conversation.restart()
    for turn in turns:
        if turn.action == "start":
            out.append((list(opening.entries), list(opening.calls)))
            continue
        mark, played = len(conversation.transcript), None
        try:
            played = play_turn(conversation, turn)
        except ToolkitError:
            pass  # the error is in the transcript as a system entry
        new = conversation.transcript[mark:]
        entries = [e for e in new if e.get("sender") != "user"]
        said: Mapping[str, Any] = next((e for e in new if e.get("sender") == "user"), {})
        calls = played.calls if played is not None and played.calls else said.get("calls") or []
        out.append((entries, list(calls)))
    return out


def compare_turn(number: int, label: str, emulated: tuple[list[Any], list[Any]],
                 live: tuple[list[Any], list[Any]], *,
                 mask: Callable[[str], str] | None = None) -> TurnParity:
    """Align the two sides' bubbles (masked by ``mask``, see :func:`masker`) and mark every difference."""
    result = TurnParity(number, label)
    a, b = bubbles(emulated[0]), bubbles(live[0])
    if mask is not None:
        a = [(_masked(k, mask), mask(shown), block) for k, shown, block in a]
        b = [(_masked(k, mask), mask(shown), block) for k, shown, block in b]
    matcher = difflib.SequenceMatcher(None, [x[0] for x in a], [x[0] for x in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        left, right = a[i1:i2], b[j1:j2]
        for k in range(max(len(left), len(right))):
            x = left[k] if k < len(left) else None
            y = right[k] if k < len(right) else None
            result.lines.append(_line(number, label, op, x, y))
    calls_a, calls_b = [_call(c) for c in emulated[1]], [_call(c) for c in live[1]]
    if mask is not None:
        calls_a = [(_masked(k, mask), mask(shown)) for k, shown in calls_a]
        calls_b = [(_masked(k, mask), mask(shown)) for k, shown in calls_b]
    if [c[0] for c in calls_a] != [c[0] for c in calls_b]:
        diff = Difference(number, label, "calls", "; ".join(c[1] for c in calls_a) or "none",
                          "; ".join(c[1] for c in calls_b) or "none")
        result.lines.append(Line(diff.emulated, diff.live, diff))
    else:
        result.lines += [Line(f"↳ {x[1]}", f"↳ {y[1]}") for x, y in zip(calls_a, calls_b, strict=True)]
    return result


def _call(call: Mapping[str, Any]) -> tuple[tuple[Any, Any], str]:
    """(what is compared, what is shown): the path and status; times differ from run to run."""
    return (call.get("path"), call.get("status")), f"called {call.get('path')} → {call.get('status')}"


def _line(number: int, label: str, op: str, x: tuple[Bubble, str, Any] | None,
          y: tuple[Bubble, str, Any] | None) -> Line:
    if x is None or y is None:
        kind = "missing" if y is None else "extra"
        left, right = (x[1] if x else None), (y[1] if y else None)
        return Line(left, right, Difference(number, label, kind, left or "", right or ""))
    if op == "equal":
        if x[2] and y[2] and x[2] != y[2]:
            return Line(x[1], y[1], Difference(number, label, "block", str(x[2]), str(y[2])))
        return Line(x[1], y[1])
    return Line(x[1], y[1], Difference(number, label, _kind(x[0], y[0]), x[1], y[1]))


def _kind(x: Bubble, y: Bubble) -> str:
    """What differs between two bubbles: message (its type), text, button, card, media or error."""
    if x[0] != y[0]:
        return "message"
    if x[0] in ("buttons", "quickReplies"):
        return "text" if x[1] != y[1] else "button"
    return {"carousel": "card", "list": "card"}.get(str(x[0]), str(x[0]))


def bubbles(entries: Sequence[Mapping[str, Any]]) -> list[tuple[Bubble, str, Any]]:
    """What the user sees, one bubble per line: (comparable key, shown text, block or None)."""
    out: list[tuple[Bubble, str, Any]] = []
    for entry in entries:
        block = entry.get("block")
        if entry.get("sender") != "bot":
            text = f"error: {entry.get('text', '')}"
            out.append((("error", str(entry.get("text", ""))), text, None))
            continue
        message = entry.get("message") or {}
        kind, config = message.get("type"), message.get("config") or {}
        lines = [str(t.get("text", "")) for t in config.get("textMessages") or []]
        if kind == "text":
            out += [(("text", line), f"bot: {line}", block) for line in lines]
            continue
        if kind in ("buttons", "quickReplies"):
            out += [(("text", line), f"bot: {line}", block) for line in lines[:-1]]
            items = config.get("buttons" if kind == "buttons" else "quickReplies") or []
            choices = tuple(_choice(i) for i in items)
            last = lines[-1] if lines else ""
            out.append(((kind, last, choices), f"bot: {message_text(message)}", block))
            continue
        out.append(((str(kind), _seen(message)), f"bot: {message_text(message)}", block))
    return out


def _choice(item: Mapping[str, Any]) -> tuple[str, str]:
    number = item.get("payload") if item.get("type") == "phone_number" else ""
    return choice_label(item), str(item.get("url") or number)


def _seen(message: Mapping[str, Any]) -> Any:
    config = message.get("config") or {}
    if message.get("type") in ("carousel", "list"):
        cards = config.get("elements") or []
        below = config.get("button")
        return tuple((c.get("title"), c.get("subTitle"), c.get("imageUrl"), c.get("webUrl"),
                      tuple(_choice(b) for b in c.get("buttons") or [])) for c in cards) + (
            (_choice(below),) if isinstance(below, Mapping) else ())
    return message_text(message)


def _cut_pair(left: str | None, right: str | None) -> tuple[str, str]:
    """Both sides cut to the column width, around where they first differ (so it shows)."""
    a, b = ("—" if left is None else left), ("—" if right is None else right)
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = 0 if first < WIDTH - 8 or a == b else first - WIDTH // 2
    return _cut(a, start), _cut(b, start)


def _cut(text: str, start: int = 0) -> str:
    head = "…" if start > 0 else ""
    body = text[start:]
    width = WIDTH - len(head)
    return head + (body if len(body) <= width else body[: width - 1] + "…")
