"""``toolkit.Flow``: the bot's blocks and intents, defined in Python or loaded from YAML / JSON.

>>> flow = Flow("shop")
>>> flow.message("welcome", "Hi! Type an order number.")
MessageBlock('welcome')
>>> flow.intent("track", patterns=[r"A-\\d{4}"], go="welcome")
>>> flow
<Flow 'shop': 1 block, 1 intent, start 'welcome'>
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import FlowError
from .apistep import ApiStep
from .blocks import ApiBlock, Block, GoToBlock, InputBlock, MessageBlock, SetBlock
from .rules import Intent, match_intent

B = Any  # a Block subclass


class Flow:
    """Blocks by name, the intents, the start block, the fallback (not understood) and the default
    error block of API steps. Adding a block with a name in use replaces it (re-run cells)."""

    def __init__(self, name: str = "flow", *, start: str | None = None, fallback: str | None = None,
                 on_error: str | None = None) -> None:
        self.name = name
        self.start = start
        self.fallback = fallback
        self.on_error = on_error
        self.blocks: dict[str, Block] = {}
        self.intents: list[Intent] = []

    # --- building ----------------------------------------------------------------------------------

    def add(self, block: B) -> B:
        """Add (or replace) a block; the first block added is the start unless ``start`` is set."""
        if not isinstance(block, Block):
            raise FlowError(f"Flow.add needs a block, got {type(block).__name__}.",
                            hint="Use flow.message(...), flow.input(...), flow.api(...), flow.goto(...).")
        self.blocks[block.name] = block
        if self.start is None:
            self.start = block.name
        return block

    def message(self, name: str, *messages: Any, next: str | None = None, id: str = "") -> MessageBlock:
        """A block that sends ``messages`` (str or message builders; templates filled)."""
        return self.add(MessageBlock(name, next, id, list(messages)))

    def input(self, name: str, prompt: Any, variable: str, *, validate: str = "text",
              invalid: str | None = None, next: str | None = None, id: str = "") -> InputBlock:
        """Ask ``prompt``, validate the answer (text, number, email, date), store it in ``variable``."""
        prompts: list[Any] = [prompt] if isinstance(prompt, str | Mapping) else list(prompt or [])
        return self.add(InputBlock(name, next, id, variable, prompts, validate, invalid))

    def api(self, name: str, step: ApiStep, *, next: str | None = None, on_error: str | None = None,
            id: str = "") -> ApiBlock:
        """Run an API step; follow its redirect, else ``next``; failures go to ``on_error``."""
        return self.add(ApiBlock(name, next, id, step, on_error))

    def goto(self, name: str, rules: Iterable[Any], *, default: str | None = None, id: str = "") -> GoToBlock:
        """Go to the first rule's block whose condition holds: ``[("order.status == shipped", "x"), ...]``."""
        return self.add(GoToBlock(name, None, id, list(rules), default))

    def set(self, name: str, values: Mapping[str, Any], *, next: str | None = None, id: str = "") -> SetBlock:
        """Set session variables (values are templates, e.g. ``"{visits|increment}"``)."""
        return self.add(SetBlock(name, next, id, dict(values)))

    def intent(self, name: str, *, go: str, keywords: Iterable[str] = (),
               patterns: Iterable[str] = ()) -> None:
        """Add (or replace) an intent: the user's text goes to block ``go`` when a keyword or pattern
        occurs. Intents are tried in the order they were added."""
        intent = Intent(name, go, tuple(keywords), tuple(patterns))
        for i, old in enumerate(self.intents):
            if old.name == name:
                self.intents[i] = intent
                return
        self.intents.append(intent)

    # --- looking up --------------------------------------------------------------------------------

    def find(self, ref: str) -> Block | None:
        """The block with this name or id, or None."""
        if ref in self.blocks:
            return self.blocks[ref]
        return next((b for b in self.blocks.values() if b.id == ref), None)

    def block(self, ref: str) -> Block:
        """The block with this name or id; a clear error naming the known blocks otherwise."""
        found = self.find(ref)
        if found is None:
            raise self._unknown(ref)
        return found

    def resolve(self, ref: str) -> str:
        """The id of the block named (or with id) ``ref``: what a ``dialogstate`` row sends."""
        return self.block(ref).id

    def match(self, text: str) -> Intent | None:
        """The first intent matching the user's ``text``."""
        return match_intent(self.intents, text)

    def _unknown(self, ref: str) -> FlowError:
        names = list(self.blocks)
        close = difflib.get_close_matches(str(ref), names, n=1)
        guess = f" Did you mean {close[0]!r}?" if close else ""
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        return FlowError(f"Flow {self.name!r} has no block {ref!r}.{guess}",
                         hint=f"Blocks: {shown or 'none yet'}. Add it, or fix the name.")

    def problems(self) -> list[str]:
        """Every reference to a missing block, and a missing start."""
        out = []
        if not self.blocks:
            out.append("the flow has no blocks")
        elif self.start is None or self.find(self.start) is None:
            out.append(f"start block {self.start!r} does not exist")
        for ref, where in ((self.fallback, "fallback"), (self.on_error, "on_error")):
            if ref and self.find(ref) is None:
                out.append(f"{where} block {ref!r} does not exist")
        for block in self.blocks.values():
            out += [f"block {block.name!r} leads to unknown block {t!r}" for t in block.targets()
                    if self.find(t) is None]
        out += [f"intent {i.name!r} goes to unknown block {i.go!r}" for i in self.intents
                if self.find(i.go) is None]
        return out

    def check(self) -> Flow:
        """Raise a :class:`FlowError` listing every problem; return the flow when there is none."""
        problems = self.problems()
        if problems:
            raise FlowError(f"Flow {self.name!r} is not complete: " + "; ".join(problems) + ".",
                            hint=f"Add the missing blocks or fix the names (blocks: "
                            f"{', '.join(self.blocks)}).")
        return self

    # --- files -------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Flow:
        """A flow from a ``.yaml`` / ``.yml`` or ``.json`` file (format: README, "The emulator")."""
        from .flowfile import load

        return load(Path(path))

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], *, name: str | None = None) -> Flow:
        """A flow from the parsed content of a flow file."""
        from .flowfile import from_dict

        return from_dict(spec, name=name)

    # --- pictures ----------------------------------------------------------------------------------

    def diagram(self, coverage: Any = None) -> Any:
        """The flow as a Mermaid diagram (a chart in JupyterLab); ``coverage`` shades what was exercised."""
        from .diagram import Diagram

        return Diagram(self, coverage)

    def _repr_markdown_(self) -> str:
        return str(self.diagram()._repr_markdown_())

    def __repr__(self) -> str:
        n, k = len(self.blocks), len(self.intents)
        return (f"<Flow {self.name!r}: {n} block{'' if n == 1 else 's'}, {k} intent{'' if k == 1 else 's'}, "
                f"start {self.start!r}>")
