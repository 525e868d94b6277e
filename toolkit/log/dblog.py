"""The request log in a database (``log_url``): every worker writes its exchanges there, and a
notebook attaches to it (``Log.attach(url)``) to watch a running service's traffic live.

Exchanges are stored as the in-memory log shows them (``Exchange.to_dict()``: masked, bodies cut),
one row each in ``toolkit_exchanges``, written in batches by a background thread of each worker
process (started on the first exchange, so forked gunicorn workers each get their own), and
trimmed to the newest ``log_retention`` rows. SQLAlchemy is imported only when this is used.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import threading
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .buffer import Log
from .exchange import Exchange
from .logger import logger

if TYPE_CHECKING:
    import sqlalchemy as sa

TABLE = "toolkit_exchanges"
BATCH = 500


def engine(url: str) -> Any:
    """A SQLAlchemy engine for the log database (psycopg 3 for PostgreSQL; WAL for SQLite)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number fails here
    except (sa.exc.ArgumentError, ValueError):
        raise ConfigError(f"log_url {url.split('@')[-1]!r} is not a database URL.",
                          hint="Write it like sqlite:///logs/exchanges.db or "
                               "postgresql://user:password@host:5432/dbname.") from None
    kind = parsed.get_backend_name()
    if kind in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif kind != "sqlite":
        raise ConfigError(f"log_url must be a SQLite or PostgreSQL URL, got {kind!r}.",
                          hint="e.g. sqlite:///logs/exchanges.db or postgresql://user:pw@host/db")
    try:
        made = sa.create_engine(parsed, **({"connect_args": {"timeout": 30}} if kind == "sqlite" else {}))
    except ImportError:
        raise ConfigError("log_url on PostgreSQL needs the psycopg driver.",
                          hint="pip install 'chatlayer-toolkit[postgres]' "
                               "(or: pip install 'psycopg[binary]').") from None
    if kind == "sqlite":
        sa.event.listen(made, "connect", lambda conn, _: conn.execute("PRAGMA journal_mode=WAL"))
    return made


def table(metadata: sa.MetaData) -> sa.Table:
    import sqlalchemy as sa

    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY counts up
    return sa.Table(TABLE, metadata, sa.Column("id", big, primary_key=True, autoincrement=True),
                    sa.Column("time", sa.Float, nullable=False), sa.Column("worker", sa.String(80)),
                    sa.Column("method", sa.String(16)), sa.Column("path", sa.Text),
                    sa.Column("status", sa.Integer), sa.Column("data", sa.Text, nullable=False))


def _created(made: Any) -> sa.Table:
    import sqlalchemy as sa

    exchanges = table(sa.MetaData())
    try:
        exchanges.create(made, checkfirst=True)
    except sa.exc.DBAPIError:  # another worker created it meanwhile
        if not sa.inspect(made).has_table(TABLE):
            raise
    return exchanges


