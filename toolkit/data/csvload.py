"""Loading one version of a CSV file into a :class:`State` (why a load failed: :mod:`.hints`).

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
    iter_records,
    lines_of,
    raw_fields,
    read_options,
    sniff,
)
from .hints import (
    SAVE_HINT,
    bad_lines,
    duplicate_keys,
    extra_fields,
    line_numbers,
    missing_file,
    read_failure,
    unknown_column,
)
from .state import Signature, State
from .values import unguard_frame


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
            raise read_failure(exc, path, name, fmt, options) from exc
        if read is None:
            raise TableError(f"{name}: the file changed during each of {READ_ATTEMPTS} reads.",
                             hint="Another program keeps writing it; try again when it is done.")
        df, sig = read
        header = header_fields(head, fmt)
        check_complete(f, fmt, name, len(header))
        guarded = guard_formulas and _has_guarded(f)
    if "index_col" not in options and not _plain_index(df.index):
        raise extra_fields(path, name, fmt)
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


def check_key(df: pd.DataFrame, key: str, name: str, path: str, fmt: Format) -> pd.Index:
    """The hashed key index; errors for a missing key column, empty keys and duplicate keys."""
    if key not in df.columns:
        raise unknown_column(key, [str(c) for c in df.columns], name, what="key column")
    index = pd.Index(df[key])
    if index.hasnans:
        lines = line_numbers(path, fmt, np.flatnonzero(index.isna()))
        raise bad_lines(name, f"the key column {key!r} is empty", lines,
                        fix=f"Give every row a {key}, or delete the unfinished row, and save.")
    if not index.is_unique:
        raise duplicate_keys(index, key, name, path, fmt)
    return index
