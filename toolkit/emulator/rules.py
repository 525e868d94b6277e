"""The small rule languages of a flow: go-to conditions on session values, input validation
(number, email, date) and the keyword/regex intent matcher that stands in for NLP.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import FlowError
from . import paths

OPERATORS = ("==", "!=", ">=", "<=", ">", "<", "contains", "matches", "exists", "missing")
_CONDITION = re.compile(r"^\s*(\S+)\s+(==|!=|>=|<=|>|<|contains|matches|exists|missing)(?=\s|$)\s*(.*?)\s*$")
VALIDATIONS = ("text", "number", "email", "date")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")


@dataclass(frozen=True)
class Condition:
    """``path op value``, e.g. ``order.status == shipped``; case-sensitive, numbers compared as numbers."""

    path: str
    op: str
    value: Any = None

    @classmethod
    def parse(cls, spec: Any) -> Condition:
        """From ``"order.status == shipped"``, ``(path, op, value)`` or ``(path, "exists")``."""
        if isinstance(spec, Condition):
            return spec
        if isinstance(spec, str):
            m = _CONDITION.match(spec)
            if m is None:
                raise FlowError(f"Condition {spec!r} is not 'path operator value'.",
                                hint=f"E.g. 'order.status == shipped' or 'lead.email exists'; operators: "
                                f"{', '.join(OPERATORS)}.")
            path, op, value = m.groups()
            spec = (path, op, _unquote(value)) if value else (path, op)
        if isinstance(spec, list | tuple) and len(spec) in (2, 3) and spec[1] in OPERATORS:
            paths.parse(spec[0])
            if len(spec) == 2 and spec[1] not in ("exists", "missing"):
                raise FlowError(f"Condition {spec!r} needs a value to compare with.",
                                hint=f"E.g. ({spec[0]!r}, {spec[1]!r}, 'shipped').")
            return cls(spec[0], spec[1], spec[2] if len(spec) == 3 else None)
        raise FlowError(f"Condition {spec!r} is not understood.",
                        hint=f"Write 'path operator value'; operators: {', '.join(OPERATORS)}.")

    def holds(self, find: Callable[[str], tuple[bool, Any]], render: Callable[[str], str]) -> bool:
        """Whether the condition holds for the session (``find(path)``; ``render`` fills the value)."""
        found, actual = find(self.path)
        if self.op in ("exists", "missing"):
            present = found and actual not in (None, "")
            return present if self.op == "exists" else not present
        if not found:
            return self.op == "!="
        wanted = render(self.value) if isinstance(self.value, str) else self.value
        if self.op == "contains":
            return str(wanted) in (actual if isinstance(actual, list) else str(actual))
        if self.op == "matches":
            return re.search(str(wanted), str(actual)) is not None
        x, y = _number(actual), _number(wanted)
        a: Any = x
        b: Any = y
        if x is None or y is None:
            a, b = str(actual) if not isinstance(actual, bool) else str(actual).lower(), str(wanted)
        return {"==": a == b, "!=": a != b, ">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[self.op]

    def __str__(self) -> str:
        return f"{self.path} {self.op}" + ("" if self.value is None else f" {self.value}")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip().replace(",", "."))
    except ValueError:
        return None


# --- input validation ---------------------------------------------------------------------------


def check_input(text: str, kind: str) -> tuple[bool, Any]:
    """``(valid, value to store)`` for a user's answer: numbers as numbers, dates as ``YYYY-MM-DD``."""
    answer = text.strip()
    if kind == "text":
        return (True, answer) if answer else (False, None)
    if kind == "number":
        number = _number(answer)
        if number is None or number != number:
            return False, None
        return True, int(number) if number.is_integer() else number
    if kind == "email":
        return (True, answer) if EMAIL.match(answer) else (False, None)
    if kind == "date":
        for fmt in DATE_FORMATS:
            try:
                return True, dt.datetime.strptime(answer, fmt).date().isoformat()
            except ValueError:
                continue
        return False, None
    raise FlowError(f"Unknown input validation {kind!r}.", hint=f"Use one of {', '.join(VALIDATIONS)}.")


INVALID = {
    "text": "Please type an answer.",
    "number": "That is not a number. Please type a number, e.g. 3.",
    "email": "That does not look like an e-mail address. Please try again, e.g. name@example.com.",
    "date": "That is not a date I understand. Please write it like 2025-03-14 or 14/03/2025.",
}


# --- the intent matcher -------------------------------------------------------------------------


@dataclass
class Intent:
    """Stands in for NLP: the first intent whose keyword (whole words, any case) or regex pattern
    occurs in the user's text wins, and the conversation goes to block ``go``."""

    name: str
    go: str
    keywords: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    _compiled: list[re.Pattern[str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.keywords, self.patterns = tuple(self.keywords), tuple(self.patterns)
        if not self.keywords and not self.patterns:
            raise FlowError(f"Intent {self.name!r} has no keywords and no patterns.",
                            hint="Give it keywords=['order', 'track'] and/or patterns=[r'A-\\d{4}'].")
        compiled = [re.compile(r"(?<!\w)" + re.escape(k.strip()) + r"(?!\w)", re.IGNORECASE)
                    for k in self.keywords if k.strip()]
        for p in self.patterns:
            try:
                compiled.append(re.compile(p, re.IGNORECASE))
            except re.error as exc:
                raise FlowError(f"Intent {self.name!r}: pattern {p!r} is not a valid regex ({exc}).",
                                hint="Escape special characters, e.g. r'A-\\d{4}'.") from None
        self._compiled = compiled

    def matches(self, text: str) -> bool:
        return any(c.search(text) for c in self._compiled)


def match_intent(intents: Iterable[Intent], text: str) -> Intent | None:
    """The first intent matching ``text``, or None."""
    return next((i for i in intents if i.matches(text)), None)
