"""Building the request of an API step the way Chatlayer builds it (contract §1): rows of
``(key, type, value)`` for query, headers and body, with type ``text``, ``variable`` or
``dialogstate``, plus the Authorization tab (Basic or Bearer).

Each choice the sources leave open is a setting (``emulator_*``); see the README's "The emulator".
"""

from __future__ import annotations

import base64
import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from ..config import Settings
from ..errors import ApiStepError, TemplateError
from . import paths
from .session import Session
from .templating import to_text

ROW_TYPES = ("text", "variable", "dialogstate")
Resolve = Callable[[str], str]


@dataclass(frozen=True)
class Row:
    """One Key / Type / Value row of the Query, Headers or Body tab."""

    key: str
    type: str
    value: Any


def rows_of(rows: Iterable[Any] | Mapping[str, Any] | None, tab: str) -> tuple[Row, ...]:
    """Rows from ``(key, type, value)`` tuples or ``{key, type, value}`` dicts, checked."""
    if rows is None:
        return ()
    if isinstance(rows, Mapping):
        raise ApiStepError(f"{tab} rows must be a list of (key, type, value), got a dict.",
                           hint=f"Write e.g. {tab}=[('order_id', 'variable', 'order.id')].")
    out = []
    for i, row in enumerate(rows):
        if isinstance(row, Mapping):
            row = (row.get("key"), row.get("type"), row.get("value"))
        if not isinstance(row, list | tuple) or len(row) != 3:
            raise ApiStepError(f"{tab} row {i + 1} is {row!r}; a row is (key, type, value).",
                               hint="E.g. ('order_id', 'variable', 'order.id') or "
                               "('source', 'text', 'chatlayer').")
        key, kind, value = row
        if not isinstance(key, str) or not key:
            raise ApiStepError(f"{tab} row {i + 1} has no key.", hint="Give every row a key (a string).")
        if kind not in ROW_TYPES:
            close = difflib.get_close_matches(str(kind), ROW_TYPES, n=1)
            raise ApiStepError(
                f"{tab} row {key!r} has type {kind!r}." + (f" Did you mean {close[0]!r}?" if close else ""),
                hint="Type is 'text' (the value as typed), 'variable' (a session path such as "
                "users[0].firstname) or 'dialogstate' (a block name or id).")
        if kind == "variable":
            paths.parse(str(value))  # fails early, naming the path
        out.append(Row(key, kind, value))
    return tuple(out)


def auth_of(auth: Any) -> tuple[str, ...] | None:
    """``("basic", user, password)`` or ``("bearer", token)`` from the forms an analyst may write."""
    if auth is None:
        return None
    if isinstance(auth, Mapping):
        if "bearer" in auth:
            auth = ("bearer", auth["bearer"])
        elif "basic" in auth:
            auth = ("basic", *auth["basic"])
        else:
            kind = str(auth.get("type", "")).lower()
            auth = ("bearer", auth.get("token")) if kind == "bearer" else (
                kind, auth.get("username"), auth.get("password"))
    if isinstance(auth, list | tuple) and auth and str(auth[0]).lower() in ("basic", "bearer"):
        kind = str(auth[0]).lower()
        need = 3 if kind == "basic" else 2
        if len(auth) == need and all(isinstance(a, str) for a in auth[1:]):
            return (kind, *auth[1:])
    raise ApiStepError(f"auth must be Basic or Bearer, got {auth!r}.",
                       hint="Write auth=('bearer', token) or auth=('basic', user, password) "
                       "(in YAML: auth: {bearer: ...} or auth: {basic: [user, password]}).")


@dataclass
class StepRequest:
    """What the emulated API step sends: method, url (without the query), query, headers, body."""

    method: str
    url: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    raw: bytes = field(default=b"", repr=False)
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def full_url(self) -> str:
        """The url with the query string, as it goes on the wire."""
        if not self.query:
            return self.url
        return self.url + ("&" if "?" in self.url else "?") + urlencode(self.query)

    def to_dict(self) -> dict[str, Any]:
        """The request as Chatlayer's error log shows it (headers as sent; mask before sharing)."""
        return {"method": self.method, "url": self.url, "query": dict(self.query),
                "headers": dict(self.headers), "body": self.body}

    def __repr__(self) -> str:
        keys = ", ".join(self.body) if self.body else "no body"
        return f"<StepRequest {self.method} {self.url} ({keys})>"


def build(method: str, url: str, tabs: Mapping[str, tuple[Row, ...]], auth: tuple[str, ...] | None,
          session: Session, settings: Settings, resolve: Resolve | None) -> StepRequest:
    """Build the request from the rows, with values from ``session``."""
    missing: list[str] = []
    notes: list[str] = []
    everywhere = settings.emulator_interpolate == "all"

    def text(value: Any, interpolate: bool) -> str:
        if not interpolate:
            return to_text(value)
        out = session.render_report(to_text(value))
        missing.extend(m for m in out.missing if m not in missing)
        return out.text

    def value_of(row: Row, keep_types: bool) -> Any:
        if row.type == "text":
            return text(row.value, everywhere)
        if row.type == "dialogstate":
            return resolve(str(row.value)) if resolve else str(row.value)
        found, value = session.find(str(row.value))
        if not found:
            return _missing_value(str(row.value), settings.missing_variable, missing)
        return value if keep_types else to_text(value)

    query = {r.key: to_text(value_of(r, False)) for r in tabs["query"]}
    headers = {r.key: to_text(value_of(r, False)) for r in tabs["headers"]}
    body: dict[str, Any] | None = None
    carries = method in [m.strip().upper() for m in settings.emulator_body_methods.split(",")]
    if tabs["body"] and not carries:
        notes.append(f"{len(tabs['body'])} Body row(s) left out: {method} carries no body "
                     "(setting emulator_body_methods).")
    elif carries:
        body = {}
        for r in tabs["body"]:
            value = value_of(r, settings.emulator_keep_types)
            if settings.emulator_nest_keys and "." in r.key:
                paths.assign(body, paths.parse(r.key), value, r.key)
            else:
                body[r.key] = value
    if auth is not None:
        headers["Authorization"] = _authorization(auth, lambda v: text(v, everywhere))
    raw = b"" if body is None else json.dumps(body, ensure_ascii=False, default=str).encode()
    if body is not None and settings.emulator_content_type and not any(
            k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    full = text(url, settings.emulator_interpolate != "none")
    return StepRequest(method, full, query, headers, body, raw, tuple(missing), tuple(notes))


def _missing_value(path: str, mode: str, missing: list[str]) -> Any:
    if path not in missing:
        missing.append(path)
    if mode == "error":
        raise TemplateError(f"Variable row {path!r}: the session has no {path}.",
                            hint=f"Set {path} before this API step, or use the setting "
                            "missing_variable='empty' or 'keep'.")
    return "{" + path + "}" if mode == "keep" else ""


def _authorization(auth: tuple[str, ...], fill: Callable[[Any], str]) -> str:
    if auth[0] == "bearer":
        return f"Bearer {fill(auth[1])}"
    pair = f"{fill(auth[1])}:{fill(auth[2])}".encode()
    return "Basic " + base64.b64encode(pair).decode()
