"""Loading one version of a CSV file into a :class:`State`, and explaining why a load failed.

Loading is ``pandas.read_csv`` plus a cheap key check (a hashed ``pd.Index``), so it costs about
what ``read_csv`` costs. Line numbers are only worked out when something is wrong.
"""

from __future__ import annotations

import io
import mmap
import os
import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from ..errors import TableError
from .csvformat import (
    SNIFF_BYTES,
    Format,
    data_line_numbers,
    iter_records,
    lines_of,
    raw_fields,
    records,
    sniff,
)
from .hints import SAVE_HINT, bad_lines, missing_file, unknown_column
from .state import Signature, State
from .values import to_python, unguard_frame


def signature(st: os.stat_result) -> Signature:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def read_bytes(path: str) -> tuple[bytes, Signature]:
    """The whole file and the signature of exactly that version."""
    try:
        with open(path, "rb") as f:
            return f.read(), signature(os.fstat(f.fileno()))
    except FileNotFoundError:
        raise missing_file(Path(path)) from None
    except OSError as exc:
        raise _unreadable(path, exc) from exc


def _unreadable(path: str, exc: OSError) -> TableError:
    return TableError(f"Cannot read {path}: {exc.strerror or exc}.",
                      hint="Check that the path is a file you may read (not a folder), and that no "
                           "other program locks it.")


def load(path: str, name: str, key: str | None, options: Mapping[str, Any], generation: int,
         source: tuple[bytes, Signature] | None = None, guard_formulas: bool = True,
         lock: AbstractContextManager[Any] | None = None) -> State:
    """Read ``path`` (or ``source``: its bytes and signature, already read) and check the key column.

    A file whose last row is cut off (see :func:`check_complete`) is refused like a bad row. The
    state's signature is the one of exactly the bytes read (see :func:`_read_csv`); ``lock`` (the
    file's write lock) is taken only if writes land during every lock-free read.

    Raises:
        TableError: the file is missing, unreadable or not a valid table (the message says why).
    """
    f: IO[bytes]
    try:
        f = io.BytesIO(source[0]) if source is not None else open(path, "rb")
    except FileNotFoundError:
        raise missing_file(Path(path)) from None
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    with f:
        sig = source[1] if source is not None else signature(os.fstat(f.fileno()))
        head = f.read(SNIFF_BYTES)
        fmt = sniff(head, options)
        f.seek(0)
        try:
            read = _read_csv(path if source is None else None, f, sig, read_options(fmt, options), lock)
        except Exception as exc:
            raise explain(exc, path, name, fmt, options) from exc
        if read is None:
            raise TableError(f"{name}: the file changed during each of {READ_ATTEMPTS} reads.",
                             hint="Another program keeps writing it; try again when it is done.")
        df, sig = read
        header = header_fields(head, fmt)
        check_complete(f, fmt, name, len(header))
        guarded = guard_formulas and _has_guarded(f)
    if "index_col" not in options and not _plain_index(df.index):
        raise _extra_fields(path, name, fmt)
    if guarded:
        unguard_frame(df)
    index = check_key(df, key, name, path, fmt) if key is not None else None
    return State(df, index, sig, generation, fmt, header, key=key)


READ_ATTEMPTS = 3


def _read_csv(path: str | None, f: IO[bytes], sig: Signature, options: dict[str, Any],
              lock: AbstractContextManager[Any] | None = None) -> tuple[pd.DataFrame, Signature] | None:
    """``read_csv`` of the file open as ``f`` (whose signature at opening was ``sig``), and the
    signature of exactly the bytes that were read.

    pandas reads a path a seventh faster than a Python file object, so the path is read when there
    is one, and kept only if the file is still version ``sig`` afterwards. Otherwise the file was
    written meanwhile: replaced (``f`` still reads the version opened, whole) or appended to in
    place (``f`` reads the new rows too). So ``f`` is read again between two looks at its
    signature, until both agree: the signature recorded is never older than the bytes (an older one
    made an append's in-memory update add its row a second time). When writes land during every
    attempt, ``f`` is read under ``lock`` (the write lock the toolkit's writers take); None when
    even that does not help (a program writing without the lock).
    """
    if isinstance(f, io.BytesIO):  # bytes already read, with their signature
        return pd.read_csv(f, **options), sig
    if path is not None:
        df = pd.read_csv(path, **options)
        try:
            if signature(os.stat(path)) == sig:
                return df, sig
        except OSError:
            pass
    for _ in range(READ_ATTEMPTS):
        before = signature(os.fstat(f.fileno()))
        f.seek(0)
        df = pd.read_csv(f, **options)
        after = signature(os.fstat(f.fileno()))
        if after == before:
            return df, after
    if lock is None:
        return None
    with lock:
        return _read_csv(None, f, sig, options)


_GUARDED_BYTES = re.compile(rb"'['=+\-@\t\r]")


