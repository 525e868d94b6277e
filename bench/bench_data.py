"""Tables: on a generated 1,000,000-row orders CSV, keyed lookup, load time, the change check, and
append / update / delete against pandas writing the file once; ``get`` on SQLite and PostgreSQL
against a CSV table's ``get`` in the same run; ``toolkit serve --workers 4`` appending leads to
PostgreSQL. PostgreSQL figures need TOOLKIT_TEST_POSTGRES_URL (``bash .ci/run`` sets it)."""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from toolkit.data import Table
from toolkit.log import trace

from .harness import Figure, rate
from .tables import database_figures, write_figures

ROWS = 1_000_000
STATUSES = ("processing", "shipped", "delivered", "cancelled", "returned")
NAMES = ("Emma Peeters", "Lucas Janssens", "Louise Maes", "Noah Jacobs", "Chloé Dubois", "Daan de Vries")


def make_orders(path: Path, rows: int = ROWS) -> list[str]:
    """Write an orders CSV of ``rows`` rows (fixed seed); return a sample of its keys."""
    rng = random.Random(4)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("order_id,customer,status,eta,total,items\n")
        f.writelines(
            f"A-{n:07d},{rng.choice(NAMES)},{rng.choice(STATUSES)},2025-03-{1 + n % 28:02d},"
            f"{rng.randrange(500, 50000) / 100:.2f},{1 + n % 7}\n"
            for n in range(rows))
    return [f"A-{rng.randrange(rows):07d}" for _ in range(1000)]


def best_seconds(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` runs (the least disturbed by other processes)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def load_times(path: Path, repeats: int = 3) -> tuple[float, float]:
    """Best load time of Table and of plain read_csv, interleaved so both see the same noise."""
    table = pandas = float("inf")
    for _ in range(repeats):
        table = min(table, best_seconds(lambda: Table(path, key="order_id"), 1))
        pandas = min(pandas, best_seconds(lambda: pd.read_csv(path), 1))
    return table, pandas


def lookups(table: Table, keys: list[str]) -> tuple[float, float, float]:
    """Lookups per second: Table.get, the boolean mask, and a miss with suggestions."""
    df, cycle = table.df, iter(keys * 1000)
    get = rate(lambda: table.get(next(cycle)))
    mask = 1 / best_seconds(lambda: df[df["order_id"] == keys[0]], 7)
    miss = 1 / best_seconds(lambda: (table.get("A-00O1234"), table.suggest("A-00O1234")), 7)
    return get, mask, miss


def check_micros(table: Table, repeats: int = 20000) -> tuple[float, float]:
    """Microseconds per request of the change check (a new request, one read), and of os.stat."""

    def requests() -> None:
        for _ in range(repeats):
            with trace():
                table.version  # noqa: B018 - the read that looks at the file

    def stats() -> None:
        for _ in range(repeats):
            os.stat(table.path)

    return (best_seconds(requests, 5) / repeats * 1e6, best_seconds(stats, 5) / repeats * 1e6)


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="toolkit-bench-") as folder:
        path = Path(folder) / "orders.csv"
        keys = make_orders(path)
        table_s, pandas_s = load_times(path)
        table = Table(path, key="order_id")
        get, mask, miss = lookups(table, keys)
        check, stat = check_micros(table)
        writes = write_figures(table, Path(folder))
    return [
        # measured 3,700x on the reference machine: a 2x regression of Table.get fails
        Figure("Table.get vs df[df[key] == k] (1M rows)", get, mask, "lookups/s", 1850.0),
        Figure("miss + suggestions vs df[df[key] == k]", miss, mask, "lookups/s", 1.0),
        Figure("Table load vs pandas.read_csv (1M rows)", table_s, pandas_s, "s", 1.3,
               higher_is_better=False),
        Figure(f"change check per request (os.stat alone: {stat:.1f} µs)", check, None, "µs", 50.0,
               higher_is_better=False),
        *writes,
        *database_figures(),
    ]
