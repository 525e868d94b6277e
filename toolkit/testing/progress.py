"""Progress bars for long work (replay-all, fixture checks, re-checks, a CSV-driven conversation run):
``tqdm.auto`` draws a widget in a notebook and a text bar on stderr in a terminal.

The ``progress`` setting says when: ``auto`` from :data:`AUTO_FROM` items on (small runs, such as the
notebooks' examples, stay quiet and deterministic), ``always`` or ``never``. ``TQDM_DISABLE=1`` in the
environment turns every bar off. The bars start no monitor thread (tqdm's default starts one that
outlives the work), so a notebook leaves no thread behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
AUTO_FROM = 20


def progress(items: Sequence[T], what: str, mode: str = "auto", *, unit: str = "request",
             leave: bool = True) -> Iterable[T]:
    """``items``, wrapped in a progress bar labelled ``what`` when ``mode`` asks for one.

    Args:
        items: the work, a sequence (its length is the bar's total).
        what: the bar's label, e.g. ``"Replaying"``.
        mode: ``"auto"`` (a bar from :data:`AUTO_FROM` items on), ``"always"`` or ``"never"``.
        unit: what one item is called on the bar.
        leave: keep the finished bar on screen.

    >>> progress([1, 2], "Replaying")   # few items: no bar, the items as they are
    [1, 2]
    """
    if mode == "never" or not items or (mode == "auto" and len(items) < AUTO_FROM):
        return items
    from tqdm.auto import tqdm

    class Bar(tqdm):  # type: ignore[misc, valid-type]
        monitor_interval = 0  # no tqdm_monitor thread

    result: Any = Bar(items, desc=what, unit=unit, total=len(items), leave=leave)
    return result  # type: ignore[no-any-return]
