"""One version of a table in memory: the frame, its key index, and rows added since it was loaded.

Appending does not re-read the file nor copy the frame: new rows wait in ``added`` (with a small
index of their own) and are joined to the frame only when someone asks for ``df`` (or when many
have piled up). A lookup probes the big index, then the small one.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from . import lookup
from .csvformat import Format
from .values import kind_of, to_python

Signature = tuple[int, int, int]
MAX_ADDED = 2000  # rows kept aside before they are joined to the frame


@dataclass
class State:
    """One loaded version: ``base`` (the frame as read), ``added`` rows, where it came from."""

    base: pd.DataFrame
    base_index: pd.Index | None
    signature: Signature
    generation: int
    fmt: Format = field(default_factory=Format)
    header: list[str] = field(default_factory=list)  # the header's fields, as in the file
    added: tuple[dict[str, Any], ...] = ()
    key: str | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def version(self) -> str:
        return f"mtime:{self.signature[0]}"

    @property
    def df(self) -> pd.DataFrame:
        """The frame, with the added rows joined (once, then cached)."""
        if not self.added:
            return self.base
        with self._lock:
            if "df" not in self._cache:
                extra = pd.DataFrame(list(self.added), columns=self.base.columns)
                self._cache["df"] = pd.concat([self.base, _joinable(self.base, extra)], ignore_index=True)
            return self._cache["df"]

    @property
    def index(self) -> pd.Index | None:
        """The key index of every row (added rows included)."""
        if self.base_index is None or not self.added:
            return self.base_index
        with self._lock:
            if "index" not in self._cache:
                self._cache["index"] = self.base_index.append(self._added_index())
            return self._cache["index"]

    def __len__(self) -> int:
        return len(self.base) + len(self.added)

    def position(self, key: Any) -> int | None:
        """The row position of ``key`` (forgiving, see :func:`lookup.resolve`), or None."""
        return lookup.resolve(self.key_kind(), key, self.first, self.folded)

    def clash(self, key: Any) -> int | None:
        """The row a new ``key`` would clash with (see :func:`lookup.clashing`), or None."""
        return lookup.clashing(self.key_kind(), key, self.first)

    def key_kind(self) -> str:
        """The kind of the key column (worked out once per version)."""
        kind = self._cache.get("key_kind")
        if kind is None:
            assert self.base_index is not None
            kind = self._cache["key_kind"] = kind_of(self.base_index.dtype)
        return kind

    def first(self, wanted: list[Any]) -> int | None:
        """The position of the first key of ``wanted`` that a row has exactly, or None."""
        assert self.base_index is not None
        found = lookup.first_in(self.base_index, wanted)
        if found is None and self.added:
            extra = lookup.first_in(self._added_index(), wanted)
            found = None if extra is None else len(self.base) + extra
        return found

    def folded(self, text: str) -> list[Any]:
        """Up to two keys equal to ``text`` ignoring letter case: its case variants probed in the
        index when there are few, else the case-folded keys (worked out on the first such call,
        for a million keys a few tenths of a second, then kept through this process's writes)."""
        assert self.base_index is not None
        variants = lookup.case_variants(text)
        if variants is not None:  # a few hash probes (the usual short key)
            found = [self.base_index[h] for h in self.base_index.get_indexer(variants) if h >= 0]
            if self.added:
                added = self._added_index()
                found += [added[h] for h in added.get_indexer(variants) if h >= 0]
            return [to_python(k) for k in found[:2]]
        if "folded" not in self._cache:
            self._cache["folded"] = lookup.casefolded(self.base_index)
        found = lookup.folded_in(self._cache["folded"], self.base_index, text)
        if self.added:
            found += self._added_folded().get(text.casefold(), [])
        return found[:2]

    def _added_folded(self) -> dict[str, list[Any]]:
        """The added rows' keys by their case-folded text."""
        if "added_folded" not in self._cache:
            self._cache["added_folded"] = _by_folded({}, [row.get(self.key or "") for row in self.added])
        return self._cache["added_folded"]

    def _added_index(self) -> pd.Index:
        if "added_index" not in self._cache:
            keys = [row.get(self.key or "") for row in self.added]
            self._cache["added_index"] = pd.Index(keys, dtype=self.base_index.dtype
                                                  if self.base_index is not None and len(keys) else None)
        return self._cache["added_index"]

    def kinds(self) -> dict[str, str]:
        """The kind of each column (int, float, bool, datetime, text)."""
        if "kinds" not in self._cache:
            self._cache["kinds"] = {str(c): kind_of(t) for c, t in self.base.dtypes.items()}
        return self._cache["kinds"]

    def row(self, position: int) -> dict[str, Any]:
        """Row ``position`` as a dict of plain Python values."""
        if position >= len(self.base):
            return dict(self.added[position - len(self.base)])
        arrays = self._cache.get("arrays")
        if arrays is None:
            arrays = self._cache["arrays"] = [(str(c), self.base[c].array) for c in self.base.columns]
        return {name: to_python(values[position]) for name, values in arrays}

    # --- new versions after a write by this process ------------------------------------------

    def extended(self, rows: Sequence[Mapping[str, Any]], signature: Signature, generation: int) -> State:
        """This version plus ``rows`` (as they read back), now at ``signature``."""
        added = self.added + tuple(dict(r) for r in rows)
        new = replace(self, signature=signature, generation=generation, added=added, _cache={},
                      _lock=threading.Lock())
        for kept in ("kinds", "key_kind", "folded"):  # of the frame, which is the same
            if kept in self._cache:
                new._cache[kept] = self._cache[kept]
        if "added_folded" in self._cache:
            new._cache["added_folded"] = _by_folded(self._cache["added_folded"],
                                                    [r.get(self.key or "") for r in rows])
        return new.joined() if len(added) > MAX_ADDED else new

    def joined(self) -> State:
        """The same version with the added rows joined to the frame."""
        if not self.added:
            return self
        new = replace(self, base=self.df, base_index=self.index, added=(), _cache={}, _lock=threading.Lock())
        if "folded" in self._cache:
            keys = pd.Index([row.get(self.key or "") for row in self.added], dtype=object)
            new._cache["folded"] = self._cache["folded"].append(lookup.casefolded(keys))
        return new

    def changed(self, position: int, cells: Mapping[str, Any], signature: Signature,
                generation: int) -> State:
        """This version with some cells of row ``position`` replaced."""
        full = self.joined()
        df = full.base.copy()
        for column, value in cells.items():
            at = df.columns.get_loc(column)
            try:
                df.iat[position, at] = value
            except (TypeError, ValueError):  # e.g. a None in an int column: pandas picks the dtype
                df[column] = df[column].astype(object)
                df.iat[position, at] = value
        index, folded = full.base_index, full._cache.get("folded")
        if self.key is not None and self.key in cells:
            index = pd.Index(df[self.key])
            if folded is not None:
                folded = folded.delete(position).insert(position, str(cells[self.key]).casefold())
        return full._kept(replace(full, base=df, base_index=index, signature=signature,
                                  generation=generation, _cache={}, _lock=threading.Lock()), folded)

    def without(self, position: int, signature: Signature, generation: int) -> State:
        """This version without row ``position``."""
        full = self.joined()
        df = full.base.drop(index=full.base.index[position]).reset_index(drop=True)
        index = None if full.base_index is None else full.base_index.delete(position)
        folded = full._cache.get("folded")
        return full._kept(replace(full, base=df, base_index=index, signature=signature,
                                  generation=generation, _cache={}, _lock=threading.Lock()),
                          None if folded is None else folded.delete(position))

    @staticmethod
    def _kept(new: State, folded: pd.Index | None) -> State:
        if folded is not None:
            new._cache["folded"] = folded
        return new


def _by_folded(known: dict[str, list[Any]], keys: list[Any]) -> dict[str, list[Any]]:
    """``known`` (not changed) plus ``keys`` by their case-folded text."""
    out = dict(known)
    for key in keys:
        folded = str(key).casefold()
        out[folded] = [*out.get(folded, []), key][:2]
    return out


def _joinable(base: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """``extra`` with the dtypes read_csv would give the same rows in ``base``'s columns."""
    out = {}
    for column in base.columns:
        dtype, values = base[column].dtype, extra[column]
        kind, missing = kind_of(dtype), values.isna().any()
        if kind == "int" and missing:
            out[column] = values.astype("float64")
        elif kind in ("int", "float", "bool") and not missing:
            out[column] = values.astype(dtype)
        elif pd.api.types.is_object_dtype(dtype):
            out[column] = values.astype(object).where(values.notna(), np.nan)
        else:
            out[column] = values.astype(dtype) if kind == "text" else values
    return pd.DataFrame(out, columns=base.columns)
