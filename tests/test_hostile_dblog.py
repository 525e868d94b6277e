"""Issue 23 §4 (the log parts): while the log database is down or hangs, exchanges are kept (bounded,
in memory) and written when it returns, beyond the bound the oldest are dropped and counted; answers
never wait for it; one unreadable row never stops ``Log.attach``'s polling. Real SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import BACKENDS, POSTGRES, database
from helpers import wait_until

import toolkit as tk
from toolkit.log import dblog
from toolkit.log.dblog import TABLE, AttachedLog, DbLogWriter


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path: Path) -> Iterator[str]:
    yield from database(request.param, tmp_path)


def shop(url: str) -> tk.App:
    app = tk.App("shop", log_url=url)
    app.add_handler("/order", lambda order_id="": f"Order {order_id} is shipped.")
    return app


def writer(app: tk.App) -> DbLogWriter:
    return next(s for s in app.log._subscribers if isinstance(s, DbLogWriter))


def admin(url: str):
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    return sa.create_engine(make_url(POSTGRES).set(drivername="postgresql+psycopg"),
                            isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool), url.rsplit("/", 1)[1]


def stored(url: str) -> int:
    import sqlalchemy as sa

    made = dblog.engine(url)
    try:
        with made.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar() or 0
    finally:
        made.dispose()


def test_a_database_that_refuses_then_returns_gets_every_kept_exchange(url: str, tmp_path: Path, caplog):
    if url.startswith("sqlite"):
        down = f"sqlite:///{tmp_path}/later/log.db"  # its folder does not exist yet: refused
        app = shop(down)
        refuse, back, url = (lambda: None), (lambda: (tmp_path / "later").mkdir()), down
    else:
        app = shop(url)
        app.call("/order", {"order_id": "A-0"})
        assert writer(app).flush() and writer(app).written == 1  # connected, table made
        engine, name = admin(url)

        def refuse() -> None:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                conn.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")

        def back() -> None:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    w = writer(app)
    before = w.written
    refuse()
    t0 = time.perf_counter()
    for i in range(5):
        app.call("/order", {"order_id": f"A-{i + 1}"})
    assert time.perf_counter() - t0 < 2, "answers waited for the log database"
    assert w.flush(60) and w.pending == 5 and w.failing and w.dropped == 0
    assert "could not write 5 exchanges" in caplog.text and "5 waiting" in repr(w)
    back()
    assert w.flush(60) and w.pending == 0 and w.written == before + 5 and not w.failing
    assert stored(url) == before + 5


def test_beyond_the_bound_the_oldest_are_dropped_and_counted(tmp_path: Path, monkeypatch, caplog):
    monkeypatch.setattr(dblog, "KEEP", 3)
    app = shop(f"sqlite:///{tmp_path}/later/log.db")
    for i in range(5):
        app.call("/order", {"order_id": f"A-{i}"})
    w = writer(app)
    assert w.flush(60) and w.pending == 3 and w.dropped == 2 and "2 dropped" in repr(w)
    assert "the oldest are being dropped" in caplog.text
    (tmp_path / "later").mkdir()
    assert w.flush(60) and w.written == 3
    attached = tk.Log.attach(f"sqlite:///{tmp_path}/later/log.db")
    try:
        assert [e.body["order_id"] for e in attached] == ["A-2", "A-3", "A-4"]  # the newest three
    finally:
        attached.close()


def _hold_sqlite(path: str):
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


def test_a_hanging_database_delays_only_the_writer(url: str, monkeypatch):
    monkeypatch.setattr(dblog, "TIMEOUT_S", 1.0)
    app = shop(url)
    app.call("/order", {"order_id": "A-0"})
    w = writer(app)
    assert w.flush(60) and w.written == 1
    if url.startswith("sqlite"):
        holder = _hold_sqlite(url.removeprefix("sqlite:///"))  # the write lock, held until released

        def release() -> None:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        locker = sa.create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool)
        conn = locker.connect()
        conn.exec_driver_sql(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")  # held until rollback

        def release() -> None:
            conn.rollback()
            conn.close()
            locker.dispose()
    try:
        t0 = time.perf_counter()
        for i in range(3):
            app.call("/order", {"order_id": f"A-{i + 1}"})
        assert time.perf_counter() - t0 < 1, "answers waited for the hanging database"
        assert w.flush(60) and w.pending == 3 and w.failing  # gave up after TIMEOUT_S, kept them
    finally:
        release()
    assert w.flush(60) and w.pending == 0 and w.written == 4


def test_an_unreadable_row_never_stops_attached_polling(url: str, caplog):
    import sqlalchemy as sa

    app = shop(url)
    app.call("/order", {"order_id": "A-1"})
    assert writer(app).flush()
    made = dblog.engine(url)
    with made.begin() as conn:
        for data in ("not json", "[1, 2]", '{"status": "x", "method": 5, "headers": 7}'):
            conn.execute(sa.text(f"INSERT INTO {TABLE} (time, worker, method, path, status, data) "
                                 "VALUES (0, 'w', 'POST', '/x', 200, :d)"), {"d": data})
    made.dispose()
    attached = AttachedLog(url, poll_s=0.05)
    try:
        app.call("/order", {"order_id": "A-2"})
        assert writer(app).flush()
        wait_until(lambda: any(e.path == "/order" and e.body == {"order_id": "A-2"} for e in attached),
                   30, "the row written after the unreadable ones")
        assert attached.unreadable >= 2 and "unreadable rows skipped" in repr(attached)
        assert "cannot be read" in caplog.text
    finally:
        attached.close()

