"""Finding a row by key (forgiving about spaces, letter case and ``"12"`` vs ``12``) and suggesting
close keys. :func:`resolve` is the one forgiving lookup every table backend uses.

Suggestions never scan a big table: up to ``FULL_SCAN`` keys difflib compares them all; above
that, only keys one edit away from what was asked (typo, swapped or missing character, case)
are probed in the hashed index, so a miss on a million rows costs about a millisecond.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from .values import kind_of, to_python

T = TypeVar("T")
FULL_SCAN = 5000
CUTOFF = 0.6


def candidates(kind: str, key: Any) -> list[Any]:
    """The exact spellings of ``key`` to try, in order, on a key column of ``kind``: as given, with
    spaces trimmed, then as a number or as text to match the column (``"12"`` vs ``12``).

    >>> candidates("int", " 12 ")
    [12]
    >>> candidates("text", 12)
    ['12']
    """
    out: list[Any] = []
    for c in _spellings(kind, key):
        c = to_python(c)
        if kind == "text" and c is not None and not isinstance(c, str):
            c = str(c)
        elif kind in ("int", "float") and isinstance(c, str | bool):
            continue
        elif kind == "int" and isinstance(c, float):
            if not c.is_integer():
                continue
            c = int(c)
        if c is not None and c not in out:
            out.append(c)
    return out


def _spellings(kind: str, key: Any) -> Iterator[Any]:
    yield key
    if isinstance(key, str):
        text = key.strip()
        if text != key:
            yield text
        if kind in ("int", "float"):
            try:
                number = float(text)
            except ValueError:
                return
            yield int(number) if kind == "int" and number.is_integer() else number
    elif isinstance(key, int | float | np.number) and not isinstance(key, bool) and kind == "text":
        number = to_python(key)
        yield str(int(number)) if isinstance(number, float) and number.is_integer() else str(number)


def resolve(kind: str, key: Any, exact: Callable[[list[Any]], T | None],
            folded: Callable[[str], list[Any]]) -> T | None:
    """The forgiving lookup, the same for every backend: what ``exact`` finds for the first of
    :func:`candidates` that exists; failing that (text keys only), the one stored key equal to
    ``key`` ignoring letter case, if exactly one is (``folded(text)`` returns up to two such keys).
    A miss is None.

    Args:
        kind: the key column's kind (``text``, ``int``, ...).
        key: what the caller asked for.
        exact: the row (or position) of the first of a list of stored keys that exists, or None.
        folded: stored keys equal to ``text`` ignoring case (at least two when there are several).

    >>> resolve("text", "latte", lambda keys: keys[0] if keys == ["Latte"] else None, lambda t: ["Latte"])
    'Latte'
    """
    found = exact(candidates(kind, key))
    if found is not None or kind != "text" or not isinstance(key, str):
        return found
    text = key.strip()
    if text.upper() == text.lower():  # no letter whose case could differ: exact was the only way
        return None
    matches = folded(text)
    return exact(matches[:1]) if len(matches) == 1 else None


def clashing(kind: str, key: Any, exact: Callable[[list[Any]], T | None]) -> T | None:
    """The row a new key would clash with: the exact spellings of :func:`candidates`, then the key
    in upper or lower case (``a-1042`` clashes with ``A-1042``). No case-folded scan: checking a new
    key stays a few hash probes, so an append never builds the case-folded keys of a big table.

    >>> clashing("text", "a-1042", lambda keys: keys[0] if keys == ["A-1042"] else None)
    'A-1042'
    """
    found = exact(candidates(kind, key))
    if found is None and kind == "text" and isinstance(key, str):
        text = key.strip()
        found = exact([t for t in (text.upper(), text.lower()) if t != text])
    return found


def first_in(index: pd.Index, wanted: list[Any]) -> int | None:
    """The position in ``index`` of the first of ``wanted`` that is in it once, or None."""
    for candidate in wanted:
        try:
            found = index.get_loc(candidate)
        except (KeyError, TypeError, ValueError, pd.errors.InvalidIndexError):
            continue
        if isinstance(found, int | np.integer):
            return int(found)
    return None


def case_variants(text: str, limit: int = 256) -> list[str] | None:
    """Every spelling of ASCII ``text`` in upper and lower case letters (``a-1`` -> ``a-1``, ``A-1``),
    or None when there would be more than ``limit`` (or the text is not ASCII): probing these in a
    hashed index finds the keys equal ignoring case without case-folding every key.

    >>> case_variants("a-1")
    ['a-1', 'A-1']
    """
    if not text.isascii():
        return None
    choices = [(c.lower(), c.upper()) if c.isalpha() else (c,) for c in text]
    if 2 ** sum(len(c) == 2 for c in choices) > limit:
        return None
    return ["".join(p) for p in itertools.product(*choices)]


def folded_in(folded: pd.Index, index: pd.Index, text: str) -> list[Any]:
    """Up to two keys of ``index`` whose case-folded text (``folded``, same order) is ``text``'s."""
    try:
        found = folded.get_loc(text.casefold())
    except KeyError:
        return []
    if isinstance(found, int | np.integer):
        return [to_python(index[found])]
    hits = np.arange(len(folded))[found] if isinstance(found, slice) else np.flatnonzero(found)
    return [to_python(index[h]) for h in hits[:2]]


