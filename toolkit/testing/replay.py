"""Replay a logged request against the handler as it is now, and diff the old and new answers.

Edit a handler, re-run its cell, then ``replay(app, app.log.last())``: the request goes through
``app.handle`` in-process (no network) and the result says what changed, part by part: status,
session, messages, redirect. A replay never touches your data: it runs inside
:func:`toolkit.log.sandbox` (table writes go to a throwaway copy) and the handler's HTTP calls are
answered from the exchange's recording; ``sandbox=False`` opts out.
:func:`toolkit.testing.edit.replay_edited` sends the request with its body, query or headers changed.

Access control is skipped only for a request that passed it when it was received (or an
in-process ``app.call``, which never needed to); any other request (refused, or failed before it
was checked: too large, bad JSON) is checked again, and its logged credentials are masked, so with
access control on it is refused. ``Replayed.access`` says which way it went and why.

>>> result = replay(app, app.log.last())     # doctest: +SKIP
>>> print(result.diff)                       # doctest: +SKIP
messages[0].textMessages[0].text: 'Your order has shipped.' -> 'Your order is on its way.'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import access
from ..errors import article
from ..html.render import messages_html
from ..html.templates import macro, trusted
from ..log import Exchange, outbound
from ..log import sandbox as data_sandbox
from ..log.exchange import PASSED, SKIPPED
from ..reply import redirect_target
from ..request import Incoming
from .progress import progress

if TYPE_CHECKING:
    from ..app import App

PARTS = ("status", "session", "messages", "redirect", "error", "body")
REPLAYED_SOURCES = ("replay", "fixture")
PUSHED_SOURCES = ("push",)  # exchanges the app sent (Background), not requests it answered


class _Missing:
    def __repr__(self) -> str:
        return "(none)"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Change:
    """One difference: where (``part`` and a JSON ``path``), the old value and the new one."""

    part: str
    path: str
    old: Any
    new: Any

    @property
    def kind(self) -> str:
        """``added``, ``removed`` or ``changed``."""
        return "added" if self.old is MISSING else "removed" if self.new is MISSING else "changed"

    def __str__(self) -> str:
        return f"{self.path}: {short(self.old)} -> {short(self.new)}"


@dataclass
class Diff:
    """The differences between two answers, in the order status, session, messages, redirect."""

    changes: list[Change] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    @property
    def parts(self) -> list[str]:
        """The parts that changed, e.g. ``['messages', 'redirect']``."""
        found = {c.part for c in self.changes}
        return [p for p in PARTS if p in found]

    def __str__(self) -> str:
        return "\n".join(str(c) for c in self.changes) if self.changes else "no differences"

    def __repr__(self) -> str:
        return f"<Diff: {', '.join(self.parts) or 'no differences'}>"


def short(value: Any, limit: int = 70) -> str:
    """A value as one short line for a diff."""
    if value is MISSING:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diff(old: Any, new: Any, *, old_status: int | None = None, new_status: int | None = None) -> Diff:
    """Compare two response bodies (and statuses): session, messages, redirect, error, the rest."""
    changes: list[Change] = []
    if old_status != new_status:
        changes.append(Change("status", "status", old_status, new_status))
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        if old != new:
            changes.append(Change("body", "body", old, new))
        return Diff(changes)
    _walk("session", old.get("session", MISSING), new.get("session", MISSING), "session", changes)
    _messages(old.get("messages") or [], new.get("messages") or [], changes)
    old_to, new_to = redirect_target(old), redirect_target(new)
    if old_to != new_to:
        changes.append(Change("redirect", "redirect", _or_missing(old_to), _or_missing(new_to)))
    _walk("error", old.get("error", MISSING), new.get("error", MISSING), "error", changes)
    seen = {"session", "messages", "error", "nextDialogstate"}
    for key in [k for k in old if k not in seen] + [k for k in new if k not in old and k not in seen]:
        a, b = _without_redirect(key, old.get(key, MISSING)), _without_redirect(key, new.get(key, MISSING))
        _walk("body", a, b, str(key), changes)
    return Diff(changes)


def _or_missing(value: Any) -> Any:
    return MISSING if value is None else value


def _without_redirect(key: str, value: Any) -> Any:
    """``action`` minus its ``nextDialogstate`` (compared as the redirect); empty counts as none."""
    if key == "action" and isinstance(value, Mapping):
        rest = {k: v for k, v in value.items() if k != "nextDialogstate"}
        return rest or MISSING
    return value


def _messages(old: list[Any], new: list[Any], out: list[Change]) -> None:
    for i in range(max(len(old), len(new))):
        a = old[i] if i < len(old) else MISSING
        b = new[i] if i < len(new) else MISSING
        path = f"messages[{i}]"
        if a is MISSING or b is MISSING or not isinstance(a, Mapping) or not isinstance(b, Mapping) \
                or a.get("type") != b.get("type"):
            if a != b:
                out.append(Change("messages", path, a, b))
            continue
        _walk("messages", a.get("config", MISSING), b.get("config", MISSING), path, out)


def _walk(part: str, old: Any, new: Any, path: str, out: list[Change]) -> None:
    """Append the leaf differences between two JSON values."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in list(old) + [k for k in new if k not in old]:
            _walk(part, old.get(key, MISSING), new.get(key, MISSING), f"{path}.{key}", out)
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            _walk(part, old[i] if i < len(old) else MISSING, new[i] if i < len(new) else MISSING,
                  f"{path}[{i}]", out)
    elif old is MISSING and new is MISSING:
        return
    elif type(old) is not type(new) or old != new:
        out.append(Change(part, path, old, new))


