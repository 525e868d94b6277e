"""Scripted conversations: user turns with the bot replies expected, from a list or a CSV file,
played through a :class:`Conversation` into a pass/fail :class:`Report` (for pytest and notebooks).

A turn is ``(user, expect)``: ``user`` is text to say, ``"click: Title"``, ``"location: 50.85, 4.35"``
or ``""`` (the bot's opening, first turn only); ``expect`` is a text (or a list) that must occur in
the bot's answer; ``re:`` starts a regex, ``not:`` a text that must not occur. A CSV has columns
``user`` and ``expect`` (or ``bot``), one expectation per line of the cell, and optionally ``action``
(say, click, location).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FlowError, ToolkitError
from ..html.templates import macro
from .transcript import entry_text

if TYPE_CHECKING:
    from .conversation import Conversation

ACTIONS = ("start", "say", "click", "location")
_PREFIX = re.compile(r"^\s*(click|location)\s*:\s*(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ScriptTurn:
    """One scripted user action and what the bot's answer must contain."""

    action: str  # start, say, click or location
    value: str = ""
    expect: tuple[str, ...] = ()
    card: str | None = None

    def label(self) -> str:
        if self.action == "start":
            return "(opening)"
        return f"{self.action} {self.value!r}" + (f" on card {self.card!r}" if self.card else "")