def casefolded(index: pd.Index) -> pd.Index:
    """``index`` as case-folded text (to find a key whatever its letter case)."""
    return pd.Index([str(k).casefold() for k in index], dtype=object)


def suggest(index: pd.Index, key: Any, n: int = 3) -> list[Any]:
    """Up to ``n`` existing keys close to ``key``, best first."""
    text = str(key).strip()
    if not text or n <= 0:
        return []
    if len(index) <= FULL_SCAN:
        pool = [str(k) for k in index]
        folded: dict[str, str] = {}
        for k in pool:
            folded.setdefault(k.casefold(), k)
        close = difflib.get_close_matches(text.casefold(), list(folded), n=3 * n, cutoff=CUTOFF)
        found = _ranked(text, [folded[c] for c in close])
    else:
        found = _ranked(text, _one_edit_away(index, text))
    by_text = {str(k): k for k in (index[position] for position in _positions(index, found))}
    return [to_python(by_text[f]) for f in found if f in by_text][:n]


def _positions(index: pd.Index, texts: list[str]) -> list[int]:
    probes = _typed(index, texts)
    hits = index.get_indexer(probes) if probes else np.array([], dtype=int)
    return [int(h) for h in hits if h >= 0]


def _one_edit_away(index: pd.Index, text: str) -> list[str]:
    sample = [str(k) for k in index[:500]] + [str(k) for k in index[-500:]]
    alphabet = sorted(set("".join(sample)) | set(text.upper()) | set(text.lower()))[:80]
    candidates: set[str] = set()
    for word in {text, text.upper(), text.lower()}:
        candidates |= _edits(word, alphabet)
    return [str(index[p]) for p in _positions(index, sorted(candidates))]


def _ranked(text: str, found: list[str]) -> list[str]:
    """Fewest typing mistakes first; a swap (same letters) before a wrong letter; then similarity."""
    want = text.casefold()

    def score(candidate: str) -> tuple[int, bool, float]:
        have = candidate.casefold()
        return (_distance(want, have), sorted(want) != sorted(have),
                -difflib.SequenceMatcher(None, want, have).ratio())

    return sorted(found, key=score)


def _distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap of neighbours) from ``a`` to ``b``; capped for long text."""
    if len(a) > 64 or len(b) > 64:
        return abs(len(a) - len(b))
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _edits(word: str, alphabet: list[str]) -> set[str]:
    """Every string one deletion, swap, replacement or insertion away from ``word`` (and itself)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in alphabet}
    inserts = {a + c + b for a, b in splits for c in alphabet}
    return deletes | swaps | replaces | inserts | {word}


def _typed(index: pd.Index, texts: list[str]) -> list[Any]:
    """``texts`` as values of the index's type (numbers for a numeric key column)."""
    kind = kind_of(index.dtype)
    if kind not in ("int", "float"):
        return list(texts)
    out: list[Any] = []
    for t in texts:
        try:
            number = float(t)
        except ValueError:
            continue
        if kind == "float":
            out.append(number)
        elif number.is_integer():
            out.append(int(number))
    return out
