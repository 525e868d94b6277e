"""Conversation coverage: which blocks, API-step outcomes, error paths, go-to branches, buttons and
intents of a :class:`~toolkit.Flow` the scripted conversations exercised (as Rasa's end-to-end test
coverage and Dialogflow CX's test coverage do for their platforms).

>>> import toolkit
>>> flow = toolkit.Flow("cafe", start="welcome")
>>> _ = flow.message("welcome", toolkit.quick_replies("Coffee or tea?", toolkit.postback("Coffee", "coffee"),
...                                                   toolkit.postback("Tea", "tea")))
>>> _ = flow.message("coffee", "One coffee coming.")
>>> _ = flow.message("tea", "One tea coming.")
>>> chat = toolkit.Conversation(flow)
>>> passed = chat.run([("", "Coffee or tea?"), ("click: Coffee", "coffee coming")])
>>> coverage = Coverage(flow)
>>> coverage.add(chat)                # after chat.run(script); any number of conversations
<Coverage of flow 'cafe': 3 of 5 items (60.0%): blocks 2/3, buttons 1/2>
>>> coverage.percent, coverage.missing
(60.0, ["button 'welcome' 'Tea' -> tea", "block 'tea'"])
>>> coverage.to_frame().columns.tolist()   # one row per item
['kind', 'block', 'branch', 'target', 'hits', 'covered']

In pytest: ``assert coverage.percent >= 80, coverage.missing`` (or ``coverage.check(80)``).

A conversation records what it did in ``conversation.path`` (the engine's :class:`Step` list). A
conversation whose engine ran no block (``Conversation(LiveBot(...))``: the flow runs on the platform)
is read from its transcript (whole, at each ``add``): each bot message counts for the block whose
message it matches, each click for the block that offered the button.
"""

from __future__ import annotations

import re
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..html.templates import macro
from .blocks import ApiBlock, Block, GoToBlock, InputBlock, MessageBlock
from .choices import message_choices
from .flow import Flow
from .runner import Step
from .transcript import message_text

KINDS = ("block", "api step", "error path", "go-to branch", "button", "intent")
PLURAL = {"block": "blocks", "api step": "api steps", "error path": "error paths",
          "go-to branch": "go-to branches", "button": "buttons", "intent": "intents"}
WAITS = "(waits)"


@dataclass(frozen=True)
class Item:
    """One thing of a flow a test can exercise: ``kind`` (see :data:`KINDS`), the ``block`` (or
    intent), the ``branch`` (a condition, a button title, ...) and the ``target`` block it leads to."""

    kind: str
    block: str
    branch: str
    target: str
    key: tuple[str, str, str]

    def label(self) -> str:
        branch = f" {self.branch!r}" if self.branch else ""
        target = f" -> {self.target}" if self.target else ""
        return f"{self.kind} {self.block!r}{branch}{target}"


def _name(flow: Flow, ref: str | None) -> str:
    found = flow.find(ref) if ref else None
    return found.name if found is not None else (ref or "")


def _api_items(flow: Flow, block: ApiBlock) -> list[Item]:
    assert block.step is not None
    rows = block.step.tabs["body"] + block.step.tabs["query"] + block.step.tabs["headers"]
    targets = [_name(flow, str(r.value)) for r in rows if r.type == "dialogstate"]
    targets.append(_name(flow, block.next))  # no redirect: next, or "" (the flow waits)
    targets = list(dict.fromkeys(targets))
    out = [Item("api step", block.name, "answered", t or WAITS, ("api", block.name, t)) for t in targets]
    failed = _name(flow, block.on_error or flow.on_error) or WAITS
    return out + [Item("error path", block.name, "fails", failed, ("error", block.name, ""))]


def _button_items(flow: Flow, block: Block) -> list[Item]:
    messages = block.messages if isinstance(block, MessageBlock) else \
        block.prompt if isinstance(block, InputBlock) else []
    out: dict[str, Item] = {}
    for message in messages:
        for choice in message_choices(message):
            if choice.kind in ("postback", "location") and choice.title not in out:
                target = _name(flow, str((choice.item.get("payload") or {}).get("nextDialogstateId") or ""))
                out[choice.title] = Item("button", block.name, choice.title, target,
                                         ("button", block.name, choice.title))
    return list(out.values())


def flow_items(flow: Flow) -> list[Item]:
    """Everything of ``flow`` coverage counts, block by block, then the intents."""
    items: list[Item] = []
    for block in flow.blocks.values():
        items.append(Item("block", block.name, "", "", ("block", block.name, "")))
        if isinstance(block, ApiBlock):
            items += _api_items(flow, block)
        elif isinstance(block, GoToBlock):
            for number, (rule, target) in enumerate(block.rules, 1):
                shown = getattr(rule, "__name__", "") if callable(rule) else str(rule)
                items.append(Item("go-to branch", block.name, shown or f"rule {number}", _name(flow, target),
                                  ("goto", block.name, str(number))))
            items.append(Item("go-to branch", block.name, "default", _name(flow, block.default) or WAITS,
                              ("goto", block.name, "default")))
        items += _button_items(flow, block)
    for intent in flow.intents:
        items.append(Item("intent", intent.name, "", _name(flow, intent.go), ("intent", intent.name, "")))
    if flow.fallback:
        items.append(Item("intent", "(fallback)", "not understood", _name(flow, flow.fallback),
                          ("intent", "(fallback)", "")))
    return items


def step_key(step: Step) -> tuple[str, str, str]:
    """The :class:`Item` key a traced step counts for."""
    kind, name, detail = step
    return (kind, name, "" if kind in ("block", "error", "intent") else detail)


