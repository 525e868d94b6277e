"""The database backend of :class:`~toolkit.data.Table`: a SQLite or PostgreSQL table.

``row`` asks the database (one indexed query; in a request, the first one also reads the table's
version counter); ``state`` is a frame of the whole table, re-read only when the version counter
moved. Writes check the row like a CSV table, then run in one transaction that also bumps the
counter: another connection sees the row and the new version together, or neither.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from ..errors import KeyNotFound, TableDatabaseError, TableError
from ..log import Sandbox
from .hints import key_taken, needs_key, unknown_column
from .lookup import clashing, resolve
from .sqlconnect import (
    GONE,
    Held,
    engine_for,
    ensure_version_row,
    explain,
    kind_of_column,
    missing_table,
    shown,
    sqlite_file,
    versions_table,
)
from .sqlcopy import create_from_csv
from .state import State
from .values import from_database, readback_rows, storable
from .write import check_row


class SqlBackend:
    """A database table as a table's storage (see :class:`~toolkit.data.backend.Backend`).

    ``source``: the CSV file the table is made from when the database lacks it (``tables_url``).

    >>> backend = SqlBackend("sqlite:///data/shop.db", "store_id", table="stores")   # doctest: +SKIP
    >>> backend.row([2], refresh=True)["city"]                                       # doctest: +SKIP
    'Antwerp'

    Raises TableError naming the fix when the table is missing (with the tables there are) or the
    database cannot be reached.
    """

    stale_note = ", database unreachable: see .error"
    kept_away = "rolled back"

    def __init__(self, url: str, key: str | None = None, *, table: str | None = None,
                 source: Path | None = None, guard_formulas: bool = True, **read_csv_options: Any) -> None:
        self.url = url
        self.name = table or (source.stem if source else "")
        if not self.name:
            raise TableError(f"Which table of {shown(self.url)}?",
                             hint=f"Pass its name: Table({shown(self.url)!r}, table='leads', key='lead_id').")
        self.path = source or Path(self.name)
        self.key, self.options, self.guard_formulas = key, dict(read_csv_options), guard_formulas
        self.error: str | None = None
        self.dry = False  # a replay's twin: every write is rolled back
        self._state: State | None = None
        self._version = -1
        self._frame_lock = threading.Lock()
        self.engine = engine_for(self.url)
        self.label = f" ({self.engine.dialect.name})"
        self._reads = (self.engine if self.engine.dialect.name == "sqlite"  # no BEGIN for a SELECT there
                       else self.engine.execution_options(isolation_level="AUTOCOMMIT"))  # no BEGIN/ROLLBACK
        self._versions = versions_table(sa.MetaData())
        self._held = Held(self._reads)
        self._file = sqlite_file(self.engine.url)
        self._identity: tuple[int, int] | None = None
        self._twin: SqlBackend | None = None
        try:
            self._open(source)
        except (sa_exc.SQLAlchemyError, OSError) as exc:
            raise explain(exc, self.url, f"opening table {self.name!r}") from None

    def _open(self, source: Path | None) -> None:
        inspector = sa.inspect(self.engine)
        if not inspector.has_table(self.name):
            if source is None:
                raise missing_table(self.url, self.name, inspector.get_table_names())
            create_from_csv(source, self.engine, self.name, self.key, self.options, self.guard_formulas)
        self._table = sa.Table(self.name, sa.MetaData(), autoload_with=self.engine)
        names = [c.name for c in self._table.columns]
        if self.key is not None and self.key not in names:
            raise unknown_column(self.key, names, self.name, what="key column")
        self._kinds = {c.name: kind_of_column(c) for c in self._table.columns}
        self._names = names
        if self.key is not None:
            by_key = sa.select(self._table).where(self._table.c[self.key] == sa.bindparam("k"))
            versioned = by_key.add_columns(self._version_query().scalar_subquery().label("toolkit_version"))
            self._queries = {False: by_key, True: versioned}
        ensure_version_row(self.engine, self._versions, self.name)
        self._version = self._read_version()
        self._identity = _identity(self._file)

    def _check_file(self) -> None:
        """A SQLite file deleted or replaced since it was opened raises: a write there would be
        acknowledged and lost (connections still hold the old file)."""
        if self._file is not None and _identity(self._file) != self._identity:
            gone = "was deleted" if not os.path.exists(self._file) else "was replaced by another file"
            raise TableDatabaseError(f"The SQLite file {self._file} of table {self.name} {gone} after "
                                     "the table was opened.", hint=GONE)

    # --- reading -------------------------------------------------------------------------------

    @property
    def version(self) -> str:
        return f"db:{self._version}"

    @property
    def key_kind(self) -> str:
        return self._kinds.get(self.key or "", "text")

    def behind(self) -> bool:
        return False  # every write bumps the counter, which the next look reads

    def refresh(self) -> None:
        try:
            self._check_file()
        except TableDatabaseError as exc:
            self.error = f"{exc} Serving what was read before."
            return
        try:
            self._version, self.error = self._read_version(), None
        except sa_exc.SQLAlchemyError as exc:
            self.error = f"{explain(exc, self.url, 'checking the version')} Serving what was read before."

    def columns(self) -> list[str]:
        return [c.name for c in self._table.columns]

    def count(self) -> int:
        return int(self._run(lambda c: c.execute(sa.select(sa.func.count()).select_from(self._table))
                             .scalar_one(), "counting rows"))

    def row(self, wanted: list[Any], refresh: bool) -> dict[str, Any] | None:
        if refresh and self._file is not None:
            try:
                self._check_file()
            except TableDatabaseError as exc:  # the last good version, flagged stale
                self.error, refresh = f"{exc} Serving what was read before.", False
        found: dict[str, Any] | None = self._run(lambda c: self._match(c, wanted, refresh),
                                                 "looking up a key")
        return found

    def folded(self, text: str) -> list[Any]:
        return list(self._run(lambda c: self._folded(c, text), "looking up a key"))

    def _folded(self, conn: Connection, text: str) -> list[Any]:
        column = self._table.c[self.key or ""]
        query = sa.select(column).where(sa.func.lower(column) == sa.func.lower(text)).limit(2)
        return list(conn.execute(query).scalars().all())

    def _match(self, conn: Connection, wanted: list[Any], due: bool) -> dict[str, Any] | None:
        """The row of the first of ``wanted`` that is stored; with ``due``, read the version too."""
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
        return {name: from_database(value) for name, value in zip(self._names, row, strict=False)}

    def state(self) -> State:
        version = self._version
        state = self._state
        if state is None or state.signature[0] != version:
            with self._frame_lock:
                state = self._state
                if state is None or state.signature[0] != version:
                    state = self._state = self._run(self._frame, "reading the table")
        return state

    def _frame(self, conn: Connection) -> State:
        version = conn.execute(self._version_query()).scalar_one()  # first: the data is at least this new
        df = pd.read_sql_query(sa.select(self._table), conn)
        for column, kind in self._kinds.items():
            if kind == "float":
                df[column] = pd.to_numeric(df[column], errors="coerce").astype("float64")
        index = pd.Index(df[self.key]) if self.key is not None else None
        return State(df, index, (int(version), 0, 0), 0, key=self.key)

    def _version_query(self) -> sa.Select[Any]:
        v = self._versions
        return sa.select(v.c.version).where(v.c.name == self.name)

    def _read_version(self) -> int:
        return int(self._held.run(lambda conn: conn.execute(self._version_query()).scalar_one()))

    def _run(self, work: Callable[[Connection], Any], what: str) -> Any:
        try:
            return self._held.run(work)
        except (sa_exc.SQLAlchemyError, OSError) as exc:
            error = explain(exc, self.url, what)
            self.error = str(error)
            raise error from None

    def reload(self) -> None:
        """Look at the table again now (its columns too). A failure raises."""
        if self._file is not None and _identity(self._file) != self._identity:  # a restored file:
            self.engine.dispose()  # no connection to the old one is used again
            self._held = Held(self._reads)
        try:
            self._open(None)
        except (sa_exc.SQLAlchemyError, OSError) as exc:
            raise explain(exc, self.url, f"reloading table {self.name!r}") from None
        self._state, self.error = None, None
        self.state()

    # --- writing -------------------------------------------------------------------------------

    def append(self, values: dict[str, Any]) -> dict[str, Any]:
        columns = self.columns()
        checked = storable(check_row(values, columns, self._kinds, self.name, "."), self.name)
        full = readback_rows([{c: checked.get(c) for c in columns}], self._kinds)[0]
        if self.key is not None and full[self.key] is None:
            raise needs_key(self.name, self.key)

        def work(conn: Connection) -> dict[str, Any]:
            if self.key is not None:
                self._check_free(conn, full[self.key])
            conn.execute(self._table.insert().values({k: v for k, v in full.items() if v is not None}))
            return full

        return self._transaction(work, "append")

    def update(self, key: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
        checked = storable(check_row(fields, self.columns(), self._kinds, self.name, "."), self.name)
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

        return self._transaction(work, "update")

    def delete(self, key: Any) -> dict[str, Any]:
        def work(conn: Connection) -> dict[str, Any]:
            old = self._existing(conn, key)
            assert self.key is not None
            conn.execute(self._table.delete().where(self._table.c[self.key] == old[self.key]))
            return old

        return self._transaction(work, "delete")

    def _find(self, conn: Connection, key: Any) -> dict[str, Any] | None:
        """The forgiving lookup (:func:`.lookup.resolve`) inside a transaction."""
        return resolve(self.key_kind, key, lambda wanted: self._match(conn, wanted, False),
                       lambda text: self._folded(conn, text))

    def _existing(self, conn: Connection, key: Any) -> dict[str, Any]:
        found = self._find(conn, key)
        if found is None:
            raise KeyNotFound(f"No row of {self.name} has {self.key} {key!r}.")  # the table adds hints
        return found

    def _bump(self, conn: Connection) -> int:
        v = self._versions
        conn.execute(v.update().where(v.c.name == self.name).values(version=v.c.version + 1))
        return int(conn.execute(self._version_query()).scalar_one())

    def _check_free(self, conn: Connection, value: Any) -> None:
        if conn.dialect.name == "postgresql":  # two writers of the same new key take turns
            spelled = f"toolkit:{self.name}:{str(value).strip().casefold()}"
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(spelled, 0))))
        if clashing(self.key_kind, value, lambda wanted: self._match(conn, wanted, False)) is not None:
            raise key_taken(self.name, self.key, value)

    def _transaction(self, work: Callable[[Connection], dict[str, Any]], what: str) -> dict[str, Any]:
        """Run ``work`` and the version bump in one transaction: the row and its version commit
        together or not at all. For a replay (``dry``) it is rolled back instead.

        SQLite (one writer at a time anyway) bumps the version counter first; PostgreSQL bumps it
        last, so writers queue on that row only while their commit is flushed (a new key is
        guarded by a lock on the key itself: :meth:`_check_free`).
        """
        first = self.engine.dialect.name != "postgresql"
        committing = False
        try:
            self._check_file()
            with self.engine.connect() as conn:
                with conn.begin() as tx:
                    version = self._bump(conn) if first else 0
                    result = work(conn)
                    self._check_file()  # deleted meanwhile: rolled back, not lost
                    if self.dry:
                        tx.rollback()
                        return result
                    if not first:
                        version = self._bump(conn)
                    committing = True
        except TableError:
            raise
        except sa_exc.DataError as exc:  # a value the database cannot store: the request's fault
            raise TableError(f"{self.name} cannot store a value of this {what}: "
                             f"{str(exc.orig).splitlines()[0]}. Nothing was written.",
                             hint="Change the value the message names (its type, size or characters).",
                             status=400) from None
        except sa_exc.IntegrityError as exc:
            raise TableError(f"{self.name} refused the {what}: {str(exc.orig).splitlines()[0]}. "
                             "Nothing was written.",
                             hint="Another row probably has this key or a unique value already.") from None
        except (sa_exc.SQLAlchemyError, OSError) as exc:
            error = explain(exc, self.url, f"{what} on {self.name}")
            if not committing:
                error.message = (error.message.rstrip(". ")
                                 + ". Nothing was written (the transaction was rolled back).")
                error.args = (error.message,)
            raise error from None
        self._version = version
        return result

    # --- replays -------------------------------------------------------------------------------

    def for_replay(self, box: Sandbox, writing: bool) -> SqlBackend:
        """Reads as usual; writes through a twin (sharing the connection) that rolls them back."""
        if not writing or self.dry:
            return self
        if self._twin is None:
            twin = copy.copy(self)
            twin.dry, twin._twin = True, None
            self._twin = twin
        return self._twin


def _identity(path: str | None) -> tuple[int, int] | None:
    """Which file ``path`` is (device, inode), or None when there is none."""
    try:
        stat = os.stat(path) if path is not None else None
    except OSError:
        return None
    return None if stat is None else (stat.st_dev, stat.st_ino)
