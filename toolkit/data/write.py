"""The text of a write: a checked row, a record appended to the bytes, a record replaced or removed.

Only the record that changes is rewritten: every other byte of the file (quoting, number
formats, line ends, the BOM) stays exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from .errors import quoted_list, unknown_column
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
        body = text.rstrip("\r\n")
        fields = raw_fields(body, self.fmt.delimiter, self.fmt.quotechar)
        fields += [""] * (len(self.header) - len(fields))
        for column, value in changes.items():
            cell, numeric = to_text(value, self.fmt.decimal, self.guard_formulas)
            fields[self.header.index(column)] = quote(cell, numeric, self.fmt)
        record = self.fmt.delimiter.join(fields) + text[len(body):]
        return self._joined(self.lines[:start] + [record] + self.lines[end:])

    def removed(self, position: int) -> bytes:
        """The file without row ``position``."""
        start, end = self.spans[position]
        return self._joined(self.lines[:start] + self.lines[end:])

    def _joined(self, lines: list[str]) -> bytes:
        return "".join(lines).encode(self.fmt.encoding)
