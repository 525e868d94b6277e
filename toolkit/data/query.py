"""Row queries on a frame: equality (``find``), word search (``search``) and distance (``nearest``).

Text compares ignoring case and surrounding spaces, because values often come straight from what
a user typed in the chat.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TableError
from .hints import unknown_column
from .values import coerce, kind_of

EARTH_RADIUS_KM = 6371.0088


def find(df: pd.DataFrame, equals: Mapping[str, Any], table: str) -> pd.DataFrame:
    """Rows where every column equals its value (a list, tuple or set means "any of these")."""
    mask = np.ones(len(df), dtype=bool)
    for column, wanted in equals.items():
        _check_columns([column], df, table)
        mask &= _matches(df[column], wanted, column, table)
    return df[mask]


def _matches(series: pd.Series, wanted: Any, column: str, table: str) -> np.ndarray:
    if isinstance(wanted, list | tuple | set | frozenset):
        mask = np.zeros(len(series), dtype=bool)
        for one in wanted:
            mask |= _matches(series, one, column, table)
        return mask
    kind = kind_of(series.dtype)
    if wanted is None:
        return series.isna().to_numpy(dtype=bool)
    if kind == "text":
        target = str(wanted).strip().casefold()
        return np.fromiter((isinstance(v, str) and v.strip().casefold() == target for v in series),
                           dtype=bool, count=len(series))
    value = coerce(wanted, kind, column, table)
    return series.eq(value).fillna(False).to_numpy(dtype=bool)


def search(df: pd.DataFrame, text: str, columns: str | Iterable[str] | None, table: str) -> pd.DataFrame:
    """Rows where every word of ``text`` appears (ignoring case) in at least one of ``columns``.

    ``columns`` defaults to the text columns. Text without any word finds nothing.
    """
    if columns is None:
        chosen = [c for c in df.columns if kind_of(df[c].dtype) == "text"]
    else:
        chosen = [columns] if isinstance(columns, str) else list(columns)
        _check_columns(chosen, df, table)
    words = re.findall(r"\w+", str(text).casefold())
    if not words or not chosen:
        return df.iloc[0:0]
    texts = [df[c].astype("string").str.casefold() for c in chosen]
    mask = np.ones(len(df), dtype=bool)
    for word in words:
        hit = np.zeros(len(df), dtype=bool)
        for values in texts:
            hit |= values.str.contains(word, regex=False).fillna(False).to_numpy(dtype=bool)
        mask &= hit
    return df[mask]


def nearest(df: pd.DataFrame, lat: Any, lon: Any, lat_col: str, lon_col: str, n: int,
            table: str) -> pd.DataFrame:
    """The ``n`` rows closest to (lat, lon), nearest first, with a ``distance_km`` column."""
    _check_columns([lat_col, lon_col], df, table)
    here_lat = _coordinate(lat, "lat", 90, table)
    here_lon = _coordinate(lon, "lon", 180, table)
    lats = pd.to_numeric(df[lat_col], errors="coerce").to_numpy(dtype=float)
    lons = pd.to_numeric(df[lon_col], errors="coerce").to_numpy(dtype=float)
    distance = haversine_km(here_lat, here_lon, lats, lons)
    known = np.flatnonzero(~np.isnan(distance))
    order = known[np.argsort(distance[known], kind="stable")][: max(int(n), 0)]
    return df.iloc[order].assign(distance_km=np.round(distance[order], 3))


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in km between points in degrees (numbers or numpy arrays)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _coordinate(value: Any, what: str, limit: float, table: str) -> float:
    try:
        number = float(value.strip().replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not -limit <= number <= limit:
        raise TableError(
            f"nearest() on {table} needs a {what} between -{limit:g} and {limit:g}, got {value!r}.",
            hint="Pass decimal degrees, e.g. nearest(51.05, 3.72) for Ghent (the location quick "
                 "reply sends them).",
        )
    return number


def _check_columns(columns: Iterable[str], df: pd.DataFrame, table: str) -> None:
    names = [str(c) for c in df.columns]
    for column in columns:
        if column not in df.columns:
            raise unknown_column(column, names, table)
