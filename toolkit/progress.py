"""Progress bars for long work (a CSV-driven conversation run, ...): tqdm's ``auto`` bar, a widget in
a notebook and text on a terminal's stderr. ``TQDM_DISABLE=1`` in the environment turns them all off.

The bars start no monitor thread (tqdm's default starts one that outlives the work), so a notebook
leaves no thread behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")


def bar(items: Iterable[T], desc: str, *, unit: str = "it", total: int | None = None,
        leave: bool = False) -> Iterable[T]:
    """``items`` under a progress bar labelled ``desc`` (gone when done unless ``leave``)."""
    from tqdm.auto import tqdm

    class Bar(tqdm):  # type: ignore[misc, valid-type]
        monitor_interval = 0  # no tqdm_monitor thread

    result: Any = Bar(items, desc=desc, unit=unit, total=total, leave=leave)
    return result  # type: ignore[no-any-return]
