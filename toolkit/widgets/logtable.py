"""The HTML of the live log: table rows, the column header, the counts line, the filter test and
the detail pane of one exchange. Pure functions (no ipywidgets), shared by the view and its tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from ..log import Exchange
from ..reply import redirect_target
from .seen import seen_html

STATUS_COLORS = {"2xx": "#16a34a", "3xx": "#2563eb", "4xx": "#d97706", "5xx": "#dc2626"}  # the status classes
FLAG_COLORS = {"slow": "#dc2626", "retry": "#7c3aed", "error": "#dc2626", "dropped": "#b45309"}
# Each column's flex: the table adapts to its width. Time gives way first (down to nothing), then
# handler and path; #, method, status and ms keep their width and flags at least one chip, so a row stays
# whole down to about 340 px (a log view beside a chat view in JupyterLab on a 1280 px screen).
COLUMNS = (("#", "flex:none;width:34px"), ("time", "flex:0 3 96px;min-width:0"),
           ("method", "flex:none;width:50px"), ("path", "flex:2 1 160px;min-width:56px"),
           ("handler", "flex:1 1 120px;min-width:0"), ("status", "flex:none;width:44px"),
           ("ms", "flex:none;width:68px"), ("flags", "flex:1 0 56px"))
CHECK_SOURCES = frozenset({"replay", "fixture"})  # what the view's "Replays & checks" box shows
ROW_PX = 26  # every row (and the "›" button beside it) is exactly this tall
ROW = (f"display:flex;gap:4px;align-items:center;height:{ROW_PX}px;box-sizing:border-box;"
       "font:12px/24px ui-monospace,Menlo,Consolas,monospace;white-space:nowrap;padding:0 4px;"
       "border-bottom:1px solid #f0f0f0;overflow:hidden")
_SIZES = dict(COLUMNS)
SECTION = "margin:8px 0 2px;font:600 12px sans-serif;color:#444"
PRE = "margin:2px 0;padding:6px;background:#f7f7f8;border-radius:6px;font-size:11px;white-space:pre-wrap;" \
      "overflow-wrap:anywhere;max-height:320px;overflow:auto"
# Width 0 keeps wide content (rows, long URLs) out of the width the page lays the view out with;
# min-width 100% then gives it the view's width: the view fits its cell and never scrolls sideways.
FIT = "width:0;min-width:100%;box-sizing:border-box"


def fit(html: str) -> str:
    """``html`` in a block as wide as the view, whatever it holds."""
    return f'<div class="tk-fit" style="{FIT}">{html}</div>'


def status_class(status: int) -> str:
    """``"2xx"`` .. ``"5xx"`` (``"1xx"`` and others as their first digit)."""
    return f"{status // 100}xx"


def _cell(name: str, content: str, style: str = "") -> str:
    css = "id" if name == "#" else name
    return (f'<span class="tk-{css}" style="{_SIZES[name]};overflow:hidden;text-overflow:ellipsis;{style}">'
            f"{content}</span>")


def chip(label: str, color: str) -> str:
    return (f'<span style="display:inline-block;margin-right:3px;padding:0 6px;border-radius:8px;'
            f'background:{color};color:#fff;font:11px/16px sans-serif">{escape(label)}</span>')


def clock(t: float) -> str:
    """``HH:MM:SS.mmm`` in local time."""
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"


def flags_of(entry: Exchange) -> list[str]:
    """The flags shown on a row: the exchange's own, ``error`` for 5xx, and a non-HTTP source."""
    flags = list(entry.flags)
    if entry.error and entry.status >= 500:
        flags.append("error")
    if entry.source not in ("http",):
        flags.append(entry.source)
    return flags


def milliseconds(ms: float) -> str:
    """``12.3 ms`` below 100 ms, ``1,234 ms`` from there: short enough for the ms column."""
    return f"{ms:,.1f} ms" if ms < 100 else f"{ms:,.0f} ms"


def row_html(entry: Exchange, *, selected: bool = False) -> str:
    """One table row: time, method, path, handler, status (coloured by class), ms, flags."""
    color = STATUS_COLORS.get(status_class(entry.status), "#6b7280")
    slow = "slow" in entry.flags
    ms_style = "color:#fff;background:#dc2626;border-radius:4px;padding:0 4px;font-weight:600" if slow else ""
    flags = "".join(chip(f, FLAG_COLORS.get(f, "#6b7280")) for f in flags_of(entry))
    back = "background:#e0ecff;" if selected else ""
    return (f'<div class="tk-row" data-id="{entry.id}" style="{ROW};{back}">'
            + _cell("#", str(entry.id), "color:#6b7280;text-align:right")
            + _cell("time", clock(entry.time), "color:#6b7280")
            + _cell("method", escape(entry.method), "font-weight:600")
            + _cell("path", escape(entry.path))
            + _cell("handler", escape(entry.handler or "—"), "color:#4b5563")
            + _cell("status", chip(str(entry.status), color))
            + _cell("ms", f'<span style="{ms_style}">{milliseconds(entry.total_ms)}</span>',
                    "text-align:right")
            + _cell("flags", flags) + "</div>")


