"""The one interface a :class:`~toolkit.data.Table` talks to: where rows are stored.

Two backends implement it: :class:`~toolkit.data.csvbackend.CsvBackend` (a CSV file) and
:class:`~toolkit.data.sqlbackend.SqlBackend` (a SQLite or PostgreSQL table). Each owns its storage
and how it is read and written; the table above them does the rest once for both: the forgiving
lookup (:func:`~toolkit.data.lookup.resolve`), "did you mean" errors, when to look at the source
(once per request), the ``stale:`` flag, and replays (writes kept away from the real data).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from ..log import Sandbox
from .state import State


class Backend(Protocol):
    """Where a table's rows live. Reads never raise for a source gone bad after it was opened:
    they keep serving the last good version and say why in ``error``."""

    name: str  # shown in messages and in the request log
    key: str | None  # the key column, or None
    path: Path  # the CSV file (for a database table: the CSV it was made from, or just the name)
    options: dict[str, Any]  # read_csv keywords
    guard_formulas: bool
    error: str | None  # why the last good version is served (None when current)
    label: str  # after the name in the repr: "" for a CSV file, " (sqlite)" for a database
    stale_note: str  # in the repr when ``error`` is set
    kept_away: str  # how a replay's write is kept away from the real data

    @property
    def version(self) -> str:
        """The version served (``mtime:<ns>`` or ``db:<counter>``), as the request log records it."""
        ...

    @property
    def key_kind(self) -> str:
        """The kind of the key column (``text``, ``int``, ``float``, ``bool``, ``datetime``)."""
        ...

    def behind(self) -> bool:
        """True when a write through another table object in this process made this one old."""
        ...

    def refresh(self) -> None:
        """Look at the source (cheap) and load it again if it changed; a failure sets ``error``."""
        ...

    def state(self) -> State:
        """The frame of the version served (a database table is read when its version moved)."""
        ...

    def count(self) -> int:
        """The number of rows."""
        ...

    def columns(self) -> list[str]:
        """The column names, in order."""
        ...

    def row(self, wanted: list[Any], refresh: bool) -> dict[str, Any] | None:
        """The row of the first stored key of ``wanted`` (exact match) as plain values, or None.
        With ``refresh``, look at the source first (a database does both in one query)."""
        ...

    def folded(self, text: str) -> list[Any]:
        """Up to two stored keys equal to ``text`` ignoring letter case."""
        ...

    def reload(self) -> None:
        """Read the source now; a failure raises (the last good version stays in use)."""
        ...

    def append(self, values: dict[str, Any]) -> dict[str, Any]:
        """Add a checked row; returns it as stored. Raises TableError for a bad row."""
        ...

    def update(self, key: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Change cells of the row of ``key``; returns the row. A missing key raises KeyNotFound."""
        ...

    def delete(self, key: Any) -> dict[str, Any]:
        """Remove the row of ``key``; returns it. A missing key raises KeyNotFound."""
        ...

    def for_replay(self, box: Sandbox, writing: bool) -> Backend:
        """The backend a replay in ``box`` uses: a throwaway copy of a CSV file (once written),
        or the same database table with every write rolled back."""
        ...