# --- replaying --------------------------------------------------------------------------------


@dataclass
class Replayed:
    """A logged exchange (``old``), the same request answered now (``new``), and their diff."""

    old: Exchange
    new: Exchange
    diff: Diff
    access: str = ""  # "access control skipped: ..." or "access control checked: ...", with the reason
    kept: list[str] = field(default_factory=list)  # writes a sandboxed replay kept away from your data

    @property
    def changed(self) -> bool:
        return bool(self.diff)

    @property
    def skipped_access(self) -> bool:
        """Whether access control was skipped (only for a request that passed it, or an app.call)."""
        return self.access.startswith("access control skipped")

    def __repr__(self) -> str:
        what = f"changed ({', '.join(self.diff.parts)})" if self.changed else "unchanged"
        return f"<Replayed {self.old.method} {self.old.path}: {what}>"

    def _repr_html_(self) -> str:
        return side_by_side_html(self)


def request_bytes(exchange: Exchange) -> bytes:
    """The body to send again: the bytes as received when still in memory, else the logged body."""
    raw = exchange.raw_body()
    if raw is not None:
        return raw
    body = exchange.body
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else json.dumps(body, ensure_ascii=False).encode()


@contextmanager
def safely(recorded: Iterable[Mapping[str, Any]] = (), *, sandbox: bool = True) -> Iterator[list[str]]:
    """Run a replay away from your data: inside :func:`toolkit.log.sandbox` (table writes go to a
    throwaway copy) with the handler's HTTP calls answered from ``recorded``, the exchange's recording:
    a call it lacks fails the handler (naming the call) and never reaches the network, and background
    jobs are skipped (nothing pushed for real). Live requests served meanwhile are not affected.
    ``sandbox=False``: everything is real. Yields the list of writes kept away (filled as they happen)."""
    with ExitStack() as stack:
        if not sandbox:
            yield []
            return
        box = stack.enter_context(data_sandbox())
        stack.enter_context(outbound.replay(list(recorded), strict=False))
        yield box.writes


def access_rule(exchange: Exchange) -> tuple[bool, str]:
    """Whether a replay of ``exchange`` skips access control, and why (``"#3 passed ..."``)."""
    if exchange.access == PASSED:
        return True, f"#{exchange.id} passed access control when it was received"
    if exchange.access == SKIPPED and exchange.source == "call":
        return True, f"#{exchange.id} was an in-process app.call, which skips access control"
    if exchange.status == 401:
        why = "was refused by access control (401)"
    elif exchange.access == SKIPPED:
        why = f"ran without access control (source {exchange.source!r})"
    else:
        why = f"failed ({exchange.status}) before access control checked it"
    return False, f"#{exchange.id} {why}: it never passed access control"


def replay(app: App, exchange: Exchange, *, sandbox: bool = True) -> Replayed:
    """Send a logged request again to the current handler (in-process) and diff the answers.

    The new exchange is recorded in ``app.log`` with ``source="replay"``. Access control is skipped
    only when the request passed it the first time (see :func:`access_rule`); ``.access`` says so.
    It runs :func:`safely` (``sandbox=False``: table writes and HTTP calls are real).
    """
    skip, why = access_rule(exchange)
    with safely(exchange.outbound, sandbox=sandbox) as kept:
        response = app.handle(Incoming(exchange.method, exchange.path, exchange.raw_query(),
                                       exchange.headers, request_bytes(exchange), source="replay"),
                              check_access=not skip)
    new = response.exchange
    if new is None:  # only internal /_toolkit/ paths are not recorded
        new = Exchange(exchange.method, exchange.path, response.status, source="replay")
    changes = diff(exchange.response, new.response, old_status=exchange.status, new_status=new.status)
    return Replayed(exchange, new, changes, f"access control {'skipped' if skip else 'checked'}: {why}",
                    kept=list(kept))


@dataclass(frozen=True)
class LeftOut:
    """An exchange that :func:`replay_all` did not replay, and why."""

    exchange: Exchange
    reason: str

    def __str__(self) -> str:
        e = self.exchange
        return f"#{e.id} {e.method} {e.path} ({e.status}): {self.reason}"


