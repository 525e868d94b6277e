"""Cell values: what kind a column holds, checking a value written to it, and its text in the file.

Values read from a table come back as plain Python (``int``, ``float``, ``str``, ``bool``,
``None`` for an empty cell); values written are checked against the column's kind first.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TableError

KINDS = {"int": "whole numbers", "float": "numbers", "bool": "True/False values",
         "datetime": "dates", "text": "text"}
EXAMPLES = {"int": "3", "float": "12.5", "bool": "True", "datetime": "'2025-01-31'", "text": "'Ghent'"}
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")

# Formula injection (OWASP "CSV Injection"): a text cell starting with one of these is run as a
# formula by Excel / LibreOffice / Sheets, so it is written with a leading single quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_SIGNED = re.compile(r"[+-][0-9 .,()/-]*")  # +32 470 12 34 56, -5, -3,5: digits, no letters
_GUARDED = re.compile(r"'+[=+\-@\t\r]")  # what reading strips one quote from


def guard(text: str) -> str:
    """``text`` as a cell that no spreadsheet runs as a formula.

    A leading ``'`` is added to text starting with ``=`` ``@`` tab or CR, and to text starting
    with ``+`` or ``-`` unless only digits, spaces and ``.,()/-`` follow (phone numbers, negative
    numbers stay as typed). Text that already starts with quotes before one of those characters
    gets one more quote, so that :func:`unguard` gives back exactly what was written.
    """
    if not text or (text[0] not in FORMULA_START and text[0] != "'"):
        return text
    bare = text.lstrip("'")
    if not bare or bare[0] not in FORMULA_START:
        return text
    if bare is text and bare[0] in "+-" and _PLAIN_SIGNED.fullmatch(bare):
        return text
    return "'" + text


def unguard(text: str) -> str:
    """The value :func:`guard` was given: one leading quote removed before a formula character."""
    return text[1:] if _GUARDED.match(text) else text


def unguard_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with :func:`unguard` applied to its text columns (in place; only where needed)."""
    for column in df.columns:
        values = df[column]
        if kind_of(values.dtype) != "text":
            continue
        try:
            quoted = values.str.startswith("'", na=False)
        except AttributeError:  # no text in this column
            continue
        if quoted.any():
            df[column] = values.where(~quoted, values[quoted].map(unguard))
    return df


def kind_of(dtype: Any) -> str:
    """The kind of a pandas dtype: int, float, bool, datetime or text."""
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "text"


def is_missing(value: Any) -> bool:
    """None, NaN, NaT and pd.NA."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def to_python(value: Any) -> Any:
    """A cell as a plain Python value (numpy scalars unwrapped, missing as None)."""
    if is_missing(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def from_database(value: Any) -> Any:
    """A value a database driver returned, as plain Python (a ``Decimal`` as a float)."""
    value = to_python(value)
    return float(value) if isinstance(value, Decimal) else value


INT64 = 2**63


def storable(row: dict[str, Any], table: str) -> dict[str, Any]:
    """``row`` (checked) when SQLite and PostgreSQL can both store each value; otherwise a
    TableError answering 400 that names the column and the fix (never a database error, a 503).

    >>> storable({"name": "Ann", "n": 2**70}, "leads")
    Traceback (most recent call last):
    toolkit.errors.TableError: Column 'n' of leads got a whole number beyond 64 bits.
      Fix: Fix the value: store it as text, or check where it comes from.
    """
    for column, value in row.items():
        problem = ""
        if isinstance(value, str) and "\x00" in value:
            problem, fix = "text with a NUL character (\\x00), which a database cannot store", \
                "remove it first, e.g. value.replace('\\x00', '')"
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                problem, fix = (f"text that is not valid Unicode ({value[exc.start]!r} at position "
                                f"{exc.start})", "decode the text it came from correctly, or drop it")
        elif isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
            problem, fix = "a whole number beyond 64 bits", "store it as text, or check where it comes from"
        if problem:
            raise TableError(f"Column {column!r} of {table} got {problem}.", hint=f"Fix the value: {fix}.",
                             status=400)
    return row


def coerce(value: Any, kind: str, column: str, table: str, decimal: str = ".") -> Any:
    """``value`` checked and converted for a column of ``kind``; a clear error when it does not fit."""
    if isinstance(value, np.generic):
        value = value.item()
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return _CONVERT[kind](value, decimal)
    except (TypeError, ValueError, OverflowError):
        pass
    raise TableError(
        f"Column {column!r} of {table} holds {KINDS[kind]}, got {value!r} ({type(value).__name__}).",
        hint=f"Pass a value like {EXAMPLES[kind]} (or None to leave the cell empty).",
    )


def _int(value: Any, decimal: str) -> int:
    if isinstance(value, bool):
        raise TypeError("bool")
    if isinstance(value, int):
        return value
    number = _float(value, decimal)
    if not number.is_integer():
        raise ValueError("not whole")
    return int(number)


def _float(value: Any, decimal: str) -> float:
    if isinstance(value, bool):
        raise TypeError("bool")
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        return float(text.replace(decimal, ".") if decimal != "." else text)
    raise TypeError(type(value).__name__)


def _bool(value: Any, decimal: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise ValueError("not a bool")


def _datetime(value: Any, decimal: str) -> pd.Timestamp:
    if isinstance(value, str | dt.date | dt.datetime | pd.Timestamp):
        stamp = pd.Timestamp(value)
        if not is_missing(stamp):
            return stamp
    raise ValueError("not a date")


def _text(value: Any, decimal: str) -> Any:
    if isinstance(value, str | int | float | Decimal | dt.date | dt.time | pd.Timestamp):
        return value
    raise TypeError(type(value).__name__)


_CONVERT = {"int": _int, "float": _float, "bool": _bool, "datetime": _datetime, "text": _text}


def to_text(value: Any, decimal: str = ".", guard_formulas: bool = True) -> tuple[str, bool]:
    """A checked value as the file writes it, and whether it is a number (for quoting).

    Text is guarded against formula injection (:func:`guard`) unless ``guard_formulas`` is False.
    """
    if value is None:
        return "", False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float | Decimal):
        text = repr(float(value)) if isinstance(value, float) else str(value)
        text = text[:-2] if text.endswith(".0") else text
        return (text.replace(".", decimal) if decimal != "." else text), True
    if isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        if stamp == stamp.normalize() and stamp.tz is None:
            return stamp.date().isoformat(), False
        return stamp.isoformat(sep=" "), False
    if isinstance(value, dt.date | dt.time):
        return value.isoformat(), False
    return (guard(str(value)) if guard_formulas else str(value)), False


def readback(value: Any, kind: str) -> Any:
    """A checked value as reading the file back gives it (``5`` in a text column is ``'5'``)."""
    if value is None:
        return None
    if kind == "text":
        return to_text(value, guard_formulas=False)[0]
    if kind == "float":
        return float(value)
    if kind == "datetime":
        return pd.Timestamp(value)
    return value


def readback_rows(rows: list[dict[str, Any]], kinds: dict[str, str]) -> list[dict[str, Any]]:
    """:func:`readback` of every cell of ``rows``."""
    return [{c: readback(v, kinds.get(c, "text")) for c, v in row.items()} for row in rows]
