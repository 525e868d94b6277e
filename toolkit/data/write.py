"""The text of a write: a checked row, a record appended to the bytes, a record replaced or removed.

Only the record that changes is rewritten: every other byte of the file (quoting, number
formats, line ends, the BOM) stays exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import TableError
from .csvformat import (
    SNIFF_BYTES,
    Format,
    format_record,
    iter_records,
    lines_of,
    quote,
    raw_fields,
    records,
)
from .hints import quoted_list, unknown_column
from .values import coerce, to_text


def kinds(known: Mapping[str, str], header: list[str]) -> dict[str, str]:
    """The kind of each header column (text for a column the frame does not have yet)."""
    return {c: known.get(c, "text") for c in header}


def check_row(values: Mapping[Any, Any], header: list[str], column_kinds: Mapping[str, str],
              table: str, decimal: str) -> dict[str, Any]:
    """``values`` checked against the header and the column kinds."""
    unknown = [c for c in values if c not in column_kinds]
    if unknown:
        if len(unknown) == 1:
            raise unknown_column(str(unknown[0]), header, table)
        raise TableError(f"{table} has no columns {quoted_list(unknown)}. Its columns are: "
                         f"{', '.join(header)}.",
                         hint="Use the column names of the CSV header (case-sensitive), or add the "
                              "columns to the header.")
    return {c: coerce(v, column_kinds[c], c, table, decimal) for c, v in values.items()}


def header_of(raw: bytes, fmt: Format) -> list[str]:
    """The column names in the file's first record."""
    head = raw[:SNIFF_BYTES].decode(fmt.encoding, errors="replace")
    for _, _, fields in iter_records(lines_of(head), fmt):
        return fields
    raise TableError("The file has no header line, so there is nothing to add a row to.",
                     hint="Write the header line (the column names) first, then save.")


def record_bytes(row: Mapping[str, Any], header: list[str], fmt: Format,
                 guard_formulas: bool = True) -> bytes:
    """One new record, encoded, in the file's format."""
    record = format_record((to_text(row.get(c), fmt.decimal, guard_formulas) for c in header), fmt)
    return record.encode(fmt.body_encoding)


def appended(raw: bytes, new: list[bytes], fmt: Format) -> bytes:
    """The file's bytes with new records at the end (after a line end, if the file lacks one)."""
    end = fmt.newline.encode(fmt.body_encoding) if raw and not raw.endswith((b"\n", b"\r")) else b""
    return raw + end + b"".join(new)


PAGE = 4096


def records_of(raw: bytes, fmt: Format, rows: int, table: str,
               guard_formulas: bool = True) -> Records | Lines:
    """The records of ``raw``: by line ends found with numpy when one line is one record (the usual
    case, fast on big files), else parsed with the csv module."""
    ends = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10)
    lines = len(ends) + (0 if raw.endswith(b"\n") else 1)
    if lines == rows + 1 and fmt.encoding.replace("_", "-").lower() in ASCII_SAFE:
        return Lines(raw, fmt, ends, guard_formulas)
    return Records(raw, fmt, rows, table, guard_formulas)


ASCII_SAFE = ("utf-8", "utf-8-sig", "utf8", "cp1252", "latin-1", "latin1", "iso-8859-1", "iso-8859-15",
              "ascii")


class Lines:
    """A file where each line is one record (header first), split by byte offsets: no decoding of
    the whole file, so changing one row costs about one copy of the bytes."""

    def __init__(self, raw: bytes, fmt: Format, ends: np.ndarray, guard_formulas: bool) -> None:
        self.raw, self.fmt, self.guard_formulas = raw, fmt, guard_formulas
        self.starts = np.concatenate(([0], ends + 1))
        self.ends = np.concatenate((ends + 1, [len(raw)]))
        found = records(lines_of(raw[: self.ends[0]].decode(fmt.encoding)), fmt)
        self.header = found[0][2] if found else []

    def _span(self, position: int) -> tuple[int, int]:
        return int(self.starts[position + 1]), int(self.ends[position + 1])

    def replaced(self, position: int, changes: Mapping[str, Any]) -> bytes:
        """The file with the given cells of row ``position`` rewritten (other cells untouched)."""
        start, end = self._span(position)
        text = self.raw[start:end].decode(self.fmt.body_encoding)
        record = _changed_record(text, self.header, changes, self.fmt, self.guard_formulas)
        return self.raw[:start] + record.encode(self.fmt.body_encoding) + self.raw[end:]

    def removed(self, position: int) -> bytes:
        """The file without row ``position``."""
        start, end = self._span(position)
        return self.raw[:start] + self.raw[end:]


def _changed_record(text: str, header: list[str], changes: Mapping[str, Any], fmt: Format,
                    guard_formulas: bool) -> str:
    """One record's text with some cells rewritten; the others keep their exact text."""
    body = text.rstrip("\r\n")
    fields = raw_fields(body, fmt.delimiter, fmt.quotechar)
    fields += [""] * (len(header) - len(fields))
    for column, value in changes.items():
        cell, numeric = to_text(value, fmt.decimal, guard_formulas)
        fields[header.index(column)] = quote(cell, numeric, fmt)
    return fmt.delimiter.join(fields) + text[len(body):]


class Records:
    """The decoded file split into records, to replace or remove data row ``position``."""

    def __init__(self, raw: bytes, fmt: Format, rows: int, table: str, guard_formulas: bool = True) -> None:
        self.fmt = fmt
        self.guard_formulas = guard_formulas
        self.lines = lines_of(raw.decode(fmt.encoding))
        found = records(self.lines, fmt)
        self.header = found[0][2] if found else []
        self.spans = [(start, end) for start, end, _ in found[1:]]
        if len(self.spans) != rows:
            raise TableError(
                f"Cannot change {table} safely: pandas reads {rows} rows but the file has "
                f"{len(self.spans)} records (read_csv options such as skiprows or comment?).",
                hint="Write to a plain CSV read without options that skip lines, or change the "
                     "frame and save it yourself with df.to_csv().",
            )

    def replaced(self, position: int, changes: Mapping[str, Any]) -> bytes:
        """The file with the given cells of row ``position`` rewritten (other cells untouched)."""
        start, end = self.spans[position]
        text = "".join(self.lines[start:end])
        record = _changed_record(text, self.header, changes, self.fmt, self.guard_formulas)
        return self._joined(self.lines[:start] + [record] + self.lines[end:])

    def removed(self, position: int) -> bytes:
        """The file without row ``position``."""
        start, end = self.spans[position]
        return self._joined(self.lines[:start] + self.lines[end:])

    def _joined(self, lines: list[str]) -> bytes:
        return "".join(lines).encode(self.fmt.encoding)
