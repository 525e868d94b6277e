"""CSV data for handlers: :class:`Table` loads a CSV file with pandas, follows edits of the file,
and writes rows back atomically in the file's own format.

Modules: ``table`` (the Table), ``load`` (one version of a file, and why a load failed),
``lookup`` (keys and "did you mean"), ``query`` (find, search, nearest), ``commit`` (the
per-file lock and group-committed appends), ``write`` and ``csvformat`` (writing in the file's
format), ``values`` (cell kinds), ``errors``.
"""

from ..errors import KeyNotFound, TableError, TableFileNotFound
from .query import haversine_km
from .table import Table

__all__ = ["KeyNotFound", "Table", "TableError", "TableFileNotFound", "haversine_km"]
