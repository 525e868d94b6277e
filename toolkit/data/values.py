"""Cell values: what kind a column holds, checking a value written to it, and its text in the file.

Values read from a table come back as plain Python (``int``, ``float``, ``str``, ``bool``,
``None`` for an empty cell); values written are checked against the column's kind first.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TableError

KINDS = {"int": "whole numbers", "float": "numbers", "bool": "True/False values",
         "datetime": "dates", "text": "text"}
EXAMPLES = {"int": "3", "float": "12.5", "bool": "True", "datetime": "'2025-01-31'", "text": "'Ghent'"}
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")


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


def to_text(value: Any, decimal: str = ".") -> tuple[str, bool]:
    """A checked value as the file writes it, and whether it is a number (for quoting)."""
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
    return str(value), False
