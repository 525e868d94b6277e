"""The engine under :class:`~toolkit.Conversation`: entering blocks one after the other until one
waits for the user, running each kind of block, and the API step's error path.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..config import Settings
from ..errors import ConversationError
from ..messages import text as text_message
from .apistep import StepError, StepResult
from .blocks import ApiBlock, Block, GoToBlock, InputBlock, MessageBlock, SetBlock
from .choices import Choice, message_choices
from .flow import Flow
from .rules import INVALID, check_input
from .session import Session
from .transcript import Turn

MAX_HOPS = 50


class Step(NamedTuple):
    """One thing a conversation exercised, in order (read by :class:`~toolkit.emulator.Coverage`):
    ``kind`` is ``block`` (entered), ``api`` (answered; ``detail`` the block it led to), ``error`` (an
    API step failed; ``detail`` its kind), ``goto`` (``detail`` the rule's number from 1, or
    ``default``), ``button`` (``name`` the block that offered it, ``detail`` its title) or ``intent``
    (``name`` the intent, or ``(fallback)``)."""

    kind: str
    name: str
    detail: str = ""


class Engine:
    """Runs a flow for one conversation (the state lives in the :class:`Conversation`)."""

    flow: Flow
    backend: Any
    session: Session
    errors: list[StepError]
    results: list[StepResult]
    notices: list[str]
    current: str | None
    waiting: InputBlock | None
    _entries: list[dict[str, Any]]
    _listeners: list[Callable[[], None]]
    _lock: threading.RLock

    @property
    def settings(self) -> Settings:
        raise NotImplementedError

    def _turn(self, user: dict[str, Any] | None, act: Callable[[], Any]) -> Turn:
        with self._lock:
            self.session.settings = self.settings  # follows app.configure(...) on the backend
            if user is not None:
                self._entries.append(user)
            first = len(self._entries)
            seen = len(self.session.missing)
            try:
                act()
            finally:
                for name in self.session.missing[seen:]:
                    self._notice(f"Template variable {{{name}}} was not set (in {self.current!r}); it "
                                 f"rendered per missing_variable={self.settings.missing_variable!r}.")
                turn = Turn(copy.deepcopy(user), copy.deepcopy(self._entries[first:]))
                listeners = list(self._listeners)
        for listener in listeners:
            listener()
        return turn

    @property
    def path(self) -> list[Step]:
        """Every :class:`Step` this conversation took, oldest first (``restart()`` keeps them)."""
        found = self.__dict__.get("_path")
        if found is None:
            found = self.__dict__["_path"] = []
        return found

    def _trace(self, kind: str, name: str, detail: str = "") -> None:
        self.path.append(Step(kind, name, detail))

    def _trace_choice(self, choice: Choice) -> None:
        """A button, quick reply or location request was used: trace it with the block that offered it."""
        for entry in reversed(self._entries):
            if entry.get("sender") == "bot" and choice.item in [c.item for c in message_choices(
                    entry.get("message") or {})]:
                self._trace("button", str(entry.get("block") or ""), choice.title)
                return

    def _trace_location(self) -> None:
        """A location was shared: trace the newest location request offered, if any."""
        for entry in reversed(self._entries):
            found = [c for c in message_choices(entry.get("message") or {}) if c.kind == "location"]
            if entry.get("sender") == "bot" and found:
                self._trace("button", str(entry.get("block") or ""), found[0].title)
                return

    def _notice(self, text: str) -> None:
        self.notices.append(text)
        del self.notices[:-200]

    def _bot(self, message: Mapping[str, Any], block: str | None, source: str = "flow") -> None:
        self._entries.append({"sender": "bot", "source": source, "block": block,
                              "message": self.session.render_all(dict(message))})

    def _system(self, text: str) -> None:
        self._entries.append({"sender": "system", "type": "error", "text": text})

    def _enter(self, ref: str | None) -> None:
        hops = 0
        while ref:
            hops += 1
            block = self.flow.find(ref)
            if block is None or hops > MAX_HOPS:
                why = (f"no block {ref!r} in flow {self.flow.name!r}" if block is None else
                       f"{MAX_HOPS} blocks in a row ran without waiting for the user (a loop?)")
                self._system(f"The conversation stopped: {why}.")
                return
            self.waiting = None
            self.session._move_to(block.state())
            self.current = block.name
            self._trace("block", block.name)
            ref = self._run(block)

    def _run(self, block: Block) -> str | None:
        if isinstance(block, MessageBlock):
            for message in block.messages:
                self._bot(message, block.name)
            return block.next
        if isinstance(block, InputBlock):
            for message in block.prompt:
                self._bot(message, block.name)
            self.waiting = block
            return None
        if isinstance(block, ApiBlock):
            return self._api(block)
        if isinstance(block, GoToBlock):
            for number, (rule, target) in enumerate(block.rules, 1):
                s = self.session
                if rule(s) if callable(rule) else rule.holds(s.find, s.render):
                    self._trace("goto", block.name, str(number))
                    return target
            self._trace("goto", block.name, "default")
            if block.default is None:
                self._notice(f"Go-to block {block.name!r}: no condition held and there is no default; "
                             "the flow waits.")
            return block.default
        if isinstance(block, SetBlock):
            for path, value in block.values.items():
                self.session.set(path, self.session.evaluate(value))
            return block.next
        raise ConversationError(f"Unknown block type {type(block).__name__}.", hint="Use the Flow builders.")

    def _answer(self, block: InputBlock, text: str) -> None:
        ok, value = check_input(text, block.validate)
        if not ok:
            self._bot(text_message(block.invalid or INVALID[block.validate]), block.name)
            return
        self.session.set(block.variable, value)
        self.waiting = None
        self._enter(block.next)

    def _target(self) -> Any:
        return self.backend

    def _api(self, block: ApiBlock) -> str | None:
        assert block.step is not None
        result = block.step.call(self.session, self._target(), settings=self.settings,
                                 resolve=self.flow.resolve, block=block.name)
        self.results.append(result)
        for message in result.messages:  # already rendered, after the session write
            self._entries.append({"sender": "bot", "source": "api", "block": block.name, "message": message})
        if result.error is not None:
            return self._fail(result.error, block)
        for warning in result.warnings:  # what the reply lost or what was guessed: in the error log too
            self.errors.append(StepError("warning", warning, status=result.status, request=result.request,
                                         block=block.name))
        target = result.next_dialogstate
        named = self.flow.find(target) if target else None
        if named is not None and target != named.id:  # a block *name* where Chatlayer most likely needs an id
            note = (f"The reply of {block.name!r} redirects to the block name {target!r}; Chatlayer most "
                    f"likely needs its id {named.id!r}. Send the id: a Body row of Type dialogstate gives "
                    "it to the backend.")
            if self.settings.strict_replies:
                return self._fail(StepError("unknown_block", note + " (strict_replies=True refuses it)",
                                            status=result.status, request=result.request, block=block.name),
                                  block)
            result.warnings.append(note)
            self.errors.append(StepError("warning", note + " Followed it (strict_replies=False).",
                                         status=result.status, request=result.request, block=block.name))
        if target and self.flow.find(target) is None:
            blocks = self.flow.blocks.values()
            known = ", ".join(b.name if b.id == b.name else f"{b.name} ({b.id})" for b in blocks)
            error = StepError("unknown_block", f"The reply of {block.name!r} redirects to {target!r}, which "
                              f"is no block of flow {self.flow.name!r} (blocks: {known}).",
                              status=result.status, request=result.request, block=block.name)
            return self._fail(error, block)
        found = self.flow.find(target or block.next or "")
        self._trace("api", block.name, found.name if found is not None else "")
        return target or block.next

    def _fail(self, error: StepError, block: ApiBlock) -> str | None:
        self._trace("error", block.name, error.kind)
        self.errors.append(error)
        self._system(f"API step {block.name!r} failed: {error.message}")
        return block.on_error or self.flow.on_error
