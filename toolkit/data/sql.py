"""``Table`` over a database table (SQLite or PostgreSQL), with the API of a CSV table.

``get`` asks the database (one indexed query, forgiving about the key as a CSV table is);
``df``, ``find``, ``search``, ``nearest`` and ``suggest`` work on a frame of the whole table,
re-read only when the table's version counter moved. Writes check the row like a CSV table, then
run in one transaction that first bumps the counter (which also makes writers of one table take
turns, across processes and machines).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from ..errors import KeyNotFound, TableError
from ..log import current_sandbox, current_trace, note_table_error, note_table_read
from . import lookup
from .errors import did_you_mean, unknown_column
from .sqlconnect import engine_for, ensure_version_row, explain, kind_of_column, shown, versions_table
from .sqlcopy import create_from_csv
from .state import State
from .table import CHECK_INTERVAL_S, Table, is_url, tables_url
from .values import readback_rows, to_python
from .write import check_row


class SqlTable(Table):
    """A database table with the API of :class:`Table`; made by ``Table("sqlite:///…", table=…)``."""

    def __init__(self, path: str | os.PathLike[str], key: str | None = None, *, table: str | None = None,
                 guard_formulas: bool = True, url: str | None = None, **read_csv_options: Any) -> None:
        text = os.fspath(path)
        if url is None and not is_url(text):
            url = tables_url()  # Table("data/leads.csv") served from the tables_url database
        source = None if url is None else Path(text).expanduser().absolute()
        self.url = url or text
        self.name = table or (source.stem if source else "")
        if not self.name:
            raise TableError(f"Which table of {shown(self.url)}?",
                             hint=f"Pass its name: Table({shown(self.url)!r}, table='leads', key='lead_id').")
        self.path = source or Path(self.name)
        self.key, self.options, self.guard_formulas = key, dict(read_csv_options), guard_formulas
        self.error: str | None = None
        self._sandboxed = False
        self._state: State | None = None  # type: ignore[assignment]
        self._version, self._checked_in, self._checked_at = -1, None, time.monotonic()
        self._frame_lock = threading.Lock()
        self._engine = engine_for(self.url)
        self._reads = (self._engine if self._engine.dialect.name == "sqlite"  # no BEGIN for a SELECT there
                       else self._engine.execution_options(isolation_level="AUTOCOMMIT"))  # no BEGIN/ROLLBACK
        self._versions = versions_table(sa.MetaData())
        self._held: dict[tuple[int, int], Connection] = {}
        weakref.finalize(self, _give_back, self._held)
        try:
            self._open(source)
        except (sa_exc.SQLAlchemyError, OSError) as exc:
            raise explain(exc, self.url, f"opening table {self.name!r}") from None

    def _open(self, source: Path | None) -> None:
        inspector = sa.inspect(self._engine)
        if not inspector.has_table(self.name):
            if source is None:
                raise self._missing_table(inspector.get_table_names())
            create_from_csv(source, self._engine, self.name, self.key, self.options, self.guard_formulas)
        self._table = sa.Table(self.name, sa.MetaData(), autoload_with=self._engine)
        names = [c.name for c in self._table.columns]
        if self.key is not None and self.key not in names:
            raise unknown_column(self.key, names, self.name, what="key column")
        self._kinds = {c.name: kind_of_column(c) for c in self._table.columns}
        self._names = names
        if self.key is not None:
            by_key = sa.select(self._table).where(self._table.c[self.key] == sa.bindparam("k"))
            versioned = by_key.add_columns(self._version_query().scalar_subquery().label("toolkit_version"))
            self._queries = {False: by_key, True: versioned}
        ensure_version_row(self._engine, self._versions, self.name)
        self._version = self._read_version()

    def _missing_table(self, tables: list[str]) -> TableError:
        mine = [t for t in tables if t != self._versions.name]
        listed = f" Its tables: {', '.join(mine)}." if mine else " It has no tables yet."
        return TableError(
            f"{shown(self.url)} has no table {self.name!r}.{did_you_mean(self.name, mine)}{listed}",
            hint=f"Copy a CSV into it first: Table('data/{self.name}.csv', key=...).copy_to(url, "
                 f"table={self.name!r}) or python -m toolkit copy-table data/{self.name}.csv URL; or pass "
                 "the name of an existing table.")

    # --- reading -------------------------------------------------------------------------------

    @property
    def version(self) -> str:
        """The version being served (``db:<counter>``), as recorded in the request log."""
        return f"db:{self._fresh_version()}"

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self._table.columns]

    def __len__(self) -> int:
        self._noted()
        return int(self._run(lambda c: c.execute(sa.select(sa.func.count()).select_from(self._table))
                             .scalar_one(), "counting rows"))

    def get(self, key: Any, default: Any = None) -> dict[str, Any] | Any:
        """The row with this key as a dict of plain values, or ``default`` (one query)."""
        found = self._lookup(key)
        return default if found is None else found

    def __getitem__(self, key: Any) -> dict[str, Any]:
        found = self._lookup(key)
        if found is None:
            raise self._not_found(self._read(), key)
        return found

    def __contains__(self, key: Any) -> bool:
        return self._lookup(key) is not None

    def _lookup(self, key: Any, conn: Connection | None = None) -> dict[str, Any] | None:
        """The row of ``key`` (forgiving), in one query when the key is written as stored; in a
        request, the first lookup also reads the version counter, in the same query."""
        if self.key is None:
            self._keyed(self._read())
        wanted = self._candidates(key)
        if conn is not None:
            return self._match(conn, wanted, due=False)
        due = self._due()
        try:
            found = self._run(lambda c: self._match(c, wanted, due), "looking up a key")
        except TableError:
            if due:
                self._checked_in = None
            raise
        self._noted(self._version)
        return found

    def _match(self, conn: Connection, wanted: list[Any], due: bool) -> dict[str, Any] | None:
        row: Any = None
        if wanted:
            row = conn.execute(self._queries[due], {"k": wanted[0]}).first()
        version = row[-1] if row is not None and due else None
        if row is None and len(wanted) > 1:
            column = self._table.c[self.key or ""]
            rows = {r[column.name]: r for r in conn.execute(sa.select(self._table).where(
                column.in_(wanted[1:]))).mappings().all()}
            row = next((tuple(rows[c].values()) for c in wanted[1:] if c in rows), None)
        if due:
            self._version = int(version if version is not None else
                                conn.execute(self._version_query()).scalar_one())
            self.error = None
        if row is None:
            return None
        return {name: _plain(value) for name, value in zip(self._names, row, strict=False)}

    def _candidates(self, key: Any) -> list[Any]:
        kind = self._kinds[self.key or ""]
        out: list[Any] = []
        for c in lookup.spellings(kind, key):
            c = to_python(c)
            if kind == "text" and c is not None and not isinstance(c, str):
                c = str(c)
            elif kind in ("int", "float") and (isinstance(c, str) or isinstance(c, bool)):
                continue
            elif kind == "int" and isinstance(c, float):
                if not c.is_integer():
                    continue
                c = int(c)
            if c is not None and c not in out:
                out.append(c)
        return out

    def _read(self) -> State:
        version = self._fresh_version()
        state = self._state
        if state is None or state.signature[0] != version:
            with self._frame_lock:
                state = self._state
                if state is None or state.signature[0] != version:
                    state = self._state = self._run(self._frame, "reading the table")
        self._noted(state.signature[0])
        return state

    def _frame(self, conn: Connection) -> State:
        version = conn.execute(self._version_query()).scalar_one()  # first: the data is at least this new
        df = pd.read_sql_query(sa.select(self._table), conn)
        for column, kind in self._kinds.items():
            if kind == "float":
                df[column] = pd.to_numeric(df[column], errors="coerce").astype("float64")
        index = pd.Index(df[self.key]) if self.key is not None else None
        return State(df, index, (int(version), 0, 0), 0, key=self.key)

    def _noted(self, version: int | None = None) -> None:
        note_table_read(self.name, f"db:{self._fresh_version() if version is None else version}")
        if self.error is not None:
            note_table_error(self.name, self.error)

    def _fresh_version(self) -> int:
        """The table's version counter, asked at most once per request (outside: per interval)."""
        if self._due():
            try:
                self._version, self.error = self._read_version(), None
            except sa_exc.SQLAlchemyError as exc:
                self.error = f"{explain(exc, self.url, 'checking the version')} Serving what was read before."
        return self._version

    def _due(self) -> bool:
        """True when the version should be asked now (first look in this request, or interval)."""
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

    def _version_query(self) -> sa.Select[Any]:
        v = self._versions
        return sa.select(v.c.version).where(v.c.name == self.name)

    def _read_version(self) -> int:
        return int(self._reading(lambda conn: conn.execute(self._version_query()).scalar_one()))

    def _reading(self, work: Callable[[Connection], Any]) -> Any:
        """Run a read on this thread's own connection (kept open: no pool checkout per lookup).

        Keyed by process and thread; a connection of another process (before a fork) is never
        touched again. A failure closes it, so the next read connects afresh.
        """
        here = (os.getpid(), threading.get_ident())
        conn = self._held.get(here)
        if conn is None:
            conn = self._held[here] = self._reads.connect()
        try:
            result = work(conn)
            if conn.in_transaction():  # SQLite: end the (empty) transaction SQLAlchemy began
                conn.rollback()
            return result
        except BaseException:
            self._held.pop(here, None)
            try:
                conn.invalidate()
            except Exception:
                pass
            raise

    def _run(self, work: Callable[[Connection], Any], what: str) -> Any:
        try:
            return self._reading(work)
        except (sa_exc.SQLAlchemyError, OSError) as exc:
            error = explain(exc, self.url, what)
            self.error = str(error)
            raise error from None

    def reload(self) -> SqlTable:
        """Look at the table again now (its columns too). A failure raises."""
        try:
            self._open(None)
        except (sa_exc.SQLAlchemyError, OSError) as exc:
            raise explain(exc, self.url, f"reloading table {self.name!r}") from None
        self._state, self.error = None, None
        self._read()
        return self

    # --- writing -------------------------------------------------------------------------------

    def append(self, row: Mapping[str, Any] | None = None, /, **fields: Any) -> dict[str, Any]:
        """Insert a row (checked like a CSV row first). Returns the row as stored."""
        checked = check_row({**(row or {}), **fields}, self.columns, self._kinds, self.name, ".")
        full = readback_rows([{c: checked.get(c) for c in self.columns}], self._kinds)[0]
        if self.key is not None and full[self.key] is None:
            raise TableError(f"A new row of {self.name} needs a {self.key} (the key column).",
                             hint=f"Pass {self.key}=... with a value no other row has.")

        def work(conn: Connection) -> dict[str, Any]:
            if self.key is not None:
                self._check_free(conn, full[self.key])
            conn.execute(self._table.insert().values({k: v for k, v in full.items() if v is not None}))
            return full

        return self._transaction(work, "append", full.get(self.key or ""))

    def update(self, key: Any, /, **fields: Any) -> dict[str, Any]:
        """Change some cells of the row with this key. Returns the updated row."""
        if not fields:
            raise TableError(f"update({key!r}) on {self.name} got no column to change.",
                             hint="Pass the new values by column name, e.g. update(key, status='shipped').")
        checked = check_row(fields, self.columns, self._kinds, self.name, ".")
        cells = readback_rows([checked], self._kinds)[0]

        def work(conn: Connection) -> dict[str, Any]:
            old = self._existing(conn, key)
            assert self.key is not None
            if self.key in cells and cells[self.key] != old[self.key]:
                if cells[self.key] is None:
                    raise TableError(f"The {self.key} of a row of {self.name} cannot be emptied.",
                                     hint=f"Pass a new {self.key}, or leave it out to keep it.")
                self._check_free(conn, cells[self.key])
            conn.execute(self._table.update().where(self._table.c[self.key] == old[self.key]).values(cells))
            return {**old, **cells}

        return self._transaction(work, "update", key)

    def delete(self, key: Any) -> dict[str, Any]:
        """Remove the row with this key. Returns the removed row."""

        def work(conn: Connection) -> dict[str, Any]:
            old = self._existing(conn, key)
            assert self.key is not None
            conn.execute(self._table.delete().where(self._table.c[self.key] == old[self.key]))
            return old

        return self._transaction(work, "delete", key)

    def _existing(self, conn: Connection, key: Any) -> dict[str, Any]:
        found = self._lookup(key, conn)
        if found is None:
            raise KeyNotFound(f"No row of {self.name} has {self.key} {key!r}.")  # suggestions: below
        return found

    def _bump(self, conn: Connection) -> int:
        v = self._versions
        conn.execute(v.update().where(v.c.name == self.name).values(version=v.c.version + 1))
        return int(conn.execute(self._version_query()).scalar_one())

    def _check_free(self, conn: Connection, value: Any) -> None:
        if conn.dialect.name == "postgresql":  # two writers of the same new key take turns
            spelled = f"toolkit:{self.name}:{str(value).strip().casefold()}"
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(spelled, 0))))
        if self._lookup(value, conn) is not None:
            raise TableError(f"{self.name} already has a row with {self.key} {value!r}.",
                             hint=f"Use update({value!r}, ...) to change that row, or pick a new {self.key}.")

    def _transaction(self, work: Callable[[Connection], dict[str, Any]], what: str,
                     key: Any) -> dict[str, Any]:
        """Run ``work`` in one transaction; inside a replay sandbox it is rolled back instead.

        SQLite (one writer at a time anyway) bumps the version counter first, in the transaction.
        PostgreSQL bumps it right after the commit, in a short transaction of its own, so writers
        never queue on that row while their commit is flushed; a new key is guarded by a lock on
        the key itself (:meth:`_check_free`).
        """
        if self.key is None and what != "append":
            self._keyed(self._read())
        box = current_sandbox()
        first = self._engine.dialect.name != "postgresql"
        try:
            with self._engine.connect() as conn:
                with conn.begin() as tx:
                    version = self._bump(conn) if first else 0
                    result = work(conn)
                    if box is not None:
                        tx.rollback()
                        box.writes.append(f"{self.name}: {what} {key!r} (rolled back)")
                        return result
            if not first:
                with self._engine.connect() as conn, conn.begin():
                    conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")  # a counter, not data
                    version = self._bump(conn)
        except KeyNotFound:
            raise self._not_found(self._read(), key) from None
        except TableError:
            raise
        except sa_exc.IntegrityError as exc:
            raise TableError(f"{self.name} refused the {what}: {str(exc.orig).splitlines()[0]}",
                             hint="Another row probably has this key or a unique value already.") from None
        except (sa_exc.SQLAlchemyError, OSError) as exc:
            raise explain(exc, self.url, f"{what} on {self.name}") from None
        self._version = version
        return result

    # --- display -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        key = f", key {self.key}" if self.key else ""
        stale = ", database unreachable: see .error" if self.error else ""
        kind = self._engine.dialect.name
        return f"<Table {self.name} ({kind}): {len(self):,} rows{key}{stale}>"


def _give_back(held: dict[tuple[int, int], Connection]) -> None:
    """Close this process's held connections (when their table is collected): closed outright, not
    returned to a pool that may be gone by then."""
    for (pid, _thread), conn in list(held.items()):
        if pid == os.getpid():
            try:
                conn.invalidate()
                conn.close()
            except Exception:
                pass
    held.clear()


def _plain(value: Any) -> Any:
    value = to_python(value)
    if type(value).__name__ == "Decimal":
        return float(value)
    return value