def _expectations(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.splitlines() if isinstance(value, str) else [str(v) for v in value]
    return tuple(i.strip() for i in items if i.strip())


def turn_of(item: Any, action: str | None = None, card: str | None = None) -> ScriptTurn:
    """A :class:`ScriptTurn` from one list item (a string, a tuple or a dict)."""
    if isinstance(item, Mapping):
        given = [a for a in ("say", "click", "location", "start") if a in item]
        if len(given) != 1:
            raise FlowError(f"Script turn {dict(item)!r} needs one of say, click, location or start.",
                            hint="E.g. {'say': 'hi', 'expect': 'Hello'} or {'click': 'Track an order'}.")
        value = item[given[0]]
        if given[0] == "location" and isinstance(value, list | tuple):
            value = ", ".join(map(str, value))
        return ScriptTurn(given[0], "" if given[0] == "start" else str(value),
                          _expectations(item.get("expect", item.get("bot"))), item.get("card"))
    user, expect = (item, None) if isinstance(item, str) else (tuple(item) + (None,))[:2]
    user = "" if user is None else str(user)
    if action:
        kind = action.strip().lower()
        if kind not in ACTIONS:
            raise FlowError(f"Script action {action!r} is unknown.", hint=f"Use one of {', '.join(ACTIONS)}.")
        return ScriptTurn(kind, user.strip(), _expectations(expect), card)
    m = _PREFIX.match(user)
    if m:
        return ScriptTurn(m.group(1).lower(), m.group(2).strip(), _expectations(expect), card)
    return ScriptTurn("say" if user.strip() else "start", user, _expectations(expect), card)


def read_csv(path: str | os.PathLike[str]) -> list[ScriptTurn]:
    """Script turns from a CSV file with columns user, expect (or bot) and optionally action, card."""
    file = Path(path)
    if not file.is_file():
        raise FlowError(f"No script file at {file.absolute()}.",
                        hint="Check the path (relative to the notebook).")
    with file.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if "user" not in columns:
            raise FlowError(f"{file.name} has no 'user' column (columns: {', '.join(columns) or 'none'}).",
                            hint="The first line names the columns: user,expect (optionally action,card).")
        rows = [{str(k).strip().lower(): v for k, v in row.items()} for row in reader]
    return [turn_of((row.get("user"), row.get("expect", row.get("bot"))), row.get("action") or None,
                    row.get("card") or None) for row in rows]


def parse(script: Any) -> list[ScriptTurn]:
    """Turns from a CSV path or a list of items."""
    if _is_file(script):
        return read_csv(script)
    if isinstance(script, str) or not hasattr(script, "__iter__"):
        raise FlowError(f"A script is a list of turns or a .csv path, got {script!r}.",
                        hint="E.g. [('hi', 'Hello'), ('click: Track an order', 'order number')].")
    return [turn_of(item) for item in script]


def matches(expect: str, text: str) -> bool:
    if expect.startswith("not:"):
        return not matches(expect[4:].strip(), text)
    if expect.startswith("re:"):
        return re.search(expect[3:].strip(), text) is not None
    return expect in text


@dataclass
class Check:
    """One played turn: what was expected, what the bot said, and what did not match."""

    number: int
    turn: ScriptTurn
    got: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass
class Report:
    """The pass/fail report of a scripted conversation. ``bool(report)`` is True when every turn
    passed; :meth:`check` raises ``AssertionError`` with this text otherwise."""

    flow: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def __bool__(self) -> bool:
        return self.passed

    def __len__(self) -> int:
        return len(self.checks)

    def check(self) -> Report:
        if not self.passed:
            raise AssertionError(str(self))
        return self

    def __str__(self) -> str:
        n, bad = len(self.checks), len(self.failures)
        head = (f"Conversation test of flow {self.flow!r}: all {n} turns passed." if not bad else
                f"Conversation test of flow {self.flow!r} FAILED: {bad} of {n} turns failed.")
        lines = [head]
        for c in self.checks:
            lines.append(f"  {'ok  ' if c.passed else 'FAIL'} {c.number:>2}  {c.turn.label()}")
            if not c.passed:
                lines += [f"          {p}" for p in c.problems]
                said = c.got.splitlines() or ["(nothing)"]
                lines.append("          bot said: " + said[0][:160])
                lines += [" " * 20 + s[:160] for s in said[1:]]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        checks = [(c.passed, c.number, c.turn.label(), _expected(c), c.got[:400]) for c in self.checks]
        return str(macro("reports.html", "script")(str(self).splitlines()[0], self.passed, checks))


def _expected(check: Check) -> str:
    """What the report's table shows for a check: its problems, else what the turn expected."""
    return "; ".join(check.problems) or ", ".join(check.turn.expect) or "-"


def _is_file(script: Any) -> bool:
    return isinstance(script, str | os.PathLike) and str(script).lower().endswith(".csv")


def _progress(turns: list[ScriptTurn], flow: str, show: bool) -> Any:
    """The turns, under a tqdm progress bar (a widget in a notebook, text in a terminal) when shown.
    ``TQDM_DISABLE=1`` in the environment turns every bar off."""
    if not show or not turns:
        return turns
    from ..testing.progress import progress

    return progress(turns, f"conversation {flow!r}", "always", unit="turn", leave=False)


def run_script(conversation: Conversation, script: Any, *, restart: bool = True,
               progress: bool | None = None) -> Report:
    """Play ``script`` through ``conversation`` (restarted first) and report turn by turn.
    ``progress`` shows a progress bar (default: for a CSV file)."""
    turns = parse(script)
    if any(t.action == "start" for t in turns[1:]):
        raise FlowError("Only the first turn of a script may check the bot's opening (an empty user cell).",
                        hint="Give every later turn a user text, 'click: ...' or 'location: lat, lon'.")
    opening = conversation.restart() if restart else None
    report = Report(conversation.flow.name)
    show = _is_file(script) if progress is None else progress
    for number, turn in enumerate(_progress(turns, conversation.flow.name, show), 1):
        problems: list[str] = []
        try:
            played = opening if turn.action == "start" else play_turn(conversation, turn)
            got = "" if played is None else "\n".join(entry_text(e) for e in played.entries)
        except ToolkitError as exc:
            got, problems = "", [f"could not {turn.action}: {exc.message} {exc.hint}".strip()]
        problems += [f"expected {e!r}" for e in turn.expect if not matches(e, got)]
        report.checks.append(Check(number, turn, got, problems))
    return report


def play_turn(conversation: Conversation, turn: ScriptTurn) -> Any:
    """Play one scripted turn (not the opening) and return its :class:`Turn`."""
    if turn.action == "say":
        return conversation.say(turn.value)
    if turn.action == "click":
        return conversation.click(turn.value, card=turn.card)
    parts = [p for p in re.split(r"[,\s;]+", turn.value) if p]
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise FlowError(f"Location {turn.value!r} is not 'lat, lon'.",
                        hint="E.g. 'location: 50.85, 4.35'.") from None
    return conversation.share_location(lat, lon)
