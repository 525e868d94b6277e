"""Shared pieces of the benchmarks: a figure beside its baseline, timing helpers, the table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    """One measured figure, its baseline from the same run, and the target on their ratio.

    ``ratio`` is value / baseline. ``higher_is_better`` says which way the target points: the
    figure passes when ``ratio >= target`` (or ``<=`` when lower is better). A figure with no
    baseline (``baseline=None``) is checked against ``target`` directly.
    """

    name: str
    value: float
    baseline: float | None
    unit: str
    target: float
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float:
        if self.baseline is None:
            return self.value
        return self.value / self.baseline if self.baseline else float("inf")

    @property
    def ok(self) -> bool:
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target


def rate(fn: Callable[[], object], *, seconds: float = 1.0, repeats: int = 3) -> float:
    """Calls per second of ``fn``: the best of ``repeats`` runs of about ``seconds`` each."""
    best = 0.0
    for _ in range(repeats):
        n, start = 0, time.perf_counter()
        deadline = start + seconds
        while True:
            for _ in range(50):
                fn()
            n += 50
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, n / (now - start))
    return best


def median_seconds(fn: Callable[[], object], *, repeats: int = 7) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table(figures: list[Figure]) -> str:
    """The printed table: figure, value, baseline, ratio, target and verdict."""
    head = ("figure", "value", "baseline", "unit", "ratio", "target", "ok")
    rows = [head]
    for f in figures:
        sign = ">=" if f.higher_is_better else "<="
        rows.append((f.name, fmt(f.value), fmt(f.baseline), f.unit, f"{f.ratio:.2f}",
                     f"{sign} {f.target:g}", "yes" if f.ok else "MISS"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
