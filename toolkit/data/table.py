"""``toolkit.Table``: one class for every source. A CSV file or a database table as a pandas
frame that handlers query, that follows edits of the source, and that writes rows back safely.

The table is a facade over a :class:`~toolkit.data.backend.Backend` chosen by the source
(:class:`~toolkit.data.csvbackend.CsvBackend` or :class:`~toolkit.data.sqlbackend.SqlBackend`).
What is the same for both lives here, once: the forgiving lookup and "did you mean" errors, when to
look at the source (once per request, or every ``CHECK_INTERVAL_S`` outside one), the ``stale:``
flag of the request log, and replays (writes kept away from the real data).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import Settings
from ..errors import KeyNotFound, TableError
from ..log import Trace, current_sandbox, current_trace, note_table_error, note_table_read
from . import lookup, query
from .backend import Backend
from .csvbackend import CsvBackend
from .hints import quoted_list
from .state import State

CHECK_INTERVAL_S = 0.5  # outside a request, how often the source is looked at


class Table:
    """A CSV file loaded with pandas, or a database table: ``.df`` is the frame, ``.get(key)`` a row
    as a dict.

    >>> orders = Table("data/orders.csv", key="order_id")        # doctest: +SKIP
    >>> orders.get("A-1042")["status"]                           # doctest: +SKIP
    'shipped'
    >>> stores = Table("sqlite:///data/shop.db", table="stores", key="store_id")   # doctest: +SKIP

    A URL (or any path when the ``tables_url`` setting is set) is a database table with the same
    API. Only an empty cell is missing: ``NULL``, ``N/A``, ``None``, ``NA`` and ``nan`` stay text
    (pass ``keep_default_na=True`` for pandas' NA parsing). Text starting with ``=`` ``+`` ``-``
    ``@`` tab or CR is written with a leading ``'`` so spreadsheets do not run it as a formula
    (phone numbers and negative numbers excepted; reading strips the quote again);
    ``guard_formulas=False`` writes text as given.

    Extra keywords go to ``pandas.read_csv``. The delimiter (``,`` ``;`` tab ``|``), the encoding
    (UTF-8 with or without BOM) and a decimal comma in ``;`` files are detected. Edits of the
    file are picked up on the next request; writes (``append``, ``update``, ``delete``) are
    atomic and keep the file's format.

    Raises TableError (TableFileNotFound, TableDatabaseError) naming the fix when the source
    cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str], key: str | None = None, *, table: str | None = None,
                 guard_formulas: bool = True, url: str | None = None, **read_csv_options: Any) -> None:
        text = os.fspath(path)
        if is_url(text) or tables_url():
            from .sqlbackend import SqlBackend

            source = None if is_url(text) else Path(text).expanduser().absolute()
            self._attach(SqlBackend(text if source is None else url or tables_url(), key, table=table,
                                    source=source, guard_formulas=guard_formulas, **read_csv_options))
        else:
            self._attach(CsvBackend(path, key, table=table, guard_formulas=guard_formulas,
                                    **read_csv_options))

    def _attach(self, backend: Backend) -> None:
        self._backend = backend
        self._checked_in: Trace | None = None
        self._checked_at = time.monotonic()

    name = property(lambda self: self._backend.name, doc="The table's name (the file name without .csv).")
    key = property(lambda self: self._backend.key, doc="The key column, or None.")
    path = property(lambda self: self._backend.path, doc="The CSV file (absolute).")
    options = property(lambda self: self._backend.options, doc="The read_csv keywords.")
    guard_formulas = property(lambda self: self._backend.guard_formulas)
    error = property(lambda self: self._backend.error,
                     doc="Why the last good version is served (a failed reload), or None.")

    # --- reading -------------------------------------------------------------------------------

    @property
    def df(self) -> pd.DataFrame:
        """The frame of the current version (treat it as read-only)."""
        return self._read().df

    @property
    def version(self) -> str:
        """The version being served (``mtime:<ns>``, ``db:<counter>``), as the request log records it."""
        target = self._looked_at(self._target())
        self._noted(target)
        return target.version

    @property
    def columns(self) -> list[str]:
        return self._looked_at(self._target()).columns()

    def __len__(self) -> int:
        target = self._looked_at(self._target())
        count = target.count()
        self._noted(target)
        return count

    def get(self, key: Any, default: Any = None) -> dict[str, Any] | Any:
        """The row with this key as a dict of plain values, or ``default``.

        Spaces around the key, letter case (``latte`` finds ``Latte`` when no other key differs
        only in case) and ``"12"`` vs ``12`` do not matter; an exact match wins. On a miss,
        :meth:`suggest` gives close keys ("did you mean A-1042?").
        """
        found = self._find(key)
        return default if found is None else found

    def __getitem__(self, key: Any) -> dict[str, Any]:
        """The row with this key; a miss raises KeyNotFound naming close keys."""
        found = self._find(key)
        if found is None:
            raise self._not_found(key)
        return found

    def __contains__(self, key: Any) -> bool:
        return self._find(key) is not None

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

    def _find(self, key: Any) -> dict[str, Any] | None:
        """The row of ``key`` by the forgiving lookup; the first lookup of a request looks at the
        source in the same step (one query for a database)."""
        self._keyed()
        target = self._target()
        due = [self._due(target)]

        def exact(wanted: list[Any]) -> dict[str, Any] | None:
            refresh, due[0] = due[0], False
            return target.row(wanted, refresh)

        try:
            found = lookup.resolve(target.key_kind, key, exact, target.folded)
        except TableError:
            if due[0]:
                self._checked_in = None  # the look did not happen: the next read looks again
            raise
        self._noted(target)
        return found

    def _index(self, state: State) -> pd.Index:
        self._keyed()
        assert state.index is not None
        return state.index

    def _keyed(self) -> None:
        if self.key is None:
            raise TableError(f"{self.name} has no key column, so rows cannot be looked up by key.",
                             hint=f"Pass one: Table({self._shown()!r}, key=...) with one of "
                                  f"{quoted_list(self._backend.columns())}; or use find().")

    def _not_found(self, key: Any) -> KeyNotFound:
        close = lookup.suggest(self._index(self._target().state()), key)
        guess = f" Did you mean {' or '.join(map(str, close))}?" if close else ""
        return KeyNotFound(f"No row of {self.name} has {self.key} {key!r}.{guess}",
                           hint=f"Use get() to receive None instead, and check the {self.key} asked for.",
                           suggestions=close)

    # --- following the source ------------------------------------------------------------------

    def _read(self) -> State:
        target = self._looked_at(self._target())
        state = target.state()
        self._noted(target)
        return state

    def _looked_at(self, target: Backend) -> Backend:
        if self._due(target):
            target.refresh()
        return target

    def _due(self, target: Backend) -> bool:
        """Whether to look at the source now: once per request (outside one: per interval), and at
        once after a write through another table object on the same file."""
        if target.behind():
            return True
        trace = current_trace()
        if trace is not None:
            if trace is self._checked_in:
                return False
            self._checked_in = trace
            return True
        now = time.monotonic()
        if now - self._checked_at < CHECK_INTERVAL_S:
            return False
        self._checked_at = now
        return True

    def _noted(self, target: Backend) -> None:
        """Record in the request log the version read, and ``stale:<name>`` if it is an old one."""
        note_table_read(self.name, target.version)
        if self.error is not None:
            note_table_error(self.name, self.error)

    def reload(self) -> Table:
        """Read the source now. A failure raises (and the last good version stays in use)."""
        self._backend.reload()
        return self

    # --- writing -------------------------------------------------------------------------------

    def append(self, row: Mapping[str, Any] | None = None, /, **fields: Any) -> dict[str, Any]:
        """Add a row at the end. Returns the row as written.

        Only the new line is written (the rest of the file is not rewritten, nor re-read).
        Columns left out stay empty. Unknown columns, values of the wrong type and (for a keyed
        table) a missing or existing key raise TableError before anything is written.
        """
        values = {**(row or {}), **fields}
        return self._write("append", None, lambda target: target.append(values))

    def update(self, key: Any, /, **fields: Any) -> dict[str, Any]:
        """Change some cells of the row with this key (other cells keep their exact text).

        Returns the updated row.
        """
        if not fields:
            raise TableError(f"update({key!r}) on {self.name} got no column to change.",
                             hint="Pass the new values by column name, e.g. update(key, status='shipped').")
        return self._write("update", key, lambda target: target.update(key, fields))

    def delete(self, key: Any) -> dict[str, Any]:
        """Remove the row with this key. Returns the removed row."""
        return self._write("delete", key, lambda target: target.delete(key))

    def _write(self, what: str, key: Any, write: Callable[[Backend], dict[str, Any]]) -> dict[str, Any]:
        """Run a write on the backend, or in a replay on the one that keeps it away (and say so)."""
        if what != "append":
            self._keyed()
        box = current_sandbox()
        target = self._backend if box is None else self._backend.for_replay(box, writing=True)
        try:
            row = write(target)
        except KeyNotFound:
            raise self._not_found(key) from None
        if box is not None:
            shown = f" {row.get(self.key)!r}" if self.key else ""
            box.writes.append(f"{self.name}: {what}{shown} ({target.kept_away})")
        return row

    def _target(self) -> Backend:
        """The backend reads go to: in a replay that wrote, its throwaway copy."""
        box = current_sandbox()
        return self._backend if box is None else self._backend.for_replay(box, writing=False)

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
            return str(os.path.relpath(self.path))
        except ValueError:
            return str(self.path)

    def __repr__(self) -> str:
        """Never raises: while the source cannot be read, the rows are ``?`` and ``.error`` says why."""
        try:
            rows = f"{len(self):,}"
        except Exception:  # a database down: the repr still shows (the error is in .error)
            rows = "?"
        key = f", key {self.key}" if self.key else ""
        stale = self._backend.stale_note if self.error else ""
        return f"<Table {self.name}{self._backend.label}: {rows} rows{key}{stale}>"


def is_url(text: str) -> bool:
    """True for ``scheme://...`` (a database), False for a file path."""
    return "://" in text and not os.path.exists(text)


def tables_url() -> str:
    """The ``tables_url`` setting (env ``TOOLKIT_TABLES_URL``): where every table is served from."""
    return str(Settings()["tables_url"])


def open_csv(path: str | os.PathLike[str], key: str | None = None, **options: Any) -> Table:
    """A CSV table even when ``tables_url`` is set (to copy the file into the database).

    >>> open_csv("data/leads.csv", "lead_id").copy_to("sqlite:///data/shop.db")   # doctest: +SKIP
    """
    table = Table.__new__(Table)
    table._attach(CsvBackend(path, key, **options))
    return table
