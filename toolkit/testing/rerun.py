"""Re-run the cell, see what changed: when a cell redefines a handler that has fixtures or logged
traffic, its requests are replayed against the new handler (safely: in the replay sandbox, outbound
HTTP answered from recordings) and a small report shows under that cell: how many answers are
unchanged, which changed (the diff one click away) and which now fail.

The ``recheck_on_redefine`` setting says what is replayed: ``all`` (logged requests and fixtures),
``fixtures``, or ``off``. :func:`recheck` does the work and returns a :class:`Recheck`; :func:`on_replace`
is the hook ``App`` calls on a replacement: in an IPython kernel's main thread it displays the report.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FixtureError, MissingRecording
from ..html.templates import macro, trusted
from ..log import logger
from ..routing import Route
from .fixtures import Checked, check, load_fixtures
from .progress import progress
from .replay import Replayed, changes_html, diff, distinct, replay, side_by_side_html

if TYPE_CHECKING:
    from ..app import App

NEWEST = 50  # logged requests replayed at most (the newest distinct ones)


@dataclass
class Outcome:
    """One request replayed against the redefined handler: a logged exchange or a fixture."""

    label: str  # "#12 POST /orders" or "fixture orders-3"
    result: Replayed | Checked

    @property
    def changed(self) -> bool:
        return bool(self.result.diff)

    @property
    def fails(self) -> bool:
        """The new answer is an error where the old one was not."""
        r = self.result
        old, new = (r.old.status, r.new.status) if isinstance(r, Replayed) else \
            (int(r.fixture["response"]["status"]), r.status)
        return new >= 400 and old < 400 or new >= 500 > old


@dataclass
class Recheck:
    """What redefining ``path`` changed: the outcomes, split into unchanged, changed and failing."""

    path: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def unchanged(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.changed]

    @property
    def changed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.changed and not o.fails]

    @property
    def failing(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.fails]

    def summary(self) -> str:
        return (f"{len(self.unchanged)} unchanged, {len(self.changed)} changed, "
                f"{len(self.failing)} now failing")

    def __repr__(self) -> str:
        return f"<Recheck {self.path}: {self.summary()}>"

    def _repr_html_(self) -> str:
        head = f"Redefined {self.path}: replayed {len(self.outcomes)} request(s) safely: {self.summary()}."
        color = "#b91c1c" if self.failing else "#92400e" if self.changed else "#15803d"
        items = [_item(o, "now fails") for o in self.failing] + [_item(o, "changed") for o in self.changed]
        return str(macro("testing.html", "recheck")(head, color, items))


def _item(outcome: Outcome, what: str) -> tuple[str, str, list[str], Any]:
    """(label, what, changed parts, detail HTML) of one replayed request."""
    r = outcome.result
    detail = side_by_side_html(r) if isinstance(r, Replayed) else changes_html(r.diff)
    return outcome.label, what, list(r.diff.parts), trusted(detail)


def served_by(route: Route, method: str, path: str) -> bool:
    """Whether ``route`` answers ``method path``."""
    found = route.pattern.match(path) if route.pattern is not None else path == route.path
    return bool(found) and route.allows(method.upper())


def recheck(app: App, route: Route, *, mode: str | None = None, folder: str | Path | None = None) -> Recheck:
    """Replay the logged requests (``mode="all"``) and the fixtures of ``folder`` (default: the
    ``fixtures_dir`` setting) that ``route`` serves, each safely, and sort the answers."""
    mode = mode or app.settings.recheck_on_redefine
    report = Recheck(route.path)
    if mode == "off":
        return report
    traffic = distinct(app, app.log.entries())[0] if mode == "all" else []
    logged = [e for e in traffic if served_by(route, e.method, e.path)]
    fixtures = [f for f in _fixtures(folder or app.settings.fixtures_dir)
                if served_by(route, str(f["request"]["method"]), str(f["request"]["path"]))]
    work: list[Any] = logged[-NEWEST:] + fixtures
    for item in progress(work, f"Re-checking {route.path}", app.settings.progress):
        if isinstance(item, Mapping):
            report.outcomes.append(Outcome(f"fixture {item['name']}", _check(app, item)))
        else:
            report.outcomes.append(Outcome(f"#{item.id} {item.method} {item.path}", replay(app, item)))
    return report


def _check(app: App, fixture: Mapping[str, Any]) -> Checked:
    """:func:`check`, with a call the recording lacks (which it raises) as a failing answer."""
    try:
        return check(app, fixture)
    except MissingRecording as exc:
        body = {"error": {"status": 500, "type": exc.kind, "message": exc.message}}
        expected = fixture["response"]
        found = diff(expected.get("body"), body, old_status=expected["status"], new_status=500)
        return Checked(dict(fixture), 500, body, found)


def _fixtures(folder: str | Path) -> list[dict[str, Any]]:
    if not Path(folder).is_dir():
        return []
    try:
        return load_fixtures(folder)
    except FixtureError as exc:  # a broken fixture never breaks redefining a handler
        logger.warning("re-check skipped the fixtures of %s: %s", folder, exc)
        return []


def on_replace(app: App, old: Route, new: Route) -> None:
    """``App``'s hook on a replaced handler: in an IPython kernel's main thread (a cell redefining
    it), re-check and display the report under that cell. Anywhere else it does nothing."""
    if app.settings.recheck_on_redefine == "off" or threading.current_thread() is not threading.main_thread():
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is None:
        return
    report = recheck(app, new)
    if report.outcomes:
        from IPython.display import display

        display(report)
