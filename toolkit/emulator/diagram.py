"""A :class:`~toolkit.Flow` drawn as a Mermaid flowchart, which JupyterLab 4 renders natively from
Markdown (a fenced ``mermaid`` block), as GitHub does. With a :class:`~toolkit.emulator.Coverage`, the
blocks and branches the conversations exercised are green and the missed ones red.

Shapes: a message block is a box, an input a parallelogram, an API step a subroutine box, a go-to a
diamond, a set block a stadium. Solid arrows are ``next``, go-to branches, API redirects and buttons;
dotted ones are error paths and the fallback. Intents leave from the ``user says`` circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .blocks import ApiBlock, Block, GoToBlock, InputBlock, SetBlock
from .flow import Flow

if TYPE_CHECKING:
    from .coverage import Coverage, Item

COVERED = "fill:#dcfce7,stroke:#15803d,color:#14532d"
MISSED = "fill:#fee2e2,stroke:#b91c1c,color:#7f1d1d"
COVERED_LINK = "stroke:#15803d,stroke-width:3px"


def _text(value: str) -> str:
    """A label safe inside Mermaid's double quotes."""
    return (value.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
            .replace("\n", " "))


def _node(node_id: str, block: Block) -> str:
    name = _text(block.name)
    if isinstance(block, ApiBlock):
        assert block.step is not None
        return f'{node_id}[["{name}<br/>{_text(block.step.method)} {_text(block.step.url)}"]]'
    if isinstance(block, InputBlock):
        return f'{node_id}[/"{name}<br/>input {_text(block.variable)}"/]'
    if isinstance(block, GoToBlock):
        return f'{node_id}{{"{name}"}}'
    if isinstance(block, SetBlock):
        return f'{node_id}(["{name}"])'
    return f'{node_id}["{name}"]'


@dataclass
class _Chart:
    flow: Flow
    coverage: Coverage | None
    ids: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    links: int = 0
    covered_links: list[int] = field(default_factory=list)

    def link(self, source: str, target: str, label: str = "", *, dotted: bool = False,
             item: Item | None = None) -> None:
        """An arrow to a block (by name or id); arrows to unknown blocks are left out."""
        found = self.flow.find(target) if target else None
        if found is None:
            return
        arrow = "-.->" if dotted else "-->"
        text = f'|"{_text(label)}"|' if label else ""
        self.lines.append(f"    {source} {arrow}{text} {self.ids[found.name]}")
        if item is not None and self.coverage is not None and self.coverage.covered(item):
            self.covered_links.append(self.links)
        self.links += 1


def _items_by_key(coverage: Coverage | None, flow: Flow) -> dict[tuple[str, str, str], Item]:
    from .coverage import flow_items

    return {i.key: i for i in (coverage.items if coverage is not None else flow_items(flow))}


def mermaid(flow: Flow, coverage: Coverage | None = None) -> str:
    """The Mermaid source (``flowchart TD ...``) of ``flow``; ``coverage`` shades it."""
    chart = _Chart(flow, coverage, {name: f"b{n}" for n, name in enumerate(flow.blocks)})
    items = _items_by_key(coverage, flow)
    chart.lines.append("flowchart TD")
    chart.lines += [f"    {_node(chart.ids[b.name], b)}" for b in flow.blocks.values()]
    chart.lines.append('    start(("start"))')
    if flow.intents or flow.fallback:
        chart.lines.append('    says(("user says"))')
    chart.link("start", flow.start or "")
    for block in flow.blocks.values():
        _block_links(chart, block, items)
    for intent in flow.intents:
        chart.link("says", intent.go, intent.name, item=items.get(("intent", intent.name, "")))
    if flow.fallback:
        chart.link("says", flow.fallback, "not understood", dotted=True,
                   item=items.get(("intent", "(fallback)", "")))
    if coverage is not None:
        _shade(chart, coverage)
    return "\n".join(chart.lines)


def _block_links(chart: _Chart, block: Block, items: dict[tuple[str, str, str], Item]) -> None:
    me, flow = chart.ids[block.name], chart.flow
    if isinstance(block, GoToBlock):
        for number, (_, target) in enumerate(block.rules, 1):
            item = items.get(("goto", block.name, str(number)))
            chart.link(me, target, item.branch if item else f"rule {number}", item=item)
        chart.link(me, block.default or "", "else", item=items.get(("goto", block.name, "default")))
        return
    if isinstance(block, ApiBlock):
        after = flow.find(block.next or "")
        for (kind, name, target), item in items.items():
            if kind == "api" and name == block.name and target:
                label = "" if after is not None and after.name == target else "reply"
                chart.link(me, target, label, item=item)
        chart.link(me, block.on_error or flow.on_error or "", "error", dotted=True,
                   item=items.get(("error", block.name, "")))
        return
    buttons = [i for k, i in items.items() if k[0] == "button" and k[1] == block.name]
    for item in buttons:
        chart.link(me, item.target, item.branch, item=item)
    if block.next and block.next not in {b.target for b in buttons}:
        chart.link(me, block.next)


def _shade(chart: _Chart, coverage: Coverage) -> None:
    covered = [chart.ids[b] for b in chart.flow.blocks if coverage.hits[("block", b, "")]]
    missed = [chart.ids[b] for b in chart.flow.blocks if not coverage.hits[("block", b, "")]]
    chart.lines += [f"    classDef covered {COVERED}", f"    classDef missed {MISSED}"]
    if covered:
        chart.lines.append(f"    class {','.join(covered)} covered")
    if missed:
        chart.lines.append(f"    class {','.join(missed)} missed")
    if chart.covered_links:
        chart.lines.append(f"    linkStyle {','.join(map(str, chart.covered_links))} {COVERED_LINK}")


class Diagram:
    """A flow's Mermaid diagram: shows as a chart in JupyterLab (``text/markdown`` with a fenced
    ``mermaid`` block); ``str(diagram)`` / :attr:`source` is the Mermaid text."""

    def __init__(self, flow: Flow, coverage: Coverage | None = None) -> None:
        self.flow = flow
        self.coverage = coverage

    @property
    def source(self) -> str:
        return mermaid(self.flow, self.coverage)

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        shaded = ", coverage shaded" if self.coverage is not None else ""
        return f"<Diagram of flow {self.flow.name!r}: {len(self.flow.blocks)} blocks{shaded}>"

    def _repr_markdown_(self) -> str:
        return f"```mermaid\n{self.source}\n```"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/markdown": self._repr_markdown_(), "text/plain": repr(self)}
