"""What the log view's buttons do: replay one exchange or all of them, and save fixtures.

A mixin of :class:`~toolkit.widgets.logview.LogView`; each action reports in the view's notice line
(errors included, so nothing is lost in a button callback) and returns its result for code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .. import testing
from ..log import Exchange
from ..testing.replay import REPLAYED_SOURCES, Replayed, changes_html, replay, replay_all, side_by_side_html

if TYPE_CHECKING:
    import ipywidgets as w

    from ..app import App

F = TypeVar("F", bound=Callable[..., Any])


def reports(fn: F) -> F:
    """Show an exception in the view's notice line instead of losing it in a button callback."""

    @functools.wraps(fn)
    def wrapper(self: LogActions, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except Exception as exc:
            self.say(f"{type(exc).__name__}: {exc}", error=True)
            return None

    return wrapper  # type: ignore[return-value]


class LogActions:
    """Replay and fixtures for the log view (the view supplies the widgets and the selection)."""

    app: App
    selected: Exchange | None
    notice: w.HTML
    comparison: w.HTML
    folder: w.Text
    last_replays: list[Replayed]

    def select(self, target: Exchange | int | None) -> Exchange | None:
        raise NotImplementedError

    def _matching(self) -> list[Exchange]:
        raise NotImplementedError

    def _action_bar(self) -> w.HBox:
        """Replay, Replay all, Save fixture, Save shown, and the fixture folder."""
        import ipywidgets as w

        def button(label: str, icon: str, tip: str, action: Callable[[], Any]) -> w.Button:
            b = w.Button(description=label, icon=icon, tooltip=tip, layout=w.Layout(width="auto"))
            b.on_click(lambda _b: action())
            return b

        self.folder = w.Text(value="fixtures", description="Folder", layout=w.Layout(width="220px"))
        return w.HBox([
            button("Replay", "repeat", "Send the selected request again to the current handler", self.replay),
            button("Replay all", "forward", "Replay every matching request; list what changed",
                   self.replay_all),
            button("Save fixture", "save", "Save the selected exchange as a JSON fixture",
                   self.save_fixtures),
            button("Save shown", "copy", "Save every matching exchange as fixtures",
                   lambda: self.save_fixtures(which="shown")),
            self.folder], layout=w.Layout(flex_flow="row wrap", margin="6px 0 0 0"))

    def say(self, text: str, *, error: bool = False) -> None:
        """Show a one-line notice under the action buttons (``""`` clears it)."""
        color = "#b91c1c" if error else "#15803d"
        span = f'<span style="font:12px sans-serif;color:{color}">{escape(text)}</span>'
        self.notice.value = span if text else ""

    @reports
    def replay(self, target: Exchange | int | None = None) -> Replayed | None:
        """Replay the selected exchange (or ``target``) and show old and new answers side by side."""
        entry = self.select(target) if target is not None else self.selected
        if entry is None:
            self.say("Select a row first (the › beside it), then replay it.", error=True)
            return None
        result = replay(self.app, entry)
        self.comparison.value = side_by_side_html(result)
        what = f"changed: {', '.join(result.diff.parts)}" if result.changed else "same answer as before"
        self.say(f"Replayed #{entry.id} against the current handler: {what}.")
        return result

    @reports
    def replay_all(self) -> list[Replayed]:
        """Replay every matching exchange once; list (and return) those whose answer changed."""
        everything = replay_all(self.app, self._matching(), changed_only=False)
        results = [r for r in everything if r.changed]
        self.last_replays = results
        items = "".join(
            f"<li><b>#{r.old.id}</b> {escape(r.old.method)} {escape(r.old.path)} → "
            f"{escape(r.new.handler or '—')}(): {', '.join(r.diff.parts)}{changes_html(r.diff)}</li>"
            for r in results)
        head = f"Replayed {len(everything)} request(s): {len(results)} answer(s) changed."
        left_out = getattr(everything, "left_out", [])
        if left_out:
            head += f" Left out {len(left_out)} (see why below)."
        why = "".join(f"<li>{escape(str(e))}</li>" for e in left_out)
        why = f'<div>Left out:</div><ul style="padding-left:18px;color:#6b7280">{why}</ul>' if why else ""
        self.comparison.value = (f'<div style="font:13px sans-serif"><b>{head}</b>'
                                 f'<ul style="padding-left:18px">{items}</ul>{why}</div>')
        self.say(head, error=bool(results))
        return results

    @reports
    def save_fixtures(self, folder: str | None = None, *, which: str = "selected") -> list[Path]:
        """Save the selected exchange (``which="shown"``: every matching one) as JSON fixtures."""
        if which == "selected":
            if self.selected is None:
                self.say("Select a row first (the › beside it), then save it.", error=True)
                return []
            entries = [self.selected]
        else:
            entries = [e for e in self._matching() if e.source not in REPLAYED_SOURCES]
        paths = testing.save_fixtures(entries, folder or self.folder.value or "fixtures", app=self.app)
        more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        shown = ", ".join(p.name for p in paths[:3]) + more
        self.say(f"Saved {len(paths)} fixture(s) in {paths[0].parent}: {shown}." if paths
                 else "Nothing to save: no matching exchanges.")
        return paths
