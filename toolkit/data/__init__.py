"""Data for handlers: :class:`Table` loads a CSV file with pandas, follows edits of the file, and
writes rows back safely in the file's own format; the same API over a database table (SQLite,
PostgreSQL) with ``Table(url, table=..., key=...)`` or the ``tables_url`` setting.

Modules: ``table`` (the Table), ``load`` (one version of a file, and why a load failed),
``state`` (a version in memory), ``lookup`` (keys and "did you mean"), ``query`` (find, search,
nearest), ``commit`` and ``oslock`` (the per-file lock across threads and processes, appends),
``write`` and ``csvformat`` (writing in the file's format), ``values`` (cell kinds, the formula
guard), ``errors``; ``sql``, ``sqlconnect``, ``sqlcopy`` (database tables).
"""

from ..errors import KeyNotFound, TableDatabaseError, TableError, TableFileNotFound
from .query import haversine_km
from .table import Table

__all__ = ["KeyNotFound", "Table", "TableDatabaseError", "TableError", "TableFileNotFound", "haversine_km"]
