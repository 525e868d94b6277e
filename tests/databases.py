"""Databases for the tests: a SQLite file, or a fresh database on the PostgreSQL server named by
TOOLKIT_TEST_POSTGRES_URL (``bash .ci/run`` starts a throwaway cluster and sets it). Without that
variable the PostgreSQL cases skip, saying how to enable them; under CI they fail (see needs.py)."""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from needs import missing

POSTGRES = os.environ.get("TOOLKIT_TEST_POSTGRES_URL", "")
SKIP_POSTGRES = ("PostgreSQL tests need a server: run `bash .ci/run` (it starts a throwaway cluster), or set "
                 "TOOLKIT_TEST_POSTGRES_URL=postgresql://USER@127.0.0.1:PORT/postgres")
BACKENDS = ["sqlite", "postgresql"]


def database(kind: str, folder: Path) -> Iterator[str]:
    """Yield the URL of an empty database of ``kind``; drop it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/shop.db"
        return
    if not POSTGRES:
        missing(SKIP_POSTGRES)
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from toolkit.data import sqlconnect

    name = f"toolkit_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(make_url(POSTGRES).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        gc.collect()  # tables held connections: back to their pool before it is closed
        for key in [k for k in sqlconnect._engines if k.endswith(f"/{name}")]:
            sqlconnect._engines.pop(key).dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
