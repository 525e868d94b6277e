"""Copying a table into a database: the schema from the frame's column kinds, rows in chunks with a
progress bar (tqdm), the key as primary key, the version counter bumped."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from tqdm import tqdm

from ..errors import TableError
from .sqlconnect import SQL_TYPES, ensure_version_row, shown, versions_table
from .values import kind_of, to_python

CHUNK_ROWS = 5000
IF_EXISTS = ("fail", "replace", "append")


def schema(df: pd.DataFrame, name: str, key: str | None) -> sa.Table:
    """A table for ``df``: one column per frame column, typed by its kind; ``key`` is the primary key."""
    columns = [sa.Column(str(c), SQL_TYPES[kind_of(df[c].dtype)], primary_key=str(c) == key,
                         nullable=str(c) != key) for c in df.columns]
    return sa.Table(name, sa.MetaData(), *columns)


def copy_frame(df: pd.DataFrame, engine: Engine, name: str, key: str | None, if_exists: str = "fail",
               progress: bool = True) -> int:
    """Write ``df`` as table ``name``; returns the number of rows written."""
    if if_exists not in IF_EXISTS:
        raise TableError(f"if_exists must be one of {', '.join(IF_EXISTS)}, got {if_exists!r}.",
                         hint="'fail' (the default) refuses an existing table, 'replace' drops it first, "
                              "'append' adds the rows to it.")
    table = schema(df, name, key)
    exists = sa.inspect(engine).has_table(name)
    if exists and if_exists == "fail":
        raise TableError(f"{shown(engine.url)} already has a table {name!r}.",
                         hint="Pass if_exists='replace' to replace it or 'append' to add the rows, or "
                              "choose another table=...")
    versions = versions_table(sa.MetaData())
    ensure_version_row(engine, versions, name)
    with engine.begin() as conn:
        if exists and if_exists == "replace":
            table.drop(conn)
        if not exists or if_exists == "replace":
            table.create(conn)
        elif if_exists == "append":
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
        bar = tqdm(total=len(df), unit="rows", desc=f"copy to {name}", leave=False) if progress else None
        try:  # (no tqdm object at all without a bar: even a disabled one starts tqdm's monitor thread)
            for start in range(0, len(df), CHUNK_ROWS):
                chunk = df.iloc[start:start + CHUNK_ROWS]
                conn.execute(table.insert(), _records(chunk))
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        conn.execute(versions.update().where(versions.c.name == name)
                     .values(version=versions.c.version + 1))
    return len(df)


def _records(chunk: pd.DataFrame) -> list[dict[str, Any]]:
    columns = [str(c) for c in chunk.columns]
    arrays = [chunk[c].array for c in chunk.columns]
    return [{c: to_python(a[i]) for c, a in zip(columns, arrays, strict=True)} for i in range(len(chunk))]


def create_from_csv(source: Path, engine: Engine, name: str, key: str | None,
                    options: Mapping[str, Any], guard_formulas: bool) -> None:
    """Create table ``name`` from the CSV file ``source`` (``tables_url``: the first time only)."""
    from .table import open_csv

    frame = open_csv(source, key, guard_formulas=guard_formulas, **options).df
    try:
        copy_frame(frame, engine, name, key, "fail", progress=False)
    except (TableError, sa_exc.DBAPIError):
        if not sa.inspect(engine).has_table(name):  # not a race with another process creating it
            raise