def _has_guarded(f: IO[bytes]) -> bool:
    """Whether the file may hold a cell written with the formula guard (a fast byte scan, so the
    text columns are only looked at when one is there). The bytes are scanned where they are (the
    page cache, through a memory map), never copied: a tenth of the time of reading them again."""
    if isinstance(f, io.BytesIO):
        return _guard_in(f.getvalue())
    try:
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return _guard_in(mapped)
    except (ValueError, OSError):  # an empty file, or one that cannot be mapped: read it
        f.seek(0)
        return _guard_in(f.read())


def _guard_in(data: Any) -> bool:
    """``'`` then a guarded character, looked for only when the data holds a ``'`` at all."""
    return data.find(b"'") >= 0 and _GUARDED_BYTES.search(data) is not None


def header_fields(head: bytes, fmt: Format) -> list[str]:
    """The fields of the file's first record (empty for an empty file)."""
    for _, _, fields in iter_records(lines_of(head.decode(fmt.encoding, errors="replace")), fmt):
        return fields
    return []


def check_complete(f: IO[bytes], fmt: Format, name: str, width: int) -> None:
    """Refuse a file cut off in the middle of its last row (a copy or an editor that died half-way).

    Cut off means: no line end after the last row, and fewer fields than the header (a quote that
    is never closed is refused by read_csv). A last row with every field and no line end is fine.
    """
    size = f.seek(0, io.SEEK_END)
    f.seek(max(0, size - SNIFF_BYTES))
    tail = f.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return
    last = tail.rsplit(b"\n", 1)[-1].decode(fmt.encoding, errors="replace")
    if b"\n" not in tail or last.count(fmt.quotechar) % 2:  # the header alone; or a multi-line value
        return  # (a quote never closed is refused by read_csv itself)
    fields = raw_fields(last, fmt.delimiter, fmt.quotechar)
    if len(fields) >= width:
        return
    f.seek(0)
    line = f.read().count(b"\n") + 1
    raise bad_lines(name, f"the last row is cut off ({len(fields)} of the {width} fields, and no line "
                          "end): the file looks saved half-way", [line],
                    fix="If a program is still writing the file, wait for it; otherwise complete or "
                        f"remove the last row and save. {SAVE_HINT}")


def _plain_index(index: pd.Index) -> bool:
    """True unless pandas took the first column as the index (rows with more fields than the header)."""
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def read_options(fmt: Format, options: Mapping[str, Any]) -> dict[str, Any]:
    """read_csv keywords: the caller's, plus the sniffed delimiter, encoding and decimal mark.

    Only an empty cell is missing (``NULL``, ``N/A``, ``None``, ``NA``, ``nan`` stay text) unless
    the caller passes ``keep_default_na``, ``na_values`` or ``na_filter`` (pandas' NA parsing).
    """
    opts = dict(options)
    opts["encoding"] = fmt.encoding
    if not {"keep_default_na", "na_values", "na_filter"} & set(opts):  # only an empty cell is missing
        opts.update(keep_default_na=False, na_values=[""])
    if "sep" not in opts and "delimiter" not in opts:
        opts["sep"] = fmt.delimiter
    if fmt.decimal != ".":
        opts.setdefault("decimal", fmt.decimal)
    return opts


def check_key(df: pd.DataFrame, key: str, name: str, path: str, fmt: Format) -> pd.Index:
    """The hashed key index; errors for a missing key column, empty keys and duplicate keys."""
    if key not in df.columns:
        raise unknown_column(key, [str(c) for c in df.columns], name, what="key column")
    index = pd.Index(df[key])
    if index.hasnans:
        lines = _lines(path, fmt, np.flatnonzero(index.isna()))
        raise bad_lines(name, f"the key column {key!r} is empty", lines,
                        fix=f"Give every row a {key}, or delete the unfinished row, and save.")
    if not index.is_unique:
        raise _duplicates(index, key, name, path, fmt)
    return index


def _duplicates(index: pd.Index, key: str, name: str, path: str, fmt: Format) -> TableError:
    positions = np.flatnonzero(index.duplicated(keep=False))
    numbers = _lines(path, fmt, positions)
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


def _lines(path: str, fmt: Format, positions: Any) -> list[int]:
    """File line numbers of data rows at ``positions``."""
    numbers = data_line_numbers(_text(path, fmt), fmt)
    return [numbers[p] if p < len(numbers) else p + 2 for p in positions]


def _text(path: str, fmt: Format) -> str:
    with open(path, "rb") as f:
        return f.read().decode(fmt.encoding, errors="replace")


def explain(exc: Exception, path: str, name: str, fmt: Format, options: Mapping[str, Any]) -> TableError:
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


def _extra_fields(path: str, name: str, fmt: Format) -> TableError:
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
                             f"({values.iloc[bad[0]]!r})", _lines(path, fmt, bad))
    return TableError(f"{name}: a value does not fit the dtype passed to Table: {exc}",
                      hint=f"Correct the value or the dtype option. {SAVE_HINT}")
