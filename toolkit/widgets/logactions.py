"""What the log view's buttons do: replay one exchange or all of them, edit a request and replay it,
and save fixtures.

A mixin of :class:`~toolkit.widgets.logview.LogView`; each action reports in the view's notice line
(errors included, so nothing is lost in a button callback) and returns its result for code.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .. import testing
from ..html.templates import macro
from ..log import Exchange
from ..testing.edit import editable, replay_json
from ..testing.replay import REPLAYED_SOURCES, Replayed, change_rows, replay, replay_all, side_by_side_html
from .logtable import fit
from .seen import seen_html

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
    checks_filter: w.Checkbox
    last_replays: list[Replayed]
    _rows_html: dict[int, str]
    _draw_lock: threading.RLock

    def _request(self) -> None:
        raise NotImplementedError

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

        self.folder = w.Text(value=self.app.settings.fixtures_dir, description="Folder",
                             layout=w.Layout(width="220px"))
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
        self.notice.value = str(macro("widgets.html", "notice")(text, color)) if text else ""

    @reports
    def replay(self, target: Exchange | int | None = None) -> Replayed | None:
        """Replay the selected exchange (or ``target``) and show old and new answers side by side."""
        entry = self.select(target) if target is not None else self.selected
        if entry is None:
            self.say("Select a row first (the › beside it), then replay it.", error=True)
            return None
        result = replay(self.app, entry)
        self.checks_filter.value = True  # the replay asked for here shows as a row
        self.comparison.value = fit(side_by_side_html(result, seen_html))
        what = f"changed: {', '.join(result.diff.parts)}" if result.changed else "same answer as before"
        self.say(f"Replayed #{entry.id} against the current handler: {what}.")
        return result

    @reports
    def replay_all(self) -> list[Replayed]:
        """Replay every matching exchange once; list (and return) those whose answer changed."""
        # no progress widget from a button callback: it would land under whatever cell ran last
        everything = replay_all(self.app, self._matching(), changed_only=False, progress_bar="never")
        results = [r for r in everything if r.changed]
        self.last_replays = results
        head = f"Replayed {len(everything)} request(s): {len(results)} answer(s) changed."
        left_out = getattr(everything, "left_out", [])
        if left_out:
            head += f" Left out {len(left_out)} (see why below)."
        items = [(r, change_rows(r.diff)) for r in results]
        self.comparison.value = fit(str(macro("widgets.html", "replayed_all")(head, items, left_out)))
        self.say(head, error=bool(results))
        return results

    # --- edit and replay ------------------------------------------------------------------------

    def _editor(self) -> w.VBox:
        """Under the detail pane: "Edit and replay" opens the selected request as JSON to edit."""
        import ipywidgets as w

        self.edit_button = w.Button(description="Edit and replay", icon="edit", layout=w.Layout(width="auto"),
                                    tooltip="Edit the request's body, query or headers, then replay it")
        self.edit_text = w.Textarea(layout=w.Layout(width="100%", height="180px"))
        self.replay_edited_button = w.Button(description="Replay edited", icon="play", button_style="primary",
                                             layout=w.Layout(width="auto"))
        cancel = w.Button(description="Cancel", layout=w.Layout(width="auto"))
        self.edit_button.on_click(lambda _b: self.edit())
        self.replay_edited_button.on_click(lambda _b: self.replay_edited())
        cancel.on_click(lambda _b: self._open_editor(False))
        for widget, name in ((self.edit_button, "tk-edit"), (self.edit_text, "tk-edit-request"),
                             (self.replay_edited_button, "tk-replay-edited")):
            widget.add_class(name)
        self.edit_area = w.VBox([self.edit_text, w.HBox([self.replay_edited_button, cancel])],
                                layout=w.Layout(display="none", min_width="0"))
        self.editor = w.VBox([self.edit_button, self.edit_area],
                             layout=w.Layout(display="none", min_width="0"))
        return self.editor

    def _show_editor(self, entry: Exchange | None) -> None:
        self.editor.layout.display = "none" if entry is None else "flex"
        self._open_editor(False)

    def _open_editor(self, open_: bool) -> None:
        self.edit_area.layout.display = "flex" if open_ else "none"
        self.edit_button.layout.display = "none" if open_ else "inline-flex"

    @reports
    def edit(self, target: Exchange | int | None = None) -> str | None:
        """Open the selected exchange's request (or ``target``'s) as JSON in the editor, and return it:
        ``{"query", "headers", "body"}``, secrets masked (a ``***`` left in the body is sent as received)."""
        entry = self.select(target) if target is not None else self.selected
        if entry is None:
            self.say("Select a row first (the › beside it), then edit it.", error=True)
            return None
        self.edit_text.value = json.dumps(editable(entry), indent=2, ensure_ascii=False)
        self._open_editor(True)
        self.say(f"Editing #{entry.id}: change the body, query or headers, then Replay edited.")
        return str(self.edit_text.value)

    @reports
    def replay_edited(self, text: str | None = None) -> Replayed | None:
        """Replay the selected exchange as edited (``text``, or what the editor holds); the edited replay
        is logged (flag ``edited``) and shown beside the logged answer."""
        entry = self.selected
        if entry is None:
            self.say("Select a row first (the › beside it), then edit it.", error=True)
            return None
        if text is not None:
            self.edit_text.value = text
        result = replay_json(self.app, entry, self.edit_text.value)
        self.checks_filter.value = True  # the replay asked for here shows as a row
        with self._draw_lock:
            self._rows_html.pop(result.new.id, None)  # drawn before its "edited" flag, maybe
        self._request()
        self.comparison.value = fit(side_by_side_html(result, seen_html))
        what = f"changed: {', '.join(result.diff.parts)}" if result.changed else "same answer as before"
        self.say(f"Replayed #{entry.id} as edited (logged as #{result.new.id}): {what}.")
        return result

    @reports
    def save_fixtures(self, folder: str | None = None, *, which: str = "selected") -> list[Path]:
        """Save the selected exchange (``which="shown"``: every matching one) as JSON fixtures."""
        if which == "selected":
            if self.selected is None:
                self.say("Select a row first (the › beside it), then save it.", error=True)
                return []
            entries: Any = self.selected  # alone: an exchange that cannot be saved raises (shown)
        else:
            entries = [e for e in self._matching() if e.source not in REPLAYED_SOURCES]
        paths = testing.save_fixtures(entries, folder or self.folder.value or "fixtures", app=self.app)
        more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        shown = ", ".join(p.name for p in paths[:3]) + more
        left_out = getattr(paths, "left_out", [])
        also = f" Left out {len(left_out)}: " + "; ".join(map(str, left_out[:3])) if left_out else ""
        self.say((f"Saved {len(paths)} fixture(s) in {paths[0].parent}: {shown}." if paths
                  else "Nothing saved." if left_out else "Nothing to save: no matching exchanges.") + also,
                 error=bool(left_out))
        return paths
