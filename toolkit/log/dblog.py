"""The request log in a database (``log_url``): every worker writes its exchanges there, and a
notebook attaches to it (``Log.attach(url)``) to watch a running service's traffic live.

Exchanges are stored as the in-memory log shows them (``Exchange.to_dict()``: masked, bodies cut),
one row each in ``toolkit_exchanges``, written in batches by a background thread of each worker
process (started on the first exchange, so forked gunicorn workers each get their own), and
trimmed to the newest ``log_retention`` rows. SQLAlchemy is imported only when this is used.

While the database is down or hangs (every statement gives up after ``timeout_s``), exchanges wait in
memory, at most ``KEEP`` of them: they are written when it answers again (retried with a growing
pause, at once on :meth:`DbLogWriter.flush`); beyond ``KEEP`` the oldest are dropped and counted
(``DbLogWriter.dropped``, in its repr and a warning). Nothing is spilled to disk.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .buffer import Log
from .exchange import Exchange
from .logger import logger
from .masking import Masker, masked_url, url_passwords

if TYPE_CHECKING:
    import sqlalchemy as sa

TABLE = "toolkit_exchanges"
BATCH = 500
KEEP = 10_000  # exchanges kept in memory while the database is down; older ones are dropped (counted)
TIMEOUT_S = 10.0  # a connection or statement of the log database gives up after this long


def engine(url: str, timeout_s: float | None = None) -> Any:
    """A SQLAlchemy engine for the log database (psycopg 3 for PostgreSQL; WAL for SQLite).

    ``timeout_s``: connecting, and each statement, give up after this long (a hanging database
    raises instead of holding the writer forever)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number fails here
    except (sa.exc.ArgumentError, ValueError):
        raise ConfigError(f"log_url {masked_url(url)!r} is not a database URL.",
                          hint="Write it like sqlite:///logs/exchanges.db or "
                               "postgresql://user:password@host:5432/dbname.") from None
    kind = parsed.get_backend_name()
    if kind in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif kind != "sqlite":
        raise ConfigError(f"log_url must be a SQLite or PostgreSQL URL, got {kind!r}.",
                          hint="e.g. sqlite:///logs/exchanges.db or postgresql://user:pw@host/db")
    if kind == "sqlite":
        args: dict[str, Any] = {"timeout": 30 if timeout_s is None else timeout_s}
    elif timeout_s is None:
        args = {}
    else:
        ms = int(timeout_s * 1000)
        args = {"connect_timeout": max(1, round(timeout_s)),
                "options": f"-c statement_timeout={ms} -c lock_timeout={ms}"}
    try:
        made = sa.create_engine(parsed, connect_args=args, pool_pre_ping=True,
                                **({"pool_timeout": timeout_s} if timeout_s and kind != "sqlite" else {}))
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

    Recording only queues the row: a background thread writes batches, so a slow, hanging or
    unreachable database never slows or breaks an answer. While it fails, at most ``keep`` rows wait
    in memory and are written when it answers again; older ones are dropped and counted in
    :attr:`dropped` (warned about, and shown in the repr).
    """

    def __init__(self, url: str, retention: int = 100_000, *, keep: int | None = None,
                 timeout_s: float | None = None) -> None:
        engine(url).dispose()  # a wrong URL or a missing driver fails here, at App(), with the fix
        self.url, self.retention = url, max(int(retention), 1)
        self.keep = max(int(KEEP if keep is None else keep), 1)
        self.timeout_s = TIMEOUT_S if timeout_s is None else timeout_s
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.dropped = 0  # rows dropped because the database stayed down while more than `keep` waited
        self.written = 0  # rows written
        self.failing = ""  # why the last write failed ("" once one succeeds)
        self._pid = -1
        self._rows: deque[dict[str, Any]] = deque()
        self._flushes: list[threading.Event] = []
        self._cond = threading.Condition()
        self._lock = threading.Lock()
        self._warned = False
        self._masker = url_masker(url)

    @property
    def pending(self) -> int:
        """Rows waiting to be written."""
        return len(self._rows)

    def __call__(self, entry: Exchange) -> None:
        if self._pid != os.getpid():
            self._start()
        row = {"time": entry.time, "worker": self.worker, "method": entry.method, "path": entry.path,
               "status": entry.status, "data": json.dumps(entry.to_dict(), ensure_ascii=False, default=str)}
        with self._cond:
            self._rows.append(row)
            self._trim()
            self._cond.notify()

    def _trim(self) -> None:
        """Drop the oldest rows beyond ``keep`` (call with the condition held)."""
        over = len(self._rows) - self.keep
        if over > 0:
            for _ in range(over):
                self._rows.popleft()
            if not self.dropped:
                logger.warning("log_url: the log database is still failing (%s); more than %d exchanges "
                               "waited, the oldest are being dropped (counted in .dropped).",
                               self.failing or "busy", self.keep)
            self.dropped += over

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self.worker = f"{socket.gethostname()}:{self._pid}"
            with self._cond:  # a forked child never shares the parent's rows or thread
                self._rows, self._flushes = deque(), []
            threading.Thread(target=self._loop, name="toolkit-dblog", daemon=True).start()

    def flush(self, timeout: float = 30.0) -> bool:
        """Write every queued exchange now, and wait until that was tried (tests, shutdown). True once
        it was tried (rows the database refused stay queued, see :attr:`pending`); False on timeout."""
        if self._pid != os.getpid():
            self._start()
        done = threading.Event()
        with self._cond:
            self._flushes.append(done)
            self._cond.notify()
        return done.wait(timeout)

    def _loop(self) -> None:
        made, exchanges, pause = engine(self.url, self.timeout_s), None, 0.0
        while True:
            with self._cond:
                if pause:  # failing: retry after the pause, or at once when flushed
                    self._cond.wait_for(lambda: bool(self._flushes), timeout=pause)
                else:
                    self._cond.wait_for(lambda: bool(self._rows or self._flushes))
                flushes, self._flushes = self._flushes, []
            while True:
                with self._cond:
                    rows = [self._rows.popleft() for _ in range(min(BATCH, len(self._rows)))]
                if not rows:
                    pause = 0.0
                    break
                try:
                    exchanges = exchanges if exchanges is not None else _created(made)
                    self._write(made, exchanges, rows)
                except Exception as exc:  # never breaks serving: keep the rows, warn once, retry later
                    with self._cond:
                        self._rows.extendleft(reversed(rows))
                        self._trim()
                    self.failing = self._masker.text(f"{type(exc).__name__}: {exc}".splitlines()[0])
                    if not self._warned:
                        logger.warning("log_url: could not write %d exchanges: %s (kept, at most %d, "
                                       "written when the database answers again)", len(rows), self.failing,
                                       self.keep)
                    self._warned = True
                    pause = min(max(pause * 2, 0.5), 30.0)
                    break
            for event in flushes:
                event.set()

    def __repr__(self) -> str:
        state = f", failing: {self.failing}" if self.failing else ""
        dropped = f", {self.dropped} dropped" if self.dropped else ""
        return (f"<DbLogWriter {masked_url(self.url)!r}: {self.written} written, {self.pending} waiting"
                f"{dropped}{state}>")

    def _write(self, made: Any, exchanges: sa.Table, rows: list[dict[str, Any]]) -> None:
        import sqlalchemy as sa

        if not rows:
            return
        with made.begin() as conn:
            conn.execute(exchanges.insert(), rows)
            newest = conn.execute(sa.select(sa.func.max(exchanges.c.id))).scalar() or 0
            conn.execute(exchanges.delete().where(exchanges.c.id <= newest - self.retention))
        self._warned, self.failing = False, ""
        self.written += len(rows)


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
        self._engine = engine(url, TIMEOUT_S)  # read when polled: a hanging database gives up
        self._last_id = 0
        self.unreadable = 0  # rows that could not be read (skipped, with a warning)
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
            except Exception as exc:  # noqa: BLE001 - polling goes on whatever the database did
                text = url_masker(self.url).text(f"{type(exc).__name__}: {exc}")
                logger.warning("Log.attach: cannot read %s: %s", masked_url(self.url), text.splitlines()[0])
                return 0
            new = 0
            for row_id, data in rows:
                self._last_id = max(self._last_id, int(row_id))  # an unreadable row is passed, not retried
                try:
                    entry = exchange_from_dict(json.loads(data), int(row_id))
                except Exception as exc:  # noqa: BLE001 - one bad row never stops the others
                    self.unreadable += 1
                    logger.warning("Log.attach: skipped row %s of %s, which cannot be read: %s: %s",
                                   row_id, TABLE, type(exc).__name__, str(exc)[:200])
                    continue
                self._ingest(entry)
                new += 1
            return new

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
            try:
                self.refresh()
            except Exception:  # never stops polling
                logger.exception("Log.attach: polling failed")

    def close(self) -> None:
        """Stop following the database (the exchanges fetched stay)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(10)
        self._engine.dispose()

    def __repr__(self) -> str:
        skipped = f", {self.unreadable} unreadable rows skipped" if self.unreadable else ""
        return f"<Log attached to a database: {len(self)} exchanges{skipped}>"


def url_masker(url: str) -> Masker:
    """A masker for the errors of database ``url``: its passwords (by value), and password keys."""
    masker = Masker(("password", "secret", "token"))
    masker.values = frozenset(p for p in url_passwords(url) if len(p) >= 4)
    return masker


def exchange_from_dict(data: dict[str, Any], row_id: int) -> Exchange:
    """An Exchange as stored by :class:`DbLogWriter` (bodies already masked and cut)."""
    fields = {k: v for k, v in data.items() if k in Exchange.__dataclass_fields__ and k != "fingerprint"}
    fields["id"] = row_id
    entry = Exchange(**fields)
    entry.__dict__["_cache"] = {0: data.get("body"), 1: data.get("response")}
    return entry