def header_html() -> str:
    """The column titles, aligned with :func:`row_html`."""
    cells = "".join(_cell(name, name, "text-align:right" if name in ("#", "ms") else "")
                    for name, _size in COLUMNS)
    return f'<div style="{ROW};color:#6b7280;font-weight:600;border-bottom:1px solid #ccc">{cells}</div>'


def counts_html(shown: int, matching: int, total: int, *, paused: bool = False, waiting: int = 0,
                filtered: bool = False, cleared: int = 0, checks: int = 0) -> str:
    """``Showing 50 of 312 exchanges (262 more not shown)`` plus the pause state; after Clear it says
    how many exchanges were cleared from the view (``app.log`` keeps them), and how many replays and
    fixture checks ``checks`` hides (the "Replays & checks" box shows them)."""
    if total == 0 and cleared:
        text = (f"Cleared {cleared} exchange{'' if cleared == 1 else 's'} from the view (app.log keeps "
                f"{'it' if cleared == 1 else 'them'}); new requests show up here.")
    elif total == 0:
        text = "No requests yet: send one (app.call, the emulator or HTTP) and it shows up here."
    else:
        text = f"Showing {shown} of {matching} {'matching ' if filtered else ''}exchanges"
        if matching > shown:
            text += f" ({matching - shown} more not shown: filter, or raise the view_rows setting)"
        if filtered and matching < total:
            text += f" · {total} in the log"
        if cleared:
            text += f" · {cleared} cleared"
    if checks:
        text += f" · {checks} replay{'s' * (checks != 1)} and fixture check{'s' * (checks != 1)} hidden " \
                "(tick Replays & checks)"
    if paused:
        text = f"⏸ Paused ({waiting} new since). " + text
    return f'<span style="font:12px sans-serif;color:#4b5563">{escape(text)}</span>'


@dataclass(frozen=True)
class Filter:
    """What the view shows: ``where`` (``"path:/x"``, ``"handler:name"`` or ``""``), a status class
    (``"2xx"``, ``"errors"`` = 4xx and 5xx, or ``""``), free text (searched in paths, handlers,
    errors, query, bodies and responses; case-insensitive), and ``checks``: whether replays and
    fixture checks show (off by default, so re-checks never push real requests out of view)."""

    where: str = ""
    status: str = ""
    text: str = ""
    checks: bool = False

    @property
    def active(self) -> bool:
        return bool(self.where or self.status or self.text.strip())

    def matches(self, entry: Exchange, texts: dict[int, str] | None = None) -> bool:
        if not self.checks and entry.source in CHECK_SOURCES:
            return False
        if self.where:
            kind, _, value = self.where.partition(":")
            if (entry.path if kind == "path" else entry.handler) != value:
                return False
        if self.status:
            cls = status_class(entry.status)
            if cls != self.status and not (self.status == "errors" and entry.status >= 400):
                return False
        needle = self.text.strip().lower()
        return not needle or needle in searchable(entry, texts)


def searchable(entry: Exchange, texts: dict[int, str] | None = None) -> str:
    """The lower-case text the free-text filter searches (memoised per exchange id in ``texts``)."""
    if texts is not None and entry.id in texts:
        return texts[entry.id]
    parts = [entry.method, entry.path, entry.handler or "", str(entry.status), entry.error or "",
             entry.source, " ".join(entry.flags)]
    for value in (entry.query, entry.body, entry.response):
        parts.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str))
    text = " ".join(parts).lower()
    if texts is not None:
        texts[entry.id] = text
    return text


def where_options(entries: Iterable[Exchange]) -> list[tuple[str, str]]:
    """Dropdown options: every path and every handler seen, after 'All paths and handlers'."""
    paths = sorted({e.path for e in entries})
    handlers = sorted({e.handler for e in entries if e.handler})
    return ([("All paths and handlers", "")] + [(f"path {p}", f"path:{p}") for p in paths]
            + [(f"handler {h}()", f"handler:{h}") for h in handlers])


# --- the detail pane ----------------------------------------------------------------------------


def pretty(value: Any) -> str:
    """A JSON value as an escaped, indented ``<pre>``."""
    if value is None or value == {} or value == []:
        return '<div style="color:#9ca3af;font:12px sans-serif">(none)</div>'
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return f'<pre style="{PRE}">{escape(text)}</pre>'


