"""What a closed view leaves on the page: its last picture, frozen, with a note saying why it stopped.

Closing a live widget would blank its output area, so after *Run All* of a notebook whose last cell
closes its views the reader saw nothing. A view therefore closes its live parts (controls, timer,
subscriptions) and keeps one static HTML child holding its last state and a "stopped" note.
"""

from __future__ import annotations

import ipywidgets as w

from ..html.templates import macro


def current_cell() -> str:
    """``"cell [12]"`` for the notebook cell running now, ``"a newer view"`` outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return "a newer view"
    shell = get_ipython()
    count = getattr(shell, "execution_count", None)
    if isinstance(count, int) and getattr(shell, "kernel", None) is not None:
        count -= 1  # ipykernel counts the running cell already (its reply says execution_count - 1)
    return f"the view in cell [{count}]" if isinstance(count, int) and count > 0 else "a newer view"


def note_html(note: str) -> str:
    """The grey line above a frozen view: ``"Stopped: ... its last state is shown."`` (plain text: no
    emoji, which some systems draw as a box)."""
    return str(macro("widgets.html", "stopped_note")(note))


def freeze(box: w.Box, html: str, note: str) -> w.HTML:
    """Replace ``box``'s children by one HTML widget: ``html`` (its last state) and ``note`` above it.

    Returns the new child. ``box`` stays open, so the notebook keeps showing it.
    """
    frozen = w.HTML(note_html(note) + html, layout=w.Layout(min_width="0"))
    frozen.add_class("tk-frozen")
    box.children = (frozen,)
    return frozen
