"""Databases behind tables: one SQLAlchemy engine per URL, the version counters, errors with the fix.

SQLAlchemy 2 Core is the one SQL layer: SQLite through the standard library, PostgreSQL through
psycopg 3 (``pip install 'chatlayer-toolkit[postgres]'``). Every table write bumps a row of
``toolkit_versions`` in the same transaction, so any process sees a change with one tiny query.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from ..errors import TableDatabaseError, TableError
from ..log.masking import Masker, masked_url, url_passwords
from .hints import did_you_mean

VERSIONS = "toolkit_versions"
EXAMPLES = "sqlite:///data/shop.db or postgresql://user:password@host:5432/dbname"
SCHEMES = ("sqlite", "postgresql", "postgres")
GONE = ("Restore the file (then table.reload()), or copy the table into the database again: "
        "Table('data/NAME.csv', key=...).copy_to(url) makes the file anew.")
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_files: dict[str, tuple[int, int]] = {}  # the SQLite file each engine was opened on (device, inode)


def shown(url: str | URL) -> str:
    """The URL with its password masked (in the user info, a raw ``@`` in it, ``?password=``), for
    messages and reprs."""
    try:
        text = make_url(_quoted_at(url) if isinstance(url, str) else url).render_as_string(hide_password=True)
        return masked_url(text.replace("postgresql+psycopg:", "postgresql:"))
    except Exception:
        return "<unparseable URL>"


def _quoted_at(url: str) -> str:
    """``url`` with a raw ``@`` in its user info (the last ``@`` ends it) or its query (``?password=``)
    written ``%40``, as SQLAlchemy and libpq read it."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if not sep or "@" not in url:
        return url
    if netloc.count("@") > 1:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.replace('@', '%40')}@{host}"
    path, mark, query = path.partition("?")
    return f"{scheme}://{netloc}{slash}{path}{mark}{query.replace('@', '%40')}"


def parse(url: str) -> URL:
    """``url`` checked; ``postgresql://`` and ``postgres://`` use psycopg 3."""
    try:
        parsed = make_url(_quoted_at(url))
        parsed.port  # noqa: B018 - a port that is not a number fails here
    except (sa_exc.ArgumentError, ValueError):
        raise TableDatabaseError(f"{masked_url(url).split('@')[-1]!r} is not a database URL.",
                                 hint=f"Write it like {EXAMPLES}.") from None
    scheme = parsed.get_backend_name()
    if scheme == "postgres" or parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif scheme not in SCHEMES:
        raise TableDatabaseError(
            f"Unknown database kind {scheme!r} in {shown(parsed)}.{did_you_mean(scheme, SCHEMES[:2])}",
            hint=f"Tables run on SQLite and PostgreSQL: {EXAMPLES}.")
    return parsed


def engine_for(url: str) -> Engine:
    """The one engine of this URL in this process (made on first use). A SQLite file is created
    here when it is missing, and only here: its connections never create one (see :func:`_create`)."""
    parsed = parse(url)
    name = parsed.render_as_string(hide_password=False)
    with _engines_lock:
        if name not in _engines:
            _engines[name] = _create(parsed)
        path = sqlite_file(parsed)
        if path is not None:
            if not os.path.exists(path):
                for leftover in (path + "-wal", path + "-shm"):  # of a deleted file: not for the new one
                    if os.path.exists(leftover):
                        os.remove(leftover)
                sqlite3.connect(path).close()
            stat = os.stat(path)
            if _files.setdefault(name, (stat.st_dev, stat.st_ino)) != (stat.st_dev, stat.st_ino):
                _engines[name].dispose()  # a new file: connections to the old one are not used again
                _files[name] = (stat.st_dev, stat.st_ino)
        return _engines[name]


def sqlite_file(url: str | URL) -> str | None:
    """The absolute path of a SQLite URL's file (None for PostgreSQL and an in-memory database)."""
    try:
        parsed = make_url(url)
    except (sa_exc.ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return os.path.abspath(parsed.database or "")


def _create(url: URL) -> Engine:
    path = sqlite_file(url)
    if url.get_backend_name() == "sqlite":
        folder = os.path.dirname(path or "")
        if path is not None and not os.path.isdir(folder):
            raise TableDatabaseError(f"The folder of the SQLite database {url.database!r} does not exist "
                                     f"({folder}).", hint="Create the folder first, or fix the path "
                                     "(sqlite:///relative/path.db, sqlite:////absolute/path.db).")
        if path is None:
            engine = sa.create_engine(url, connect_args={"timeout": 30})
        else:  # mode=rw: a file deleted meanwhile is an error, never silently created again (and lost)
            uri = f"file:{quote(path)}?mode=rw"
            engine = sa.create_engine(url, creator=lambda: sqlite3.connect(
                uri, uri=True, timeout=30, check_same_thread=False))
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return sa.create_engine(url, pool_size=8, max_overflow=16)
    except ImportError as exc:
        raise TableDatabaseError(
            f"PostgreSQL needs the psycopg driver, which is not installed ({exc}).",
            hint="pip install 'chatlayer-toolkit[postgres]' (or: pip install 'psycopg[binary]'), "
                 "then restart the kernel.") from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _dispose_all() -> None:
    """After a fork (gunicorn workers): never share a parent's connections."""
    for engine in list(_engines.values()):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_dispose_all)