class Coverage:
    """What scripted conversations exercised of ``flow``: :meth:`add` conversations (emulated, or any
    object with a ``path`` of steps or a ``transcript``), then read :attr:`percent`, :attr:`missing`,
    :meth:`to_frame`, or draw it: :meth:`diagram` (covered blocks and branches shaded)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.items = flow_items(flow)
        self.hits: Counter[tuple[str, str, str]] = Counter()
        self._read: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()

    def add(self, *sources: Any) -> Coverage:
        """Count what each source exercised: a conversation (only its steps not counted yet), a list
        of :class:`Step`, or an object with a ``transcript`` (the blocks its messages came from)."""
        for source in sources:
            for step in self._steps(source):
                self.hits[step_key(Step(*step))] += 1
        return self

    def _steps(self, source: Any) -> Iterable[Step]:
        path = getattr(source, "path", None)
        if isinstance(path, list) and (any(step[0] == "block" for step in path)
                                       or not hasattr(source, "transcript")):
            start = self._read.get(source, 0)
            self._read[source] = len(path)
            return list(path[start:])
        if hasattr(source, "transcript"):
            return transcript_steps(self.flow, source.transcript)
        if isinstance(source, Iterable) and not isinstance(source, str | bytes | Mapping):
            return list(source)
        raise TypeError(f"Coverage.add takes conversations or lists of steps, not {type(source).__name__}.")

    def covered(self, item: Item) -> bool:
        return self.hits[item.key] > 0

    @property
    def percent(self) -> float:
        """Covered items in percent of all items (100.0 for a flow with nothing to cover)."""
        done = sum(self.covered(i) for i in self.items)
        return 100.0 * done / len(self.items) if self.items else 100.0

    @property
    def missing(self) -> list[str]:
        """The items no conversation exercised, as readable lines."""
        return [i.label() for i in self.items if not self.covered(i)]

    def to_frame(self) -> Any:
        """One row per item: kind, block, branch, target, hits, covered."""
        import pandas as pd

        rows = [{"kind": i.kind, "block": i.block, "branch": i.branch, "target": i.target,
                 "hits": self.hits[i.key], "covered": self.covered(i)} for i in self.items]
        return pd.DataFrame(rows, columns=["kind", "block", "branch", "target", "hits", "covered"])

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """(covered, total) per kind, in :data:`KINDS` order (kinds the flow lacks left out)."""
        out: dict[str, tuple[int, int]] = {}
        for kind in KINDS:
            items = [i for i in self.items if i.kind == kind]
            if items:
                out[kind] = (sum(self.covered(i) for i in items), len(items))
        return out

    def check(self, minimum: float = 100.0) -> Coverage:
        """Raise ``AssertionError`` listing what was missed when :attr:`percent` is below ``minimum``."""
        if self.percent < minimum:
            lines = "\n".join(f"  {m}" for m in self.missing)
            raise AssertionError(f"{self} is below {minimum:g}%. Not exercised:\n{lines}")
        return self

    def diagram(self) -> Any:
        """The flow as a Mermaid diagram with what was covered shaded (green) and missed (red)."""
        from .diagram import Diagram

        return Diagram(self.flow, self)

    def __repr__(self) -> str:
        done = sum(self.covered(i) for i in self.items)
        parts = ", ".join(f"{PLURAL[kind]} {c}/{n}" for kind, (c, n) in self.by_kind().items())
        return (f"<Coverage of flow {self.flow.name!r}: {done} of {len(self.items)} items "
                f"({self.percent:.1f}%): {parts}>")

    def _repr_html_(self) -> str:
        items = [(self.covered(i), i.kind, i.block, i.branch, i.target, self.hits[i.key]) for i in self.items]
        return str(macro("reports.html", "coverage")(repr(self)[1:-1], items))


def _patterns(flow: Flow) -> list[tuple[re.Pattern[str], str]]:
    """(pattern of a block's message as the user sees it, the block): templates match any value."""
    out = []
    for block in flow.blocks.values():
        messages = block.messages if isinstance(block, MessageBlock) else \
            block.prompt if isinstance(block, InputBlock) else []
        for message in messages:
            shown = message_text(message)
            if shown.strip():
                parts = re.split(r"\{[^{}]*\}", shown)
                out.append((re.compile("(?s)" + ".*?".join(map(re.escape, parts))), block.name))
    return out


def _is_location(block: Any, title: str) -> bool:
    messages = getattr(block, "messages", None) or getattr(block, "prompt", None) or []
    return any(c.kind == "location" and c.title == title for m in messages for c in message_choices(m))


def transcript_steps(flow: Flow, entries: Iterable[Mapping[str, Any]]) -> list[Step]:
    """Steps read from a transcript alone (a live bot runs the flow on the platform): the block each
    bot message came from (its ``block``, else the flow block whose message it matches, templates
    filled with anything), and each button or quick reply the user clicked there."""
    patterns = _patterns(flow)
    steps: list[Step] = []
    last, current = "", None  # the block that offered the latest buttons; the block being shown
    for entry in entries:
        if entry.get("sender") == "bot":
            block = entry.get("block") or next(
                (name for pattern, name in patterns
                 if pattern.fullmatch(message_text(entry.get("message") or {}))), None)
            if block and block != current:  # a block's next message is the same visit
                steps.append(Step("block", str(block)))
            current = block
            last = str(block) if block else ""  # buttons of an API step's own messages are no items
            continue
        current = None
        if entry.get("sender") == "user" and entry.get("type") in ("postback", "location") and last:
            title = str(entry.get("text") or "")
            if entry.get("type") == "location":  # the user's entry shows the place, not the button
                offered = flow.find(last)
                found = [i for i in _button_items(flow, offered) if i.branch] if offered else []
                title = next((i.branch for i in found if _is_location(offered, i.branch)), "")
            steps.append(Step("button", last, title))
    return steps
