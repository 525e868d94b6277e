"""The HTML of the live log: table rows, the column header, the counts line, the filter test and
the detail pane of one exchange. Pure functions (no ipywidgets), shared by the view and its tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..html.templates import macro, trusted
from ..log import Exchange
from ..reply import redirect_target
from .seen import seen_html

STATUS_COLORS = {"2xx": "#16a34a", "3xx": "#2563eb", "4xx": "#d97706", "5xx": "#dc2626"}  # the status classes
FLAG_COLORS = {"slow": "#dc2626", "retry": "#7c3aed", "error": "#dc2626", "dropped": "#b45309"}
# The columns (and their flex) are written out in templates/logtable.html, the hot path of a redraw.
ROW_PX = 26  # every row (and the "›" button beside it) is exactly this tall, as the template says


def _table(name: str) -> Any:
    return macro("logtable.html", name)


def _detail(name: str) -> Any:
    return macro("logdetail.html", name)
CHECK_SOURCES = frozenset({"replay", "fixture"})  # what the view's "Replays & checks" box shows


def fit(html: str) -> str:
    """``html`` (HTML toolkit rendered) in a block as wide as the view, whatever it holds."""
    return str(_table("fit")(trusted(html)))


def status_class(status: int) -> str:
    """``"2xx"`` .. ``"5xx"`` (``"1xx"`` and others as their first digit)."""
    return f"{status // 100}xx"


def chip(label: str, color: str) -> str:
    """A small coloured label (a status or a flag)."""
    return str(_table("chip")(label, color))


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
    back = "background:#e0ecff;" if selected else ""
    return str(_table("row")(entry, back, color, _flag_colors(entry), clock(entry.time),
                             milliseconds(entry.total_ms), ms_style))


def _flag_colors(entry: Exchange) -> list[tuple[str, str]]:
    return [(f, FLAG_COLORS.get(f, "#6b7280")) for f in flags_of(entry)]


def header_html() -> str:
    """The column titles, aligned with :func:`row_html`."""
    return str(_table("header")())


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
    return str(_table("counts")(text, paused, waiting))  # paused: "Paused (N new since). " first


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


def json_text(value: Any) -> str | None:
    """A JSON value as indented text (a string as it is); ``None`` for nothing (None, {} or [])."""
    if value is None or value == {} or value == []:
        return None
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)


def pretty(value: Any) -> str:
    """A JSON value as an escaped, indented ``<pre>`` (``(none)`` for nothing)."""
    return str(_detail("pretty")(json_text(value)))


def summary_html(entry: Exchange) -> str:
    """The headline of the detail pane."""
    color = STATUS_COLORS.get(status_class(entry.status), "#6b7280")
    return str(_detail("summary")(entry, clock(entry.time), color, _flag_colors(entry),
                                  f"{entry.total_ms:,.1f}", f"{entry.handler_ms:,.1f}"))


def reply_html(response: Any) -> str:
    """The reply as the user would see it: messages rendered with the session the reply wrote (as the
    emulator would; placeholders it leaves unset marked), then the redirect and the session write."""
    if not isinstance(response, Mapping) or "error" in response:
        return ""
    seen = trusted(seen_html(response)) if response.get("messages") else None
    target = redirect_target(response)
    session = response.get("session")
    return str(_detail("reply")(seen, str(target) if target else "", json_text(session) if session else None))


def error_html(entry: Exchange) -> str:
    """The error and its traceback (``""`` when the exchange has none)."""
    if not entry.error:
        return ""
    return str(_detail("error")(entry.error, entry.traceback))


def outbound_html(calls: list[dict[str, Any]]) -> str:
    """The HTTP calls the handler made, each with its request and response."""
    if not calls:
        return ""
    items = []
    for call in calls:
        status = call.get("status")
        color = STATUS_COLORS.get(status_class(status), "#6b7280") if isinstance(status, int) else "#6b7280"
        ms = call.get("ms")
        items.append({
            "method": str(call.get("method", "")), "url": str(call.get("url", "")), "color": color,
            "status": str(status if status is not None else call.get("error") or "?"),
            "ms": f" {ms:,.1f} ms" if isinstance(ms, int | float) else "",
            "parts": [(name, json_text(call.get(name))) for name in ("request", "response", "error")
                      if call.get(name) is not None]})
    return str(_detail("outbound")(items))


def detail_html(entry: Exchange | None) -> str:
    """Everything about one exchange: summary, error and traceback, the reply as the user sees it,
    the request (query, masked headers, body), the response JSON and the outbound calls."""
    if entry is None:
        return str(_detail("empty")())
    return str(_detail("detail")(
        trusted(summary_html(entry)), trusted(error_html(entry)), trusted(reply_html(entry.response)),
        json_text(entry.query), json_text(entry.headers), json_text(entry.body), json_text(entry.response),
        trusted(outbound_html(entry.outbound))))
