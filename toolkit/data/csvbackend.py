"""The CSV backend of :class:`~toolkit.data.Table`: one CSV file, loaded with pandas, followed when
it is edited, and written back in its own format (see :mod:`.commit` for the lock and appends).

It implements :class:`~toolkit.data.backend.Backend` for the table, plus the small public
interface the group commit uses (:class:`~toolkit.data.commit.Appender`): ``file``, ``signature``,
``fmt``, :meth:`current`, :meth:`prepare_append` and :meth:`appended`.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from ..errors import KeyNotFound, TableDatabaseError, TableError
from ..log import Sandbox, logger
from ..log.masking import masked_url
from .commit import shared_for
from .csvformat import Format
from .csvload import load, read_bytes, signature
from .hints import key_taken, needs_key
from .state import Signature, State
from .values import readback_rows
from .write import check_row, kinds, record_bytes, records_of

NOT_SUPPORTED = ("chunksize", "iterator")


class CsvBackend:
    """A CSV file as a table's storage (see :class:`~toolkit.data.backend.Backend`).

    >>> backend = CsvBackend("data/orders.csv", "order_id")      # doctest: +SKIP
    >>> backend.row(["A-1042"], refresh=True)["status"]         # doctest: +SKIP
    'shipped'

    Raises TableError (TableFileNotFound, ...) when the file cannot be loaded, naming the fix.
    """

    label = ""
    stale_note = ", reload failed: see .error"
    kept_away = "written to a throwaway copy"

    def __init__(self, path: str | os.PathLike[str], key: str | None = None, *, table: str | None = None,
                 guard_formulas: bool = True, **read_csv_options: Any) -> None:
        if table is not None and re.match(r"^[A-Za-z][A-Za-z0-9+]*:", os.fspath(path)):
            raise TableDatabaseError(f"{masked_url(os.fspath(path)).split('@')[-1]!r} is not a database URL.",
                                     hint="Write it like sqlite:///data/shop.db or "
                                          "postgresql://user:password@host:5432/dbname.")
        if table is not None:
            raise TableError(f"table={table!r} names a table in a database, but "
                             f"{masked_url(os.fspath(path))!r} is a CSV file.",
                             hint="Pass a database URL (sqlite:///data/shop.db, "
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
        self.file = str(self.path)
        self.shared = shared_for(self.path)
        self._reload_lock = threading.Lock()
        self._failed: Signature | None = None
        self._copy = False  # True for the copy a replay writes to
        self._state = self._load()

    def _load(self, source: tuple[bytes, Signature] | None = None) -> State:
        """Load the file (or ``source``); read under the write lock if writes land during every
        lock-free read."""
        return load(self.file, self.name, self.key, self.options, self.shared.generation, source,
                    self.guard_formulas, self.shared.lock)

    # --- reading -------------------------------------------------------------------------------

    @property
    def version(self) -> str:
        return self._state.version

    @property
    def signature(self) -> Signature:
        """The signature (mtime, size, inode) of the bytes the state in memory was read from."""
        return self._state.signature

    @property
    def fmt(self) -> Format:
        return self._state.fmt

    @property
    def key_kind(self) -> str:
        state = self._state
        return "text" if state.base_index is None else state.key_kind()

    def behind(self) -> bool:
        return self._state.generation != self.shared.generation

    def state(self) -> State:
        return self._state

    def count(self) -> int:
        return len(self._state)

    def columns(self) -> list[str]:
        return [str(c) for c in self._state.df.columns]

    def row(self, wanted: list[Any], refresh: bool) -> dict[str, Any] | None:
        if refresh:
            self.refresh()
        state = self._state
        found = state.first(wanted)
        return None if found is None else state.row(found)

    def folded(self, text: str) -> list[Any]:
        return self._state.folded(text)

    def refresh(self) -> None:
        """Look at the file (one ``os.stat``) and reload it when it changed."""
        state = self._state
        try:
            sig = signature(os.stat(self.file))
        except OSError:
            self._fail(f"{self.file} was moved or deleted; serving the version loaded before.", None)
            return
        if sig == state.signature:  # e.g. a bad edit undone by putting the old file back
            state.generation = self.shared.generation
            self.error = self._failed = None
            return
        if sig != self._failed:
            self._reload(sig)

    def _reload(self, sig: Signature | None, strict: bool = False) -> None:
        with self._reload_lock:
            current = self._state
            if sig is not None and current.signature == sig:
                return
            try:
                new = self._load()
            except TableError as exc:
                self._fail(f"Reload failed, still serving the last good version ({current.version}). "
                           f"{exc}", sig)
                if strict:
                    raise
                return
            self._state, self.error, self._failed = new, None, None

    def _fail(self, message: str, sig: Signature | None) -> None:
        if message != self.error:
            logger.warning("Table %s: %s", self.name, message)
        self.error, self._failed = message, sig

    def reload(self) -> None:
        self._reload(None, strict=True)

    # --- writing (the group commit calls current, prepare_append and appended, under the lock) --

    def append(self, values: dict[str, Any]) -> dict[str, Any]:
        return self.shared.append(self, values)

    def current(self, raw: bytes, sig: Signature) -> None:
        """Make the state the one of exactly these bytes (loading them when the file changed)."""
        if sig != self._state.signature:
            self._state, self.error, self._failed = self._load((raw, sig)), None, None

    def prepare_append(self, values: dict[str, Any], taken: set[Any]) -> tuple[dict[str, Any], bytes]:
        """Check one new row against the current state; the row in full and its record."""
        state = self._state
        header = state.header
        if not header:
            raise TableError(f"{self.file} has no header line, so there is nothing to add a row to.",
                             hint="Write the header line (the column names) first, then save.")
        checked = check_row(values, header, kinds(state.kinds(), header), self.name, state.fmt.decimal)
        full = {c: checked.get(c) for c in header}
        if self.key is not None:
            self._check_new_key(state, full.get(self.key), taken)
            taken.add(full[self.key])
        return full, record_bytes(full, header, state.fmt, self.guard_formulas)

    def appended(self, rows: list[dict[str, Any]], before: Signature, after: Signature) -> None:
        """Take rows just appended into memory (no re-read), if the state is of version ``before``."""
        state = self._state
        if state.signature != before or not len(state.base) or self.options:
            return  # the next read reloads (cheap for a small file; read options may change types)
        back = readback_rows(rows, state.kinds())
        self._state = state.extended(back, after, self.shared.generation)

    def update(self, key: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
        with self.shared.lock:
            raw, sig = read_bytes(self.file)
            state, found = self._locate(raw, sig, key)
            file = records_of(raw, state.fmt, len(state), self.name, self.guard_formulas)
            checked = check_row(fields, file.header, kinds(state.kinds(), file.header), self.name,
                                state.fmt.decimal)
            if self.key is not None and self.key in checked:
                other = state.clash(checked[self.key])
                if checked[self.key] is None or other not in (None, found):
                    self._check_new_key(state, checked[self.key])
            after = self.shared.write(self.file, file.replaced(found, checked))
            if not self.options:
                cells = readback_rows([checked], state.kinds())[0]
                self._state = state.changed(found, cells, after, self.shared.generation)
            return {**state.row(found), **checked}

    def delete(self, key: Any) -> dict[str, Any]:
        with self.shared.lock:
            raw, sig = read_bytes(self.file)
            state, found = self._locate(raw, sig, key)
            file = records_of(raw, state.fmt, len(state), self.name, self.guard_formulas)
            after = self.shared.write(self.file, file.removed(found))
            if not self.options:
                self._state = state.without(found, after, self.shared.generation)
            return state.row(found)

    def _locate(self, raw: bytes, sig: Signature, key: Any) -> tuple[State, int]:
        self.current(raw, sig)
        state = self._state
        found = state.position(key)
        if found is None:
            raise KeyNotFound(f"No row of {self.name} has {self.key} {key!r}.")  # the table adds hints
        return state, found

    def _check_new_key(self, state: State, value: Any, taken: AbstractSet[Any] = frozenset()) -> None:
        if value is None:
            raise needs_key(self.name, self.key)
        if value in taken or state.clash(value) is not None:
            raise key_taken(self.name, self.key, value)

    # --- replays -------------------------------------------------------------------------------

    def for_replay(self, box: Sandbox, writing: bool) -> CsvBackend:
        """The backend on ``box``'s copy of the file (made by the first write; until then reads
        come from the real file)."""
        if self._copy or (not writing and os.path.realpath(self.file) not in box.copies):
            return self
        path = box.copy_of(self.file)
        if id(box) not in _copies:
            _copies[id(box)] = {}
            weakref.finalize(box, _copies.pop, id(box), None)
        copies = _copies[id(box)]
        if path not in copies:
            copy = CsvBackend(path, self.key, guard_formulas=self.guard_formulas, **self.options)
            copy.name, copy._copy = self.name, True
            copies[path] = copy
        return copies[path]


_copies: dict[int, dict[str, CsvBackend]] = {}  # id(sandbox) -> copy path -> the backend on the copy