class Replays(list[Replayed]):
    """What :func:`replay_all` returns: the replays (a list), plus ``left_out``: the exchanges it did
    not replay, each with its reason."""

    def __init__(self, replays: Iterable[Replayed] = (), left_out: Iterable[LeftOut] = ()) -> None:
        super().__init__(replays)
        self.left_out = list(left_out)


def replay_all(app: App, exchanges: Iterable[Exchange] | None = None, *, changed_only: bool = True,
               sandbox: bool = True, progress_bar: str | None = None) -> Replays:
    """Replay every logged request once (the newest of identical ones).

    Left out, and listed in ``.left_out`` with the reason: replays themselves, and, while access
    control is on, every request that did not pass it (refused, or failed before it was checked):
    its logged credentials are masked, so it cannot be re-sent as it was. Requests that passed are
    replayed without the check, the others with it (``Replayed.access`` says which).

    Returns the replays whose answer changed (all of them with ``changed_only=False``), oldest first.
    Each runs :func:`safely`; a progress bar shows from 20 requests on (the ``progress`` setting, or
    ``progress_bar``: ``"auto"``, ``"always"``, ``"never"``).
    """
    chosen, left_out = distinct(app, app.log.entries() if exchanges is None else exchanges)
    results = [replay(app, e, sandbox=sandbox)
               for e in progress(chosen, "Replaying", progress_bar or app.settings.progress)]
    return Replays([r for r in results if r.changed or not changed_only], left_out)


def distinct(app: App, exchanges: Iterable[Exchange]) -> tuple[list[Exchange], list[LeftOut]]:
    """The requests worth replaying (the newest of identical ones), and those left out with the reason:
    replays and pushes themselves, and, while access control is on, requests that never passed it."""
    guarded = access.access_required(app.settings)
    chosen: dict[str, Exchange] = {}
    left_out: list[LeftOut] = []
    for entry in exchanges:
        skip, why = access_rule(entry)
        if entry.source in REPLAYED_SOURCES:
            left_out.append(LeftOut(entry, f"{article(entry.source)} itself, not a request that came in"))
        elif entry.source in PUSHED_SOURCES:
            left_out.append(LeftOut(entry, "a push of a background job, not a request that came in"))
        elif guarded and not skip:
            left_out.append(LeftOut(entry, f"access control is on and {why}; its logged credentials "
                                           "are masked, so it cannot be sent again as it was"))
        else:
            chosen.pop(entry.fingerprint or str(entry.id), None)
            chosen[entry.fingerprint or str(entry.id)] = entry
    return list(chosen.values()), left_out


# --- side by side -----------------------------------------------------------------------------

def _replay(name: str) -> Any:
    return macro("replay.html", name)


def _json(value: Any) -> str | None:
    if value is None or value is MISSING:
        return None
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def answer_parts(exchange: Exchange, changed: Iterable[str] = (),
                 seen: Callable[[Mapping[str, Any]], str] | None = None) -> list[tuple[str, bool, str, Any]]:
    """What :func:`answer_html` shows: (title, changed?, "json" / "html" / "", value) per part."""
    marks = set(changed)
    body = exchange.response if isinstance(exchange.response, Mapping) else {}
    messages = body.get("messages") or []
    parts: list[tuple[str, bool, str, Any]] = [(f"Status {exchange.status}", "status" in marks, "", None)]
    if "error" in body:
        parts.append(("Error", "error" in marks, "json", _json(body["error"])))
    drawn = (seen(body) if seen is not None else messages_html(messages)) if messages else \
        str(_replay("no_messages")())
    parts.append(("Messages", "messages" in marks, "html", trusted(drawn)))
    parts.append(("Redirect", "redirect" in marks, "json", _json(redirect_target(body))))
    parts.append(("Session", "session" in marks, "json", _json(body.get("session"))))
    if "body" in marks:
        parts.append(("Response", True, "json", _json(exchange.response)))
    return parts


def answer_html(exchange: Exchange, changed: Iterable[str] = (),
                seen: Callable[[Mapping[str, Any]], str] | None = None) -> str:
    """One answer as a user sees it (messages), plus its status, redirect and session. ``seen`` draws
    the messages from the whole answer (the log view renders them with the answer's session write)."""
    return str(_replay("answer")(answer_parts(exchange, changed, seen)))


def change_rows(d: Diff) -> list[tuple[str, str, str]]:
    """(path, old, new) per change, the values shortened as :func:`short` does."""
    return [(c.path, short(c.old), short(c.new)) for c in d.changes] if d else []


def changes_html(d: Diff) -> str:
    """The list of changes, old value struck through in red, new in green."""
    return str(_replay("changes")(change_rows(d)))


def side_by_side_html(result: Replayed, seen: Callable[[Mapping[str, Any]], str] | None = None) -> str:
    """The logged answer and the new one side by side, with the changed parts marked (``seen``: as in
    :func:`answer_html`)."""
    parts = result.diff.parts
    return str(_replay("side_by_side")(
        result.old, result.changed, change_rows(result.diff), result.kept,
        answer_parts(result.old, parts, seen), answer_parts(result.new, parts, seen)))