class DbLogWriter:
    """A :class:`Log` subscriber that copies each exchange into the log database.

    Recording only queues the row: a background thread writes batches, so a slow or unreachable
    database never slows or breaks an answer (failures are logged as warnings, rows dropped).
    """

    def __init__(self, url: str, retention: int = 100_000) -> None:
        engine(url).dispose()  # a wrong URL or a missing driver fails here, at App(), with the fix
        self.url, self.retention = url, max(int(retention), 1)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self._pid = -1
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.Lock()
        self._warned = False

    def __call__(self, entry: Exchange) -> None:
        if self._pid != os.getpid():
            self._start()
        row = entry.to_dict()
        self._queue.put({"time": entry.time, "worker": self.worker, "method": entry.method,
                         "path": entry.path, "status": entry.status,
                         "data": json.dumps(row, ensure_ascii=False, default=str)})

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self.worker = f"{socket.gethostname()}:{self._pid}"
            self._queue = queue.Queue()  # a forked child never shares the parent's queue or thread
            threading.Thread(target=self._loop, name="toolkit-dblog", daemon=True).start()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued exchange is written (tests, shutdown). False on timeout."""
        done = threading.Event()
        self._queue.put({"flush": done})
        return done.wait(timeout)

    def _loop(self) -> None:
        made, exchanges = engine(self.url), None
        while True:
            rows = [self._queue.get()]
            while len(rows) < BATCH:
                try:
                    rows.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            flushes = [r.pop("flush") for r in rows if "flush" in r]
            rows = [r for r in rows if r]
            try:
                exchanges = exchanges if exchanges is not None else _created(made)
                self._write(made, exchanges, rows)
            except Exception as exc:  # never breaks serving: warn once per problem, drop the batch
                if not self._warned:
                    logger.warning("log_url: could not write %d exchanges: %s", len(rows), exc)
                self._warned = True
            for event in flushes:
                event.set()

    def _write(self, made: Any, exchanges: sa.Table, rows: list[dict[str, Any]]) -> None:
        import sqlalchemy as sa

        if not rows:
            return
        with made.begin() as conn:
            conn.execute(exchanges.insert(), rows)
            newest = conn.execute(sa.select(sa.func.max(exchanges.c.id))).scalar() or 0
            conn.execute(exchanges.delete().where(exchanges.c.id <= newest - self.retention))
        self._warned = False


class AttachedLog(Log):
    """A :class:`Log` that shows the exchanges of the log database: ``Log.attach(url)``.

    New rows are fetched every ``poll_s`` seconds by a background thread (or at once with
    :meth:`refresh`); subscribers (the log view) hear about each, as with a local log. Ids are
    the database's. Assign it to an app (``app.log = Log.attach(url)``) to use ``app.log_view()``,
    replay and "save as fixtures" on the service's traffic.
    """

    def __init__(self, url: str, size: int = 500, poll_s: float = 0.5) -> None:
        super().__init__(size)
        self.url, self.poll_s = url, poll_s
        self._engine = engine(url)
        self._last_id = 0
        self._fetch_lock = threading.Lock()
        self._stop = threading.Event()
        self.refresh()
        self._thread = threading.Thread(target=self._poll, name="toolkit-attached-log", daemon=True)
        self._thread.start()

    def refresh(self) -> int:
        """Fetch the exchanges recorded since the last look; returns how many were new."""
        import sqlalchemy as sa

        with self._fetch_lock:
            try:
                if not sa.inspect(self._engine).has_table(TABLE):
                    return 0
                exchanges = table(sa.MetaData())
                query = (sa.select(exchanges.c.id, exchanges.c.data).where(exchanges.c.id > self._last_id)
                         .order_by(exchanges.c.id.desc()).limit(max(self.size, 1)))
                with self._engine.connect() as conn:
                    rows = list(reversed(conn.execute(query).all()))
            except sa.exc.SQLAlchemyError as exc:
                logger.warning("Log.attach: cannot read %s: %s", self.url.split("@")[-1], exc)
                return 0
            for row_id, data in rows:
                self._ingest(exchange_from_dict(json.loads(data), int(row_id)))
                self._last_id = max(self._last_id, int(row_id))
            return len(rows)

    def _ingest(self, entry: Exchange) -> None:
        with self._lock:
            self._entries.append(entry)
            self.total += 1
            self._next_id = max(self._next_id, entry.id + 1)
            subscribers = self._subscribers
        for callback in subscribers:
            try:
                callback(entry)
            except Exception:
                logger.exception("log subscriber %r failed", callback)

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.refresh()

    def close(self) -> None:
        """Stop following the database (the exchanges fetched stay)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(10)
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"<Log attached to a database: {len(self)} exchanges>"


def exchange_from_dict(data: dict[str, Any], row_id: int) -> Exchange:
    """An Exchange as stored by :class:`DbLogWriter` (bodies already masked and cut)."""
    fields = {k: v for k, v in data.items() if k in Exchange.__dataclass_fields__ and k != "fingerprint"}
    fields["id"] = row_id
    entry = Exchange(**fields)
    entry.__dict__["_cache"] = {0: data.get("body"), 1: data.get("response")}
    return entry
