"""Progress bars for long work (replay-all, fixture checks): ``tqdm.auto`` draws a widget in a
notebook and a text bar on stderr in a terminal. The ``progress`` setting says when: ``auto`` from
:data:`AUTO_FROM` items on (small runs, such as the notebooks' examples, stay quiet and deterministic),
``always`` or ``never``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")
AUTO_FROM = 20


def progress(items: Sequence[T], what: str, mode: str = "auto") -> Iterable[T]:
    """``items``, wrapped in a progress bar labelled ``what`` when ``mode`` asks for one."""
    if mode == "never" or not items or (mode == "auto" and len(items) < AUTO_FROM):
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=what, unit="request", total=len(items))
