"""Data for handlers: :class:`Table` loads a CSV file with pandas, follows edits of the file, and
writes rows back safely in the file's own format; the same API over a database table (SQLite,
PostgreSQL) with ``Table(url, table=..., key=...)`` or the ``tables_url`` setting.

Modules: ``table`` (the Table: one class, a facade over a backend), ``backend`` (the interface of
a backend), ``csvbackend`` and ``sqlbackend`` (the two backends), ``csvload`` (one version of a
file, and why a load failed), ``state`` (a version in memory), ``lookup`` (the forgiving lookup,
"did you mean"), ``query`` (find, search, nearest), ``commit`` (the per-file lock across threads
and processes, appends), ``write`` and ``csvformat`` (writing in the file's format), ``values``
(cell kinds, the formula guard), ``hints`` (errors that name the fix); ``sqlconnect``,
``sqlcopy`` (database connections, copying into a database).
"""

from ..errors import KeyNotFound, TableDatabaseError, TableError, TableFileNotFound
from .query import haversine_km
from .table import Table

__all__ = ["KeyNotFound", "Table", "TableDatabaseError", "TableError", "TableFileNotFound", "haversine_km"]
