"""How a CSV file is written: encoding, delimiter, quoting, line ends, decimal mark.

Sniffed from the first bytes of the file, so a write puts back what Excel (or the analyst) used.
Also: records and their line numbers, formatting a record, and the atomic write.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

BOM = b"\xef\xbb\xbf"
SNIFF_BYTES = 65536  # read to find the header
SAMPLE_BYTES, SAMPLE_LINES = 8192, 20  # looked at to find the format
DELIMITERS = (",", ";", "\t", "|")
_COMMA_DECIMAL = re.compile(r"^-?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^-?\d+\.\d+$")
_NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")


@dataclass(frozen=True)
class Format:
    """The shape of one CSV file. ``encoding`` decodes the whole file (``utf-8-sig`` when it has a BOM)."""

    encoding: str = "utf-8"
    delimiter: str = ","
    quotechar: str = '"'
    quoting: str = "minimal"  # "minimal", "all" or "nonnumeric"
    newline: str = "\n"
    decimal: str = "."

    @property
    def body_encoding(self) -> str:
        """The codec for text added after the start of the file (no second BOM)."""
        return "utf-8" if self.encoding == "utf-8-sig" else self.encoding


def sniff(head: bytes, options: Mapping[str, Any]) -> Format:
    """The format of a file from its first bytes; ``options`` (read_csv's) win where given."""
    given = tuple(str(options.get(k) or "") for k in ("encoding", "sep", "delimiter", "quotechar", "decimal"))
    return _sniff(head[:SAMPLE_BYTES], given)


@functools.lru_cache(maxsize=64)
def _sniff(head: bytes, given: tuple[str, ...]) -> Format:
    options = dict(zip(("encoding", "sep", "delimiter", "quotechar", "decimal"), given, strict=True))
    encoding = options.get("encoding") or ("utf-8-sig" if head.startswith(BOM) else "utf-8")
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8") and head.startswith(BOM):
        encoding = "utf-8-sig"
    text = head.decode(encoding, errors="replace")
    quotechar = options.get("quotechar") or '"'
    lines = io.StringIO(text, newline="").readlines()[:SAMPLE_LINES]
    first = lines[0] if lines else ""
    delimiter = options.get("sep") or options.get("delimiter") or _delimiter(first, quotechar)
    newline = "\r\n" if first.endswith("\r\n") else "\n"
    sample = [raw_fields(line.rstrip("\r\n"), delimiter, quotechar) for line in lines if line.strip()]
    decimal = options.get("decimal") or _decimal(sample, delimiter, quotechar)
    return Format(encoding, delimiter, quotechar, _quoting(sample, quotechar), newline, decimal)


def _delimiter(header: str, quotechar: str) -> str:
    outside = re.sub(re.escape(quotechar) + ".*?" + re.escape(quotechar), "", header)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _decimal(sample: list[list[str]], delimiter: str, quotechar: str) -> str:
    """A decimal comma only for semicolon files whose numbers are written like ``12,50``."""
    if delimiter != ";":
        return "."
    values = [f.strip(quotechar) for row in sample[1:] for f in row]
    comma = any(_COMMA_DECIMAL.match(v) for v in values)
    return "," if comma and not any(_DOT_DECIMAL.match(v) for v in values) else "."


def _quoting(sample: list[list[str]], quotechar: str) -> str:
    fields = [f for row in sample for f in row]
    if not fields:
        return "minimal"

    def quoted(f: str) -> bool:
        return len(f) >= 2 and f[0] == quotechar and f[-1] == quotechar

    if all(quoted(f) for f in fields):
        return "all"
    data = [f for row in sample[1:] for f in row if f]
    text = [f for f in data if not _NUMBER.match(f)]
    numbers = [f for f in data if _NUMBER.match(f)]
    if sample and all(quoted(f) for f in sample[0]) and text and numbers and all(quoted(f) for f in text):
        return "nonnumeric"
    return "minimal"


def raw_fields(line: str, delimiter: str, quotechar: str) -> list[str]:
    """The fields of one physical line exactly as written (quotes kept)."""
    fields, start, inside = [], 0, False
    for i, ch in enumerate(line):
        if ch == quotechar:
            inside = not inside
        elif ch == delimiter and not inside:
            fields.append(line[start:i])
            start = i + 1
    fields.append(line[start:])
    return fields


def lines_of(text: str) -> list[str]:
    """Physical lines with their ends, split the way the csv module reads them."""
    return io.StringIO(text, newline="").readlines()


def records(lines: list[str], fmt: Format) -> list[tuple[int, int, list[str]]]:
    """Each non-blank record as (first line index, end line index, fields); the header is first."""
    return list(iter_records(lines, fmt))


def iter_records(lines: list[str], fmt: Format) -> Iterator[tuple[int, int, list[str]]]:
    """:func:`records`, one at a time."""
    reader = csv.reader(iter(lines), delimiter=fmt.delimiter, quotechar=fmt.quotechar, strict=False)
    start = 0
    while True:
        try:
            fields = next(reader)
        except (StopIteration, csv.Error):  # csv.Error: an unclosed quote at the very end
            return
        end = reader.line_num
        if fields and any(f.strip() for f in fields):
            yield start, end, fields
        start = end


def data_line_numbers(text: str, fmt: Format) -> list[int]:
    """The 1-based line where each data row starts (rows as pandas counts them, header excluded)."""
    return [start + 1 for start, _, _ in records(lines_of(text), fmt)[1:]]


def quote(text: str, numeric: bool, fmt: Format) -> str:
    """One field as the file writes it."""
    q = fmt.quotechar
    needs = (fmt.quoting == "all" or (fmt.quoting == "nonnumeric" and not numeric)
             or any(c in text for c in (fmt.delimiter, q, "\n", "\r")))
    return q + text.replace(q, q + q) + q if needs else text


def format_record(cells: Iterable[tuple[str, bool]], fmt: Format) -> str:
    """A record from (text, is_numeric) cells, ending with the file's line end."""
    return fmt.delimiter.join(quote(t, n, fmt) for t, n in cells) + fmt.newline


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
