"""``LogView``: the live log of an app, under the cell that started its server.

A table of exchanges, newest first, with filters, pause/clear, a detail pane for the selected row,
replay with a side-by-side diff and saving fixtures. The server thread only marks the view dirty;
a timer thread redraws at most ``view_max_fps`` times a second, through widget traits only.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from ..errors import ConfigError
from ..html.templates import macro
from ..log import Exchange, logger
from ..testing.replay import Replayed
from .logactions import LogActions
from .logtable import (
    CHECK_SOURCES,
    ROW_PX,
    Filter,
    counts_html,
    detail_html,
    fit,
    header_html,
    row_html,
    where_options,
)
from .snapshot import ServerWatch, current_cell, freeze

if TYPE_CHECKING:
    from ..app import App

STATUS_OPTIONS = [("All statuses", ""), ("2xx success", "2xx"), ("3xx redirect", "3xx"),
                  ("4xx client error", "4xx"), ("5xx server error", "5xx"), ("4xx and 5xx", "errors")]
HEADER = header_html()
_open_views: dict[str, weakref.ref[LogView]] = {}
STOPPED = "Stopped: this log view no longer updates; its last state is shown."


class LogView(LogActions, w.VBox):
    """The live log of ``app``: ``app.log_view()`` or ``toolkit.LogView(app)``; display it in a cell.

    Drive it from code as well as with the mouse: :meth:`select`, :meth:`set_filter`,
    :meth:`pause` / :meth:`resume`, :meth:`clear`, :meth:`replay`, :meth:`replay_all`,
    :meth:`save_fixtures`. :meth:`close` unsubscribes and stops the redraw thread, and leaves the last
    rows on the page under a "Stopped" note; stopping the app's server (``server.stop()``) closes it
    the same way, while re-running ``app.serve()`` only moves its link to the new server. A new view
    of an app with the same name freezes the old one the same way ("Replaced by the view in cell [n]"),
    so re-running its cell leaves no live leftovers. Replays and fixture checks hide behind the
    *Replays & checks* box (off by default).
    """

    def __init__(self, app: App, *, rows: int | None = None, max_fps: float | None = None) -> None:
        n = int(rows if rows is not None else app.settings.view_rows)
        fps = float(max_fps if max_fps is not None else app.settings.view_max_fps)
        if n < 1 or fps <= 0:
            raise ConfigError(f"The log view needs view_rows >= 1 and view_max_fps > 0; got {n} and {fps:g}.",
                              hint="E.g. app.configure(view_rows=50, view_max_fps=10).")
        super().__init__(layout=w.Layout(width="100%", min_width="0"))
        self.add_class("tk-logview")
        self.app, self.rows, self.max_fps = app, n, fps
        self.redraws = 0
        self.redraw_times: deque[float] = deque(maxlen=2000)
        self.selected: Exchange | None = None
        self.last_replays: list[Replayed] = []
        self._shown: list[Exchange] = []
        self._texts: dict[int, str] = {}
        self._rows_html: dict[int, str] = {}
        self._where_seen: tuple[Any, ...] = ()
        self._cleared_at = 0
        self._paused_at: int | None = None
        self._dirty = False
        self._closed = False
        self._draw_lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._build()
        _replace_open_view(self)
        self._unsubscribe = app.log.subscribe(self._on_exchange)
        self._watch = ServerWatch(self, "this log view no longer updates", app=app, changed=self._request)
        self.refresh()
        self._thread = threading.Thread(target=self._loop, name=f"toolkit-logview-{app.name}", daemon=True)
        self._thread.start()

    # --- building -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.title = w.HTML(str(macro("widgets.html", "log_title")(self.app.name)))
        self.counts = w.HTML()
        self.link = w.HTML()
        self._link_url = ""
        self.notice = w.HTML()
        self.detail = w.HTML(fit(detail_html(None)), layout=w.Layout(min_width="0"))
        self.detail.add_class("tk-detail")
        self.comparison = w.HTML(layout=w.Layout(min_width="0"))
        self.comparison.add_class("tk-comparison")
        self.children = (
            w.HBox([self.title, self.link, self.counts], layout=w.Layout(justify_content="space-between",
                                                               flex_flow="row wrap")),
            self._controls(), self._table(), self._action_bar(), self.notice, self.detail, self._editor(),
            self.comparison)

    def _controls(self) -> w.HBox:
        """Filters, Pause and Clear."""
        self.where_filter = w.Dropdown(options=[("All paths and handlers", "")], value="",
                                       layout=w.Layout(width="230px"))
        self.status_filter = w.Dropdown(options=STATUS_OPTIONS, value="", layout=w.Layout(width="150px"))
        self.text_filter = w.Text(placeholder="Search paths, bodies, errors…", layout=w.Layout(width="240px"))
        self.pause_button = w.ToggleButton(description="Pause", icon="pause", layout=w.Layout(width="90px"),
                                           tooltip="Freeze the rows; new requests are counted meanwhile")
        self.checks_filter = w.Checkbox(value=False, description="Replays & checks", indent=False,
                                        layout=w.Layout(width="140px"),
                                        tooltip="Show replays and fixture checks too (hidden by default)")
        self.clear_button = w.Button(description="Clear", icon="trash", layout=w.Layout(width="80px"),
                                     tooltip="Hide the rows so far (app.log keeps them)")
        for control in (self.where_filter, self.status_filter, self.text_filter, self.checks_filter):
            control.observe(lambda _change: self._request(), names="value")
        self.pause_button.observe(self._on_pause, names="value")
        self.clear_button.on_click(lambda _b: self.clear())
        return w.HBox([self.where_filter, self.status_filter, self.text_filter, self.checks_filter,
                       self.pause_button, self.clear_button], layout=w.Layout(flex_flow="row wrap"))

    def _table(self) -> w.HBox:
        """One HTML value for the whole table (one message per redraw), and beside it a column of
        "›" buttons that never change label: the i-th selects the i-th row shown."""
        self.table_html = w.HTML(layout=w.Layout(margin="0", flex="1 1 auto", min_width="0"))
        self.table_html.add_class("tk-table")
        self._pick: list[w.Button] = []
        self._row_ids: list[int] = []
        self._pick_layout = w.Layout(width="28px", height=f"{ROW_PX}px", padding="0", margin="0")
        self.pick_column = w.VBox([w.Box(layout=w.Layout(height=f"{ROW_PX}px", width="28px", margin="0"))],
                                  layout=w.Layout(margin="0", flex="none"))
        self.table = w.HBox([self.pick_column, self.table_html],
                            layout=w.Layout(max_height="440px", overflow="auto", margin="0"))
        return self.table

    def _picker(self, index: int) -> w.Button:
        while len(self._pick) <= index:
            i = len(self._pick)
            button = w.Button(description="›", layout=self._pick_layout,
                              tooltip="Show this exchange in the detail pane")
            button.on_click(lambda _b, i=i: self.select(self._row_ids[i]) if i < len(self._row_ids) else None)
            self._pick.append(button)
        return self._pick[index]

    # --- the live part --------------------------------------------------------------------------

    def _on_exchange(self, _entry: Exchange) -> None:
        """Log subscriber, called on the server thread: only mark dirty and wake the timer."""
        if not self._dirty:
            self._dirty = True
            self._wake.set()

    def _request(self) -> None:
        self._dirty = True
        self._wake.set()

    def _loop(self) -> None:
        interval, last = 1.0 / self.max_fps, 0.0
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            if self._closed:
                return
            wait = last + interval - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            try:
                self._redraw()
            except Exception:  # never let a drawing bug kill the thread
                logger.exception("log view redraw failed")
            last = time.monotonic()
            self.redraw_times.append(last)

    def refresh(self) -> None:
        """Redraw now, in this thread (the timer does it by itself as requests arrive)."""
        self._redraw()

    @property
    def filter(self) -> Filter:
        """The filter the controls describe."""
        return Filter(self.where_filter.value or "", self.status_filter.value or "", self.text_filter.value,
                      bool(self.checks_filter.value))

    def _visible(self) -> list[Exchange]:
        stop = self._paused_at
        return [e for e in self.app.log.entries()
                if e.id > self._cleared_at and (stop is None or e.id <= stop)]

    def _matching(self) -> list[Exchange]:
        """Every exchange the filter lets through (not only the rows shown), oldest first."""
        with self._draw_lock:
            flt = self.filter
            return [e for e in self._visible() if flt.matches(e, self._texts)]

    def _redraw(self) -> None:
        with self._draw_lock:
            self._dirty = False
            if self._closed:
                return
            entries = self._visible()
            self._update_where(entries)
            flt = self.filter
            matching = [e for e in reversed(entries) if flt.matches(e, self._texts)]
            shown = matching[: self.rows]
            self._draw_rows(shown)
            waiting = 0
            if self._paused_at is not None:
                last = self.app.log.last()
                waiting = max(0, (last.id if last else 0) - self._paused_at)
            cleared = sum(1 for e in self.app.log.entries() if e.id <= self._cleared_at) \
                if self._cleared_at else 0
            checks = 0 if flt.checks else sum(1 for e in entries if e.source in CHECK_SOURCES)
            self.counts.value = counts_html(len(shown), len(matching), len(entries),
                                            paused=self._paused_at is not None, waiting=waiting,
                                            filtered=flt.active, cleared=cleared, checks=checks)
            self._shown = shown
            self._update_link()
            self.redraws += 1
            if len(self._texts) > 4 * max(self.app.log.size, 1):
                live = {e.id for e in entries}
                self._texts = {k: v for k, v in self._texts.items() if k in live}

    def _draw_rows(self, shown: list[Exchange]) -> None:
        chosen = self.selected.id if self.selected is not None else None
        cache = self._rows_html
        rows = []
        for entry in shown:
            selected = entry.id == chosen
            html = cache.get(entry.id) if not selected else None
            if html is None:
                html = row_html(entry, selected=selected)
                if not selected:
                    cache[entry.id] = html
            rows.append(html)
        if len(cache) > 4 * self.rows:
            keep = {e.id for e in shown}
            self._rows_html = {k: v for k, v in cache.items() if k in keep}
        self.table_html.value = fit(HEADER + "".join(rows))
        self._row_ids = [e.id for e in shown]
        buttons = tuple(self.pick_column.children[:1]) + tuple(self._picker(i) for i in range(len(shown)))
        if buttons != self.pick_column.children:
            self.pick_column.children = buttons

    def _update_link(self) -> None:
        """A link to the app's running server, as a person opens it (proxied behind a hub)."""
        server = getattr(self.app, "server", None)
        url = str(getattr(server, "browser_url", "")) if server is not None and server.running else ""
        if url != self._link_url:
            self._link_url = url
            self.link.value = served_at_html(url)

    def _update_where(self, entries: list[Exchange]) -> None:
        seen = tuple(sorted({(e.path, e.handler or "") for e in entries}))
        if seen == self._where_seen:
            return
        self._where_seen = seen
        options = where_options(entries)
        current = self.where_filter.value
        if current and current not in {v for _l, v in options}:
            options.append((current.replace(":", " ", 1), current))
        self.where_filter.options = options
        self.where_filter.value = current

    # --- controls -------------------------------------------------------------------------------

    @property
    def shown(self) -> list[Exchange]:
        """The exchanges on screen after the last redraw, newest first."""
        return list(self._shown)

    def set_filter(self, where: str | None = None, status: str | None = None,
                   text: str | None = None, checks: bool | None = None) -> None:
        """Filter by ``where`` (``"path:/orders"`` or ``"handler:order_status"``), status class
        (``"2xx"`` .. ``"5xx"``, ``"errors"``) and free text; ``""`` clears one. ``checks=True`` shows
        replays and fixture checks too (hidden by default). Redraws now."""
        if where is not None:
            self._update_where(self._visible())
            if where and where not in {v for _l, v in self.where_filter.options}:
                raise ValueError(f"No path or handler {where!r} in the log. Use 'path:/x' or 'handler:name' "
                                 f"from: {', '.join(v for _l, v in self.where_filter.options if v)}.")
            self.where_filter.value = where
        if status is not None:
            self.status_filter.value = status
        if text is not None:
            self.text_filter.value = text
        if checks is not None:
            self.checks_filter.value = checks
        self.refresh()

    def select(self, target: Exchange | int | None) -> Exchange | None:
        """Show one exchange (or its log id) in the detail pane; ``None`` clears the pane."""
        entry = self.app.log.find(target) if isinstance(target, int) else target
        if isinstance(target, int) and entry is None:
            self.say(f"Exchange #{target} is no longer in the log (it keeps the last "
                     f"{self.app.log.size}; raise log_size to keep more).", error=True)
        with self._draw_lock:
            self.selected = entry
            self.detail.value = fit(detail_html(entry))
            self.comparison.value = ""
            self._show_editor(entry)
        self._request()
        return entry

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def pause(self) -> None:
        """Freeze the rows; new requests are counted and appear on :meth:`resume`."""
        self.pause_button.value = True

    def resume(self) -> None:
        self.pause_button.value = False

    def _on_pause(self, change: dict[str, Any]) -> None:
        if change["new"]:
            last = self.app.log.last()
            self._paused_at = last.id if last else 0
            self.pause_button.description, self.pause_button.icon = "Resume", "play"
        else:
            self._paused_at = None
            self.pause_button.description, self.pause_button.icon = "Pause", "pause"
        self.refresh()

    def clear(self) -> None:
        """Hide every row so far (``app.log`` keeps them; ``app.log.clear()`` forgets them)."""
        last = self.app.log.last()
        self._cleared_at = last.id if last else self._cleared_at
        self.select(None)
        self.say("")
        self.refresh()

    # --- life cycle -----------------------------------------------------------------------------

    def close(self, note: str | None = None, *, keep: bool = True) -> None:
        """Unsubscribe from the log, stop the redraw thread and close the live widgets.

        With ``keep`` (the default) the view stays on the page as a frozen picture of its last state
        under ``note`` (by default "Stopped"), so a notebook that closes its views in its last cell
        still shows what happened after *Run All*. ``keep=False`` removes it from the page.
        """
        if not getattr(self, "_closed", True):
            self._unsubscribe()
            self._redraw()
            self._closed = True
            self._stop.set()
            self._wake.set()
            if self._thread is not threading.current_thread():
                self._thread.join(timeout=5)
            ref = _open_views.get(self.app.name)
            if ref is not None and ref() is self:
                del _open_views[self.app.name]
            last = self._last_state() if keep else ""
            for button in self._pick:
                _close_tree(button)
            for child in self.children:
                _close_tree(child)
            if keep:
                freeze(self, last, note or STOPPED)
                self._frozen = True
                return
        elif keep and getattr(self, "_frozen", False):
            return  # closed already: its frozen picture stays (a second close, or its server stopping)
        super().close()

    def _last_state(self) -> str:
        """The title, counts, rows and detail pane as shown now, as one piece of HTML."""
        parts = [self.title.value, " · ", self.counts.value, self.table_html.value]
        if self.selected is not None:
            parts.append(self.detail.value)
        return "".join(parts)

    def __repr__(self) -> str:
        return f"LogView(app={self.app.name!r})"


def served_at_html(url: str) -> str:
    """``served at <link>`` beside the title (``""`` without a running server)."""
    if not url:
        return ""
    return str(macro("widgets.html", "served_at")(url))


def _close_tree(widget: w.Widget) -> None:
    """Close a widget, its children, layout and style (closing twice is harmless)."""
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if isinstance(part, w.Widget):
            part.close()
    widget.close()


def _replace_open_view(view: LogView) -> None:
    ref = _open_views.get(view.app.name)
    old = ref() if ref is not None else None
    if old is not None and old is not view:
        old.close(f"Replaced by {current_cell()}: the live log of {view.app.name!r} continues there.")
    _open_views[view.app.name] = weakref.ref(view)
