"""The blocks of a :class:`toolkit.Flow` (Chatlayer's dialog states).

Messages (:class:`MessageBlock`), an input captured into a variable and validated
(:class:`InputBlock`), an API step (:class:`ApiBlock`), go-to with ordered conditions
(:class:`GoToBlock`, first match wins) and setting variables (:class:`SetBlock`). Intents (keywords or
regexes) stand in for NLP. Postback buttons name their target block by name or id.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import FlowError
from ..messages import text as text_message
from ..reply import message_problems
from .apistep import ApiStep
from .rules import VALIDATIONS, Condition


@dataclass(repr=False)
class Block:
    """A block (dialog state): ``name``, ``id`` (defaults to the name) and the block that follows."""

    name: str
    next: str | None = None
    id: str = ""
    type: ClassVar[str] = "MESSAGE"  # internal.currentDialogstate.type

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise FlowError("A block needs a name.", hint="E.g. flow.message('welcome', 'Hi!').")
        self.id = self.id or self.name

    def targets(self) -> list[str]:
        """The blocks this block may lead to (checked by :meth:`Flow.check`)."""
        return [self.next] if self.next else []

    def state(self) -> dict[str, str]:
        return {"name": self.name, "id": self.id, "type": self.type}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _messages(items: Iterable[Any], where: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        message: dict[str, Any] = dict(text_message(item)) if isinstance(item, str) else dict(item)
        problems = message_problems(message)
        if problems:
            raise FlowError(f"{where}, message {i + 1}: {'; '.join(problems)}.",
                            hint="Build messages with toolkit.text, buttons, quick_replies, carousel, media.")
        out.append(message)
    return out


def _postback_targets(messages: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            payload = value.get("payload")
            if isinstance(payload, Mapping) and payload.get("nextDialogstateId"):
                found.append(str(payload["nextDialogstateId"]))
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(messages)
    return found


@dataclass(repr=False)
class MessageBlock(Block):
    """Sends its messages (templates filled), then goes on to ``next`` or waits for the user."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.messages = _messages(self.messages, f"Block {self.name!r}")

    def targets(self) -> list[str]:
        return super().targets() + _postback_targets(self.messages)


@dataclass(repr=False)
class InputBlock(Block):
    """Asks (``prompt``), waits, validates the answer and stores it in ``variable``, then ``next``."""

    variable: str = ""
    prompt: list[dict[str, Any]] = field(default_factory=list)
    validate: str = "text"
    invalid: str | None = None  # the re-ask text; a default per validation
    type: ClassVar[str] = "INPUT_VALIDATION"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.variable:
            raise FlowError(f"Input block {self.name!r} has no variable.",
                            hint="Name the session path the answer goes to, e.g. variable='lead.email'.")
        if self.validate not in VALIDATIONS:
            close = difflib.get_close_matches(str(self.validate), VALIDATIONS, n=1)
            raise FlowError(f"Input block {self.name!r}: unknown validation {self.validate!r}."
                            + (f" Did you mean {close[0]!r}?" if close else ""),
                            hint=f"Use one of {', '.join(VALIDATIONS)}.")
        self.prompt = _messages(self.prompt, f"Input block {self.name!r}")


@dataclass(repr=False)
class ApiBlock(Block):
    """Runs an API step; then the reply's redirect, else ``next``. Failures go to ``on_error``."""

    step: ApiStep | None = None
    on_error: str | None = None
    type: ClassVar[str] = "ACTION"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.step, ApiStep):
            raise FlowError(f"API block {self.name!r} needs an ApiStep.",
                            hint="E.g. flow.api('lookup', toolkit.ApiStep('POST', '/order-status', "
                            "body=[...])).")

    def targets(self) -> list[str]:
        out = super().targets() + ([self.on_error] if self.on_error else [])
        assert self.step is not None
        return out + [str(r.value) for r in self.step.tabs["body"] + self.step.tabs["query"]
                      + self.step.tabs["headers"] if r.type == "dialogstate"]


Rule = Condition | Callable[[Any], bool]


@dataclass(repr=False)
class GoToBlock(Block):
    """Goes to the target of the first condition that holds (in order), else to ``default``."""

    rules: list[tuple[Rule, str]] = field(default_factory=list)
    default: str | None = None
    type: ClassVar[str] = "ACTION"

    def __post_init__(self) -> None:
        super().__post_init__()
        rules = []
        for rule in self.rules:
            if isinstance(rule, Mapping):
                rule = (rule.get("if"), rule.get("go"))
            if not isinstance(rule, list | tuple) or len(rule) != 2 or not rule[1]:
                raise FlowError(f"Go-to block {self.name!r}: rule {rule!r} is not (condition, block).",
                                hint="E.g. ('order.status == shipped', 'shipped'); YAML: {if: ..., go: ...}.")
            cond = rule[0] if callable(rule[0]) and not isinstance(rule[0], str) else Condition.parse(rule[0])
            rules.append((cond, str(rule[1])))
        self.rules = rules

    def targets(self) -> list[str]:
        return [t for _, t in self.rules] + ([self.default] if self.default else [])


@dataclass(repr=False)
class SetBlock(Block):
    """Sets variables (values are templates: ``{visits|increment}``), then ``next``."""

    values: dict[str, Any] = field(default_factory=dict)
    type: ClassVar[str] = "ACTION"