def _section(title: str, content: str, *, open_: bool = True) -> str:
    return (f'<details{" open" if open_ else ""} style="margin-top:6px"><summary style="{SECTION};'
            f'cursor:pointer">{escape(title)}</summary>{content}</details>')


def summary_html(entry: Exchange) -> str:
    """The headline of the detail pane."""
    color = STATUS_COLORS.get(status_class(entry.status), "#6b7280")
    who = f" → <b>{escape(entry.handler)}()</b>" if entry.handler else ""
    flags = "".join(chip(f, FLAG_COLORS.get(f, "#6b7280")) for f in flags_of(entry))
    tables = ", ".join(f"{escape(k)} ({escape(str(v))})" for k, v in entry.tables.items())
    extra = f'<div style="color:#6b7280">Tables read: {tables}</div>' if tables else ""
    extra += "".join(f'<div style="color:#b45309">⚠ {escape(w)}</div>' for w in entry.warnings)
    return (f'<div style="font:13px sans-serif"><b>#{entry.id}</b> {clock(entry.time)} '
            f"<b>{escape(entry.method)} {escape(entry.path)}</b>{who} {chip(str(entry.status), color)} "
            f"{entry.total_ms:,.1f} ms (handler {entry.handler_ms:,.1f} ms) {flags}{extra}</div>")


def reply_html(response: Any) -> str:
    """The reply as the user would see it: messages rendered with the session the reply wrote (as the
    emulator would; placeholders it leaves unset marked), then the redirect and the session write."""
    if not isinstance(response, Mapping) or "error" in response:
        return ""
    messages = response.get("messages") or []
    seen = seen_html(response) if messages else \
        '<div style="color:#9ca3af;font:12px sans-serif">(no messages)</div>'
    target = redirect_target(response)
    goes = (f'<div style="font:12px sans-serif;color:#4b5563">→ next block '
            f"<code>{escape(str(target))}</code></div>") if target else ""
    session = response.get("session")
    keeps = (f'<div style="font:12px sans-serif;color:#4b5563">Session write:</div>{pretty(session)}'
             if session else "")
    box = "padding:8px;border:1px solid #e5e7eb;border-radius:10px;background:#fafafa;max-width:640px"
    return _section("What the user sees", f'<div style="{box}">{seen}{goes}</div>{keeps}')


def error_html(entry: Exchange) -> str:
    if not entry.error:
        return ""
    message = (f'<div style="color:#b91c1c;font:12px sans-serif;white-space:pre-wrap">'
               f"{escape(entry.error)}</div>")
    trace = f'<pre style="{PRE};color:#7f1d1d;background:#fef2f2">{escape(entry.traceback)}</pre>' \
        if entry.traceback else ""
    return _section("Error", message + trace)


def outbound_html(calls: list[dict[str, Any]]) -> str:
    """The HTTP calls the handler made, each with its request and response."""
    if not calls:
        return ""
    items = []
    for call in calls:
        status = call.get("status")
        color = STATUS_COLORS.get(status_class(status), "#6b7280") if isinstance(status, int) else "#6b7280"
        ms = call.get("ms")
        head = (f"{escape(str(call.get('method', '')))} {escape(str(call.get('url', '')))} "
                f"{chip(str(status if status is not None else call.get('error') or '?'), color)}"
                f"{f' {ms:,.1f} ms' if isinstance(ms, int | float) else ''}")
        body = "".join(f'<div style="font:11px sans-serif;color:#6b7280">{name}</div>{pretty(call.get(key))}'
                       for name, key in (("request", "request"), ("response", "response"), ("error", "error"))
                       if call.get(key) is not None)
        items.append(f'<details style="margin-left:10px"><summary style="font:12px monospace;cursor:pointer">'
                     f"{head}</summary>{body}</details>")
    return _section(f"Outbound calls ({len(calls)})", "".join(items))


def detail_html(entry: Exchange | None) -> str:
    """Everything about one exchange: summary, error and traceback, the reply as the user sees it,
    the request (query, masked headers, body), the response JSON and the outbound calls."""
    if entry is None:
        return ('<div style="font:12px sans-serif;color:#6b7280">Click the › beside a row to see its '
                "request, response and rendered messages here.</div>")
    request = (f'<div style="{SECTION}">Query</div>{pretty(entry.query)}'
               f'<div style="{SECTION}">Headers (secrets masked)</div>{pretty(entry.headers)}'
               f'<div style="{SECTION}">Body</div>{pretty(entry.body)}')
    return (f'<div style="border-top:2px solid #e5e7eb;padding-top:6px">{summary_html(entry)}'
            f"{error_html(entry)}{reply_html(entry.response)}{_section('Request', request)}"
            f"{_section('Response JSON', pretty(entry.response), open_=False)}"
            f"{outbound_html(entry.outbound)}</div>")
