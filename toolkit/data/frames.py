"""Messages from table rows: :func:`carousel_from_frame` turns DataFrame rows (or a list of dicts)
into carousel cards. Each card field is a column name, a template such as ``"{price:.2f} EUR"`` or a
function of the row; a name that is not a column, or a template naming one, is an error listing the
columns (never the literal word on every card). Empty values (NaN, None, NaT) render as empty.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import BuilderError, article
from ..messages import Message, card, carousel, is_blank

Spec = str | Callable[[dict[str, Any]], Any] | None


class _RowFormatter(string.Formatter):
    """``str.format`` where an empty cell renders as "" whatever its format spec."""

    def format_field(self, value: Any, format_spec: str) -> str:
        return "" if is_blank(value) else super().format_field(value, format_spec)


_FORMATTER = _RowFormatter()


def _columns_text(columns: Sequence[str]) -> str:
    return ", ".join(map(str, columns)) if columns else "(none)"


def _check_spec(builder: str, name: str, spec: Spec, columns: Sequence[str]) -> None:
    """Fail early, naming the field, when ``spec`` names something the rows do not have."""
    if spec is None or callable(spec):
        return
    if not isinstance(spec, str):
        raise BuilderError(f"{builder}(): {name}={spec!r} must be a column name, a template or a function.",
                           hint=f"e.g. {name}='name' or {name}='{{price:.2f}} EUR'.")
    if spec in columns:
        return
    fields = [f for _, f, _, _ in _FORMATTER.parse(spec) if f is not None] if "{" in spec else []
    if not fields:
        raise BuilderError(
            f"{builder}(): {name}={spec!r} is not a column (columns: {_columns_text(columns)}).",
            hint=f"Give a column name, a template such as '{{{columns[0] if columns else 'price'}}} ...', "
            f"or a function of the row for the same text on every card: {name}=lambda row: {spec!r}.")
    for field in fields:
        column = field.split(".")[0].split("[")[0]
        if column not in columns:
            raise BuilderError(
                f"{builder}(): the {name} template {spec!r} names column {column!r}, which the rows do "
                f"not have (columns: {_columns_text(columns)}).",
                hint="Fix the name between the braces, or add the column to the frame first.")


class _Cells(dict[str, Any]):
    """A row where a column missing from this row (a list of dicts) reads as an empty cell."""

    def __missing__(self, key: str) -> None:
        return None


def _value(builder: str, name: str, spec: Spec, row: dict[str, Any], columns: Sequence[str]) -> str | None:
    if spec is None:
        return None
    if callable(spec):
        value = spec(row)
    elif spec in columns:
        value = row.get(spec)
    else:
        try:
            return _FORMATTER.vformat(spec, (), _Cells(row))
        except (ValueError, TypeError) as exc:
            raise BuilderError(f"{builder}(): the {name} template {spec!r} cannot format this row: {exc}.",
                               hint="Check the format spec against the column's type (e.g. :.2f needs "
                               "numbers).") from None
    return None if is_blank(value) else str(value)


def _rows(frame: Any) -> tuple[list[dict[str, Any]], list[str]]:
    if hasattr(frame, "to_dict") and hasattr(frame, "columns"):
        return frame.to_dict("records"), [str(c) for c in frame.columns]
    rows = []
    for i, row in enumerate(frame, 1):
        if not isinstance(row, Mapping):
            raise BuilderError(f"carousel_from_frame(): row {i} is {article(type(row).__name__)}; "
                               "rows are dicts.",
                               hint="Pass a DataFrame or a list of dicts such as [{'name': 'Bike A'}].")
        rows.append(dict(row))
    columns = list(dict.fromkeys(str(k) for row in rows for k in row))
    return rows, columns


def carousel_from_frame(
    frame: Any,
    *,
    title: Spec,
    subtitle: Spec = None,
    image_url: Spec = None,
    url: Spec = None,
    button: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
    limit: int = 10,
) -> Message:
    """Turn DataFrame rows (or a list of dicts) into a carousel, one card a row.

    ``title``, ``subtitle``, ``image_url`` and ``url`` are column names, templates such as
    ``"{price:.2f} EUR"`` or functions of the row; ``button(row)`` makes a button for each card.
    Empty cells render as empty (an empty subtitle, image or url is left out). At most ``limit`` cards
    (channels show about 10).
    """
    rows, columns = _rows(frame)
    specs = {"title": title, "subtitle": subtitle, "image_url": image_url, "url": url}
    for name, spec in specs.items():
        _check_spec("carousel_from_frame", name, spec, columns)

    def field(name: str, row: dict[str, Any]) -> str | None:
        return _value("carousel_from_frame", name, specs[name], row, columns)

    cards = [
        card(field("title", row) or "", field("subtitle", row), image_url=field("image_url", row),
             url=field("url", row), buttons=[button(row)] if button else ())
        for row in rows[:limit]
    ]
    return carousel(cards)
