"""``toolkit.Table``: a CSV file as a pandas frame that handlers query, that follows edits of the
file, and that writes rows back safely.
"""

from __future__ import annotations

import os
import re
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import Settings
from ..errors import KeyNotFound, TableDatabaseError, TableError
from ..log import Sandbox, Trace, current_sandbox, current_trace, logger, note_table_error, note_table_read
from . import lookup, query
from .commit import shared_for
from .errors import quoted_list
from .load import load, read_bytes, signature
from .state import Signature, State
from .values import readback_rows
from .write import check_row, kinds, record_bytes, records_of

CHECK_INTERVAL_S = 0.5  # outside a request, how often the file is looked at
NOT_SUPPORTED = ("chunksize", "iterator")


class Table:
    """A CSV file loaded with pandas: ``.df`` is the frame, ``.get(key)`` a row as a dict.

    >>> orders = Table("data/orders.csv", key="order_id")        # doctest: +SKIP
    >>> orders.get("A-1042")["status"]                           # doctest: +SKIP
    'shipped'

    Only an empty cell is missing: ``NULL``, ``N/A``, ``None``, ``NA`` and ``nan`` stay text
    (pass ``keep_default_na=True`` for pandas' NA parsing). Text starting with ``=`` ``+`` ``-``
    ``@`` tab or CR is written with a leading ``'`` so spreadsheets do not run it as a formula
    (phone numbers and negative numbers excepted; reading strips the quote again);
    ``guard_formulas=False`` writes text as given.

    Extra keywords go to ``pandas.read_csv``. The delimiter (``,`` ``;`` tab ``|``), the encoding
    (UTF-8 with or without BOM) and a decimal comma in ``;`` files are detected. Edits of the
    file are picked up on the next request; writes (``append``, ``update``, ``delete``) are
    atomic and keep the file's format.
    """

    def __new__(cls, path: str | os.PathLike[str], key: str | None = None, *, table: str | None = None,
                **options: Any) -> Table:
        """A CSV table, or a database table for a URL (or for any path when ``tables_url`` is set)."""
        if cls is Table and (is_url(os.fspath(path)) or tables_url()):
            from .sql import SqlTable

            return object.__new__(SqlTable)
        return object.__new__(cls)

    def __init__(self, path: str | os.PathLike[str], key: str | None = None, *, table: str | None = None,
                 guard_formulas: bool = True, url: str | None = None, **read_csv_options: Any) -> None:
        if table is not None and re.match(r"^[A-Za-z][A-Za-z0-9+]*:", os.fspath(path)):
            raise TableDatabaseError(f"{os.fspath(path).split('@')[-1]!r} is not a database URL.",
                                     hint="Write it like sqlite:///data/shop.db or "
                                          "postgresql://user:password@host:5432/dbname.")
        if table is not None:
            raise TableError(f"table={table!r} names a table in a database, but {os.fspath(path)!r} is a "
                             "CSV file.", hint="Pass a database URL (sqlite:///data/shop.db, "
                                               "postgresql://...) with table=..., or leave table= out.")
        for option in NOT_SUPPORTED:
            if option in read_csv_options:
                raise TableError(f"Table loads the whole file, so read_csv's {option!r} cannot be used.",
                                 hint=f"Drop {option}=...; filter the frame after loading instead.")
        self.path = Path(path).expanduser().absolute()
        self.name = self.path.stem
        self.key = key
        self.options = dict(read_csv_options)
        self.guard_formulas = guard_formulas
        self.error: str | None = None
        self._file = str(self.path)
        self._shared = shared_for(self.path)
        self._reload_lock = threading.Lock()
        self._checked_in: Trace | None = None
        self._checked_at = time.monotonic()
        self._failed: Signature | None = None
        self._sandboxed = False  # True for the copy a replay writes to
        self._state = load(self._file, self.name, key, self.options, self._shared.generation,
                           guard_formulas=guard_formulas)

    # --- reading -------------------------------------------------------------------------------

    @property
    def df(self) -> pd.DataFrame:
        """The frame of the current version of the file (treat it as read-only)."""
        return self._read().df

    @property
    def version(self) -> str:
        """The version being served (``mtime:<ns>``), as recorded in the request log."""
        return self._read().version

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self._read().df.columns]

    def __len__(self) -> int:
        return len(self._read())

    def get(self, key: Any, default: Any = None) -> dict[str, Any] | Any:
        """The row with this key as a dict of plain values, or ``default``.

        Spaces around the key, ``a-1042`` vs ``A-1042`` and ``"12"`` vs ``12`` do not matter (an
        exact match wins). On a miss, :meth:`suggest` gives close keys ("did you mean A-1042?").
        """
        state = self._read()
        found = self._position(state, key)
        return default if found is None else state.row(found)

    def __getitem__(self, key: Any) -> dict[str, Any]:
        """The row with this key; a miss raises KeyNotFound naming close keys."""
        state = self._read()
        found = self._position(state, key)
        if found is None:
            raise self._not_found(state, key)
        return state.row(found)

    def __contains__(self, key: Any) -> bool:
        return self._position(self._read(), key) is not None

    def suggest(self, key: Any, n: int = 3) -> list[Any]:
        """Up to ``n`` keys close to ``key`` (typos, swapped characters, case), best first."""
        return lookup.suggest(self._index(self._read()), key, n)

    def find(self, **equals: Any) -> pd.DataFrame:
        """Rows where each column equals the value (text ignoring case; a list means any of)."""
        return query.find(self._read().df, equals, self.name)

    def search(self, text: str, columns: str | Iterable[str] | None = None) -> pd.DataFrame:
        """Rows where every word of ``text`` appears in ``columns`` (default: the text columns)."""
        return query.search(self._read().df, text, columns, self.name)

    def nearest(self, lat: Any, lon: Any, *, lat_col: str = "lat", lon_col: str = "lon",
                n: int = 1) -> pd.DataFrame:
        """The ``n`` rows closest to (lat, lon), nearest first, with a ``distance_km`` column."""
        return query.nearest(self._read().df, lat, lon, lat_col, lon_col, n, self.name)

    def _index(self, state: State) -> pd.Index:
        self._keyed(state)
        assert state.index is not None
        return state.index

    def _position(self, state: State, key: Any) -> int | None:
        self._keyed(state)
        return state.position(key)

    def _keyed(self, state: State) -> None:
        if state.base_index is None:
            raise TableError(f"{self.name} has no key column, so rows cannot be looked up by key.",
                             hint=f"Pass one: Table({self._shown()!r}, key=...) with one of "
                                  f"{quoted_list([str(c) for c in state.base.columns])}; or use find().")

    def _not_found(self, state: State, key: Any) -> KeyNotFound:
        close = lookup.suggest(self._index(state), key)
        guess = f" Did you mean {' or '.join(map(str, close))}?" if close else ""
        return KeyNotFound(f"No row of {self.name} has {self.key} {key!r}.{guess}",
                           hint=f"Use get() to receive None instead, and check the {self.key} asked for.",
                           suggestions=close)

    # --- following the file --------------------------------------------------------------------

    def _read(self) -> State:
        shadow = self._shadow()
        state = self._fresh() if shadow is None else shadow._fresh()
        note_table_read(self.name, state.version)
        if self.error is not None:
            note_table_error(self.name, self.error)
        return state

    def _fresh(self) -> State:
        """The current state, after looking at the file once per request (or per interval)."""
        state = self._state
        if state.generation == self._shared.generation:
            trace = current_trace()
            if trace is not None:
                if trace is self._checked_in:
                    return state
                self._checked_in = trace
            else:
                now = time.monotonic()
                if now - self._checked_at < CHECK_INTERVAL_S:
                    return state
                self._checked_at = now
        return self._check(state)

    def _check(self, state: State) -> State:
        try:
            sig = signature(os.stat(self._file))
        except OSError:
            self._fail(f"{self._file} was moved or deleted; serving the version loaded before.", None)
            return state
        if sig == state.signature:  # e.g. a bad edit undone by putting the old file back
            state.generation = self._shared.generation
            self.error = self._failed = None
            return state
        if sig == self._failed:
            return state
        return self._reload(sig)

    def _reload(self, sig: Signature | None, strict: bool = False) -> State:
        with self._reload_lock:
            current = self._state
            if sig is not None and current.signature == sig:
                return current
            try:
                new = load(self._file, self.name, self.key, self.options, self._shared.generation,
                                guard_formulas=self.guard_formulas)
            except TableError as exc:
                self._fail(f"Reload failed, still serving the last good version ({current.version}). "
                           f"{exc}", sig)
                if strict:
                    raise
                return current
            self._state, self.error, self._failed = new, None, None
            return new

    def _fail(self, message: str, sig: Signature | None) -> None:
        if message != self.error:
            logger.warning("Table %s: %s", self.name, message)
        self.error, self._failed = message, sig

    def reload(self) -> Table:
        """Read the file now. A bad file raises (and the last good version stays in use)."""
        self._reload(None, strict=True)
        return self

    # --- writing -------------------------------------------------------------------------------

    def append(self, row: Mapping[str, Any] | None = None, /, **fields: Any) -> dict[str, Any]:
        """Add a row at the end of the file. Returns the row as written.

        Only the new line is written (the rest of the file is not rewritten, nor re-read).
        Columns left out stay empty. Unknown columns, values of the wrong type and (for a keyed
        table) a missing or existing key raise TableError before anything is written.
        """
        values = {**(row or {}), **fields}
        shadow = self._shadow(writing=True)
        if shadow is not None:
            return self._kept_away(shadow.append(values), "append")
        return self._shared.append(self, values)

    def _prepare_append(self, values: dict[str, Any], taken: set[Any]) -> tuple[dict[str, Any], bytes]:
        """Check one new row against the current state; its record. Under the lock."""
        state = self._state
        header = state.header
        if not header:
            raise TableError(f"{self._file} has no header line, so there is nothing to add a row to.",
                             hint="Write the header line (the column names) first, then save.")
        checked = check_row(values, header, kinds(state.kinds(), header), self.name, state.fmt.decimal)
        full = {c: checked.get(c) for c in header}
        if self.key is not None:
            self._check_new_key(state, full.get(self.key), taken)
            taken.add(full[self.key])
        return full, record_bytes(full, header, state.fmt, self.guard_formulas)

    def _appended(self, rows: list[dict[str, Any]], before: Signature, after: Signature) -> None:
        """Take the rows just appended into memory (no re-read). Under the lock."""
        state = self._state
        if state.signature != before or not len(state.base) or self.options:
            return  # the next read reloads (cheap for a small file; read options may change types)
        back = readback_rows(rows, state.kinds())
        self._state = state.extended(back, after, self._shared.generation)

    def update(self, key: Any, /, **fields: Any) -> dict[str, Any]:
        """Change some cells of the row with this key (other cells keep their exact text).

        Returns the updated row.
        """
        if not fields:
            raise TableError(f"update({key!r}) on {self.name} got no column to change.",
                             hint="Pass the new values by column name, e.g. update(key, status='shipped').")
        shadow = self._shadow(writing=True)
        if shadow is not None:
            return self._kept_away(shadow.update(key, **fields), "update")
        with self._shared.lock:
            raw, sig = read_bytes(self._file)
            state, found = self._locate(raw, sig, key)
            file = records_of(raw, state.fmt, len(state), self.name, self.guard_formulas)
            checked = check_row(fields, file.header, kinds(state.kinds(), file.header), self.name,
                                state.fmt.decimal)
            if self.key is not None and self.key in checked:
                other = state.position(checked[self.key])
                if checked[self.key] is None or other not in (None, found):
                    self._check_new_key(state, checked[self.key])
            after = self._write(file.replaced(found, checked))
            if not self.options:
                cells = readback_rows([checked], state.kinds())[0]
                self._state = state.changed(found, cells, after, self._shared.generation)
            return {**state.row(found), **checked}

    def delete(self, key: Any) -> dict[str, Any]:
        """Remove the row with this key from the file. Returns the removed row."""
        shadow = self._shadow(writing=True)
        if shadow is not None:
            return self._kept_away(shadow.delete(key), "delete")
        with self._shared.lock:
            raw, sig = read_bytes(self._file)
            state, found = self._locate(raw, sig, key)
            file = records_of(raw, state.fmt, len(state), self.name, self.guard_formulas)
            after = self._write(file.removed(found))
            if not self.options:
                self._state = state.without(found, after, self._shared.generation)
            return state.row(found)

    def _current(self, raw: bytes, sig: Signature) -> State:
        """The state of exactly these bytes (loading them when the file changed). Under the lock."""
        if sig == self._state.signature:
            return self._state
        new = load(self._file, self.name, self.key, self.options, self._shared.generation, (raw, sig),
                   self.guard_formulas)
        self._state, self.error, self._failed = new, None, None
        return new

    def _locate(self, raw: bytes, sig: Signature, key: Any) -> tuple[State, int]:
        self._keyed(self._state)
        state = self._current(raw, sig)
        found = state.position(key)
        if found is None:
            raise self._not_found(state, key)
        return state, found

    def _check_new_key(self, state: State, value: Any, taken: AbstractSet[Any] = frozenset()) -> None:
        if value is None:
            raise TableError(f"A new row of {self.name} needs a {self.key} (the key column).",
                             hint=f"Pass {self.key}=... with a value no other row has.")
        if value in taken or state.position(value) is not None:
            raise TableError(f"{self.name} already has a row with {self.key} {value!r}.",
                             hint=f"Use update({value!r}, ...) to change that row, or pick a new {self.key}.")

    def _write(self, data: bytes) -> Signature:
        return self._shared.write(self._file, data)

    # --- replays: writes kept away from the real file --------------------------------------------

    def _shadow(self, writing: bool = False) -> Table | None:
        """Inside a replay sandbox: the table on the sandbox's copy of the file (made by the first
        write; until then reads come from the real file)."""
        box = current_sandbox()
        if box is None or self._sandboxed:
            return None
        if not writing and os.path.realpath(self._file) not in box.copies:
            return None
        return shadow_table(box, self)

    def _kept_away(self, row: dict[str, Any], what: str) -> dict[str, Any]:
        box = current_sandbox()
        if box is not None:
            key = f" {row.get(self.key)!r}" if self.key else ""
            box.writes.append(f"{self.name}: {what}{key} (written to a throwaway copy)")
        return row

    def copy_to(self, url: str, *, table: str | None = None, if_exists: str = "fail",
                progress: bool = True) -> Table:
        """Copy every row into table ``table`` (default: this table's name) of the database at
        ``url``, with a progress bar; returns the new database table.

        The key becomes the primary key. ``if_exists``: 'fail' (default), 'replace' or 'append'.
        """
        from .sqlconnect import engine_for, explain
        from .sqlcopy import copy_frame

        name = table or self.name
        try:
            copy_frame(self.df, engine_for(url), name, self.key, if_exists, progress)
        except TableError:
            raise
        except Exception as exc:
            raise explain(exc, url, f"copying {self.name} into table {name!r}") from None
        return Table(url, key=self.key, table=name)

    # --- display -------------------------------------------------------------------------------

    def _shown(self) -> str:
        try:
            return os.path.relpath(self.path)
        except ValueError:
            return str(self.path)

    def __repr__(self) -> str:
        state = self._read()
        key = f", key {self.key}" if self.key else ""
        stale = ", reload failed: see .error" if self.error else ""
        return f"<Table {self.name}: {len(state.df):,} rows{key}{stale}>"


