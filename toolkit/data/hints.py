"""Errors and hints of tables, each naming the problem and the fix (file paths, columns, line numbers)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import TableError, TableFileNotFound

SAVE_HINT = "Fix the file and save it: the table reloads on the next request (the last good version " \
            "is served until then)."


def quoted_list(items: Sequence[object], limit: int = 12) -> str:
    """``'a', 'b', 'c'`` (and how many more)."""
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """`` Did you mean 'x'?`` or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    return f" Did you mean {close[0]!r}?" if close else ""


def unknown_column(name: str, columns: Sequence[str], table: str, what: str = "column") -> TableError:
    """A column that is not in the table, with the columns that are."""
    return TableError(
        f"{table} has no {what} {name!r}.{did_you_mean(name, columns)} "
        f"Its columns are: {', '.join(columns)}.",
        hint="Use one of the columns above (names are case-sensitive), or add the column to the "
             "CSV header.",
    )


def missing_file(path: Path) -> TableFileNotFound:
    """The file is not there: its absolute path and the CSV files that are nearby."""
    nearby = nearby_csvs(path)
    close = difflib.get_close_matches(path.name, [p.name for p in nearby], n=1, cutoff=0.6)
    found = f" CSV files nearby: {', '.join(_shown(p) for p in nearby)}." if nearby else \
        " There are no CSV files nearby."
    guess = next((f" Did you mean {_shown(p)!r}?" for p in nearby if close and p.name == close[0]), "")
    return TableFileNotFound(
        f"No CSV file at {path} (working directory: {os.getcwd()}).{guess}{found}",
        hint="Pass the path of an existing file, relative to the working directory (a notebook runs "
             "in its own folder, so the data folder is usually '../data/').",
    )


def nearby_csvs(path: Path, limit: int = 12) -> list[Path]:
    """CSV files in the closest existing folder of ``path`` and in its sub-folders, then in ./data."""
    folder = path.parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    found: list[Path] = []
    for pattern in ("*.csv", "*/*.csv"):
        found += sorted(folder.glob(pattern))
    for extra in (Path.cwd() / "data", Path.cwd().parent / "data"):
        if extra.is_dir() and extra.resolve() != folder.resolve():
            found += sorted(extra.glob("*.csv"))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique[:limit]


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def bad_lines(table: str, problem: str, lines: Sequence[int], fix: str = SAVE_HINT) -> TableError:
    """A problem with some rows, naming their line numbers."""
    where = "line" if len(lines) == 1 else "lines"
    return TableError(f"{table}: {problem} on {where} {quoted_numbers(lines)}.", hint=fix)


def quoted_numbers(numbers: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


def needs_key(table: str, key: str | None) -> TableError:
    """A new row without a key, for a keyed table."""
    return TableError(f"A new row of {table} needs a {key} (the key column).",
                      hint=f"Pass {key}=... with a value no other row has.")


def key_taken(table: str, key: str | None, value: object) -> TableError:
    """A new key (appended or updated) that another row has already."""
    return TableError(f"{table} already has a row with {key} {value!r}.",
                      hint=f"Use update({value!r}, ...) to change that row, or pick a new {key}.")