def explain(error: Exception, url: str | URL, what: str) -> TableError:
    """A database error as a TableError naming the problem and the fix (never the password)."""
    where = shown(url)
    text = str(getattr(error, "orig", error) or error).strip().splitlines()[0] if str(error) else ""
    raw = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    text = Masker(("password",)).text(text, url_passwords(raw))  # the database's words may quote it
    if isinstance(error, TableError):
        return error
    low = text.lower()
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError) and (
            "refused" in low or "could not connect" in low or "connection" in low or "timeout" in low):
        return TableDatabaseError(f"Cannot connect to {where} ({what}): {text}.",
                                  hint="Check that the database server is running and reachable at that "
                                       "host and port, and that the URL is right.")
    if "password authentication failed" in low or "role" in low and "does not exist" in low:
        return TableDatabaseError(f"{where} refused the login ({what}): {text}.",
                                  hint="Check the user name and password in the URL.")
    if "database" in low and "does not exist" in low:
        return TableDatabaseError(f"{where}: {text}.", hint="Create the database (createdb NAME) or fix "
                                                             "its name at the end of the URL.")
    path = sqlite_file(url) if isinstance(error, sa_exc.SQLAlchemyError) else None
    if "unable to open database file" in low and path is not None and not os.path.exists(path):
        return TableDatabaseError(f"The SQLite file {path} is gone ({what}).", hint=GONE)
    if "unable to open database file" in low:
        return TableDatabaseError(f"Cannot open the SQLite file of {where}: {text}.",
                                  hint="Check that its folder exists and may be written.")
    return TableDatabaseError(f"{where}: {what} failed: {type(error).__name__}: {text}",
                              hint="See the database's own message above; table.reload() retries.")


def versions_table(metadata: sa.MetaData) -> sa.Table:
    """The table of version counters: one row per data table, bumped by every write."""
    return sa.Table(VERSIONS, metadata, sa.Column("name", sa.String(255), primary_key=True),
                    sa.Column("version", sa.BigInteger, nullable=False))


def ensure_version_row(engine: Engine, versions: sa.Table, name: str) -> None:
    """Create the counters table and this table's row if they are missing (races are fine)."""
    try:
        versions.create(engine, checkfirst=True)
    except sa_exc.DBAPIError:  # another process created it meanwhile
        if not sa.inspect(engine).has_table(VERSIONS):
            raise
    with engine.connect() as conn:
        found = conn.execute(sa.select(versions.c.version).where(versions.c.name == name)).first()
    if found is None:
        try:
            with engine.begin() as conn:
                conn.execute(versions.insert().values(name=name, version=0))
        except sa_exc.IntegrityError:  # another process made it meanwhile
            pass


def kind_of_column(column: sa.Column[Any]) -> str:
    """The toolkit kind (int, float, bool, datetime, text) of a database column."""
    try:
        python = column.type.python_type
    except NotImplementedError:
        return "text"
    if python is bool:
        return "bool"
    if python is int:
        return "int"
    if python.__name__ in ("float", "Decimal"):
        return "float"
    if python.__name__ in ("datetime", "date"):
        return "datetime"
    return "text"


SQL_TYPES: dict[str, Any] = {"int": sa.BigInteger, "float": sa.Float, "bool": sa.Boolean,
                             "datetime": sa.DateTime, "text": sa.Text}


def missing_table(url: str, name: str, tables: list[str]) -> TableError:
    """No table ``name`` in the database: the tables there are, and how to make it."""
    mine = [t for t in tables if t != VERSIONS]
    listed = f" Its tables: {', '.join(mine)}." if mine else " It has no tables yet."
    return TableError(
        f"{shown(url)} has no table {name!r}.{did_you_mean(name, mine)}{listed}",
        hint=f"Copy a CSV into it first: Table('data/{name}.csv', key=...).copy_to(url, "
             f"table={name!r}) or python -m toolkit copy-table data/{name}.csv URL; or pass "
             "the name of an existing table.")


class Held:
    """One connection per process and thread, kept open for reads (no pool checkout per lookup).

    >>> held = Held(engine_for("sqlite:///data/shop.db"))      # doctest: +SKIP
    >>> held.run(lambda conn: conn.exec_driver_sql("SELECT 1").scalar_one())   # doctest: +SKIP
    1
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._held: dict[tuple[int, int], Connection] = {}
        weakref.finalize(self, _give_back, self._held)

    def run(self, work: Callable[[Connection], Any]) -> Any:
        """Run a read on this thread's own connection. A connection of another process (before a
        fork) is never touched again; a failure closes it, so the next read connects afresh."""
        here = (os.getpid(), threading.get_ident())
        conn = self._held.get(here)
        if conn is None:
            conn = self._held[here] = self._engine.connect()
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