def is_url(text: str) -> bool:
    """True for ``scheme://...`` (a database), False for a file path."""
    return "://" in text and not os.path.exists(text)


def tables_url() -> str:
    """The ``tables_url`` setting (env ``TOOLKIT_TABLES_URL``): where every table is served from."""
    return str(Settings()["tables_url"])


def open_csv(path: str | os.PathLike[str], key: str | None = None, **options: Any) -> Table:
    """A CSV table even when ``tables_url`` is set (to copy the file into the database)."""
    table = object.__new__(Table)
    table.__init__(path, key, **options)  # type: ignore[misc]
    return table


_shadows: dict[int, dict[str, Table]] = {}  # id(sandbox) -> copy path -> the table on the copy


def shadow_table(box: Sandbox, table: Table) -> Table:
    """The table on ``box``'s copy of ``table``'s file (one per sandbox and file)."""
    path = box.copy_of(table._file)
    if id(box) not in _shadows:
        _shadows[id(box)] = {}
        weakref.finalize(box, _shadows.pop, id(box), None)
    tables = _shadows[id(box)]
    if path not in tables:
        shadow = open_csv(path, table.key, guard_formulas=table.guard_formulas, **table.options)
        shadow.name, shadow._sandboxed = table.name, True
        tables[path] = shadow
    return tables[path]
