"""Turn what analysts' handlers return (numpy and pandas values included) into plain JSON values."""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from collections.abc import Mapping
from typing import Any

from .errors import ReplyError, article

_PLAIN = frozenset({str, int, bool, type(None)})


def to_jsonable(value: Any, where: str = "reply") -> Any:
    """Convert ``value`` to plain JSON types, recursively.

    numpy scalars become Python numbers, NaN / NaT / None become ``null``, timestamps and dates
    ISO strings, arrays and Series lists. Anything else raises :class:`ReplyError` naming where it was.
    """
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {str(k): to_jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if kind is list:
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if kind is float:
        return None if math.isnan(value) or math.isinf(value) else value
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return None if type(value).__name__ == "NaTType" else value.isoformat()
    if isinstance(value, decimal.Decimal):
        return to_jsonable(float(value), where)
    return _from_library(value, where)


def _from_library(value: Any, where: str) -> Any:
    module = type(value).__module__.split(".")[0]
    if module in ("numpy", "pandas"):
        if type(value).__name__ == "NaTType" or _is_na(value):
            return None
        if hasattr(value, "isoformat"):  # pandas Timestamp / Timedelta
            return value.isoformat()
        if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas Series / Index
            return to_jsonable(value.tolist(), where)
        if hasattr(value, "item"):
            return to_jsonable(value.item(), where)
    if isinstance(value, set | frozenset):
        return to_jsonable(sorted(value, key=repr), where)
    raise ReplyError(
        f"{where} holds {article(type(value).__name__)} ({value!r:.60}), which cannot be sent as JSON.",
        hint="Convert it to str, int, float, bool, list or dict before returning it.",
    )


def _is_na(value: Any) -> bool:
    import pandas as pd

    try:
        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return result is True or (getattr(result, "ndim", 1) == 0 and bool(result))
