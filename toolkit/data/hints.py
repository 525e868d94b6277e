"""Errors and hints of tables, each naming the problem and the fix (file paths, columns, line numbers)."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TableError, TableFileNotFound
from .csvformat import Format, data_line_numbers, lines_of, read_options, records
from .values import to_python

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


# --- why a CSV file did not load (line numbers and the fix) -----------------------------------


def duplicate_keys(index: pd.Index, key: str, name: str, path: str, fmt: Format) -> TableError:
    positions = np.flatnonzero(index.duplicated(keep=False))
    numbers = line_numbers(path, fmt, positions)
    groups: dict[Any, list[int]] = {}
    for pos, line in zip(positions, numbers, strict=True):
        groups.setdefault(to_python(index[pos]), []).append(line)
    shown = "; ".join(f"{k!r} on lines {', '.join(map(str, v))}" for k, v in list(groups.items())[:10])
    more = f" (and {len(groups) - 10} more keys)" if len(groups) > 10 else ""
    return TableError(
        f"{name}: the key column {key!r} has duplicate keys: {shown}{more}.",
        hint=f"Each {key} must appear once: remove or renumber the extra rows and save "
             "(or pick another key column).",
    )


def line_numbers(path: str, fmt: Format, positions: Any) -> list[int]:
    """File line numbers of data rows at ``positions``."""
    numbers = data_line_numbers(_text(path, fmt), fmt)
    return [numbers[p] if p < len(numbers) else p + 2 for p in positions]


def _text(path: str, fmt: Format) -> str:
    with open(path, "rb") as f:
        return f.read().decode(fmt.encoding, errors="replace")


def read_failure(exc: Exception, path: str, name: str, fmt: Format, options: Mapping[str, Any]) -> TableError:
    """A read_csv failure as a TableError with line numbers and the fix."""
    message = str(exc)
    if isinstance(exc, pd.errors.EmptyDataError):
        return TableError(f"{name}: the file is empty, not even a header line.",
                          hint="If it is being saved, try again in a moment; otherwise write the "
                               "header line (the column names) and save.")
    if isinstance(exc, UnicodeDecodeError):
        return _not_encoded(path, name, fmt)
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if fields:
        want, record, saw = (int(g) for g in fields.groups())
        line = _record_line(path, fmt, record - 1)
        return bad_lines(name, f"{saw} fields where the header has {want}", [line],
                         fix=f"A value containing {fmt.delimiter!r} must be in double quotes "
                             f"(\"Ghent{fmt.delimiter} Belgium\"); otherwise remove the extra "
                             f"{fmt.delimiter!r}. {SAVE_HINT}")
    unclosed = re.search(r"EOF inside string starting at row (\d+)", message)
    if unclosed:
        line = _record_line(path, fmt, int(unclosed.group(1)))
        return bad_lines(name, "a quote (\") that is never closed starts", [line],
                         fix=f"Close the quote, or write a quote inside a value as two (\"\"). {SAVE_HINT}")
    if isinstance(exc, ValueError) and options.get("dtype"):
        return _bad_values(exc, path, name, fmt, options)
    return TableError(f"{name}: pandas could not read the file: {type(exc).__name__}: {exc}",
                      hint=f"Check the read_csv options passed to Table. {SAVE_HINT}")


def _record_line(path: str, fmt: Format, record: int) -> int:
    """The line where record ``record`` (0 = header) starts."""
    found = records(lines_of(_text(path, fmt)), fmt)
    return found[record][0] + 1 if record < len(found) else record + 1


def extra_fields(path: str, name: str, fmt: Format) -> TableError:
    found = records(lines_of(_text(path, fmt)), fmt)
    width = len(found[0][2]) if found else 0
    lines = [start + 1 for start, _, fields in found[1:] if len(fields) > width]
    return bad_lines(name, f"more fields than the {width} of the header", lines or [2],
                     fix=f"Remove the extra {fmt.delimiter!r} (or quote the value that contains it) "
                         f"and save. {SAVE_HINT}")


def _not_encoded(path: str, name: str, fmt: Format) -> TableError:
    with open(path, "rb") as f:
        raw = f.read()
    try:
        raw.decode(fmt.encoding)
        line = 0
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
    return TableError(
        f"{name}: the file is not {fmt.encoding} text" + (f" (first bad byte on line {line})." if line
                                                          else "."),
        hint="In Excel save it as 'CSV UTF-8 (comma delimited)', or pass the file's encoding, "
             "e.g. Table(path, encoding='cp1252') for Excel's plain 'CSV' on Windows.",
    )


def _bad_values(exc: Exception, path: str, name: str, fmt: Format,
                options: Mapping[str, Any]) -> TableError:
    dtypes = options["dtype"] if isinstance(options["dtype"], Mapping) else {}
    plain = {k: v for k, v in read_options(fmt, options).items() if k not in ("dtype", "converters")}
    try:
        with open(path, "rb") as f:
            text = pd.read_csv(f, **plain, dtype=str)
    except Exception:
        text = None
    for column, dtype in dtypes.items():
        if text is None or column not in text or not pd.api.types.is_numeric_dtype(np.dtype(dtype)):
            continue
        values = text[column]
        bad = np.flatnonzero(pd.to_numeric(values, errors="coerce").isna() & values.notna())
        if len(bad):
            return bad_lines(name, f"column {column!r} holds text where {np.dtype(dtype).name} is expected "
                             f"({values.iloc[bad[0]]!r})", line_numbers(path, fmt, bad))
    return TableError(f"{name}: a value does not fit the dtype passed to Table: {exc}",
                      hint=f"Correct the value or the dtype option. {SAVE_HINT}")
