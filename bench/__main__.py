"""``python -m bench [name ...]``: run the benchmarks and print one table. Exit 1 if a target is missed."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

from .harness import Figure, table


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
                   if m.name.startswith("bench_"))
    chosen = [n for n in names if not argv or any(a in n for a in argv)]
    figures: list[Figure] = []
    for name in chosen:
        start = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        figures += importlib.import_module(f"bench.{name}").run()
        print(f"  {name}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    print(table(figures))
    missed = [f.name for f in figures if not f.ok]
    if missed:
        print(f"\nmissed targets: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
