"""Chatlayer templates: ``{var}``, ``{a.b}``, ``{users[0].name}`` and the modifiers ``|toUpperCase``,
``|toLowerCase``, ``|capitalize`` and ``|increment`` (applied left to right).

A missing variable renders as the ``missing_variable`` setting says (``empty``, ``keep`` or
``error``) and is reported. Text in braces that is not a path (``{ a b }``, ``{}``) is left alone.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import PathError, TemplateError
from .paths import parse

PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_$][^{}|\s]*)\s*((?:\|\s*[A-Za-z]+\s*)*)\}")
Lookup = Callable[[tuple[Any, ...]], tuple[bool, Any]]


def to_text(value: Any) -> str:
    """A value as Chatlayer (JavaScript) would print it: ``3.0`` -> ``3``, ``True`` -> ``true``,
    objects as compact JSON, ``None`` as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def _upper(value: Any, name: str) -> Any:
    return to_text(value).upper()


def _lower(value: Any, name: str) -> Any:
    return to_text(value).lower()


def _capitalize(value: Any, name: str) -> Any:
    text = to_text(value)
    return text[:1].upper() + text[1:]


def _increment(value: Any, name: str) -> Any:
    if value is None:
        return 1
    if isinstance(value, bool):
        raise _not_a_number(name, value)
    if isinstance(value, int | float):
        return value + 1
    try:
        number = float(str(value).strip())
    except ValueError:
        raise _not_a_number(name, value) from None
    return int(number) + 1 if number.is_integer() else number + 1


def _not_a_number(name: str, value: Any) -> TemplateError:
    return TemplateError(f"{{{name}|increment}}: {name} is {value!r}, not a number.",
                         hint=f"Store a number in {name} (or nothing: a missing counter starts at 1).")


MODIFIERS: dict[str, Callable[[Any, str], Any]] = {
    "toUpperCase": _upper,
    "toLowerCase": _lower,
    "capitalize": _capitalize,
    "increment": _increment,
}


@dataclass(frozen=True)
class Rendered:
    """A rendered template and the variables it named that were not set."""

    text: str
    missing: tuple[str, ...] = ()


def modifiers_of(spec: str) -> list[str]:
    """``"|toUpperCase | capitalize"`` -> ``["toUpperCase", "capitalize"]``, checked."""
    names = [m.strip() for m in spec.split("|")[1:]]
    for name in names:
        if name not in MODIFIERS:
            close = difflib.get_close_matches(name, list(MODIFIERS), n=1, cutoff=0.5)
            guess = f" Did you mean {close[0]}?" if close else ""
            raise TemplateError(f"Unknown template modifier |{name}.{guess}",
                                hint=f"Use one of |{', |'.join(MODIFIERS)}.")
    return names


def render(template: str, lookup: Lookup, missing: str = "empty") -> Rendered:
    """Fill every ``{path|modifier...}`` of ``template`` from ``lookup(parts) -> (found, value)``."""
    if "{" not in template:
        return Rendered(template)
    absent: list[str] = []

    def fill(m: re.Match[str]) -> str:
        name, spec = m.group(1), m.group(2)
        try:
            parts = parse(name)
        except PathError:
            return m.group(0)
        mods = modifiers_of(spec)
        found, value = lookup(parts)
        if not found and "increment" not in mods:
            if name not in absent:
                absent.append(name)
            if missing == "error":
                raise TemplateError(
                    f"Template variable {{{name}}} is not set.",
                    hint=f"Set {name} before this message (an earlier block, an API reply's session, "
                    "or Session({...})), or use the setting missing_variable='empty' or 'keep'.")
            return m.group(0) if missing == "keep" else ""
        for mod in mods:
            value = MODIFIERS[mod](value, name)
        return to_text(value)

    return Rendered(PLACEHOLDER.sub(fill, template), tuple(absent))


def evaluate(template: str, lookup: Lookup, missing: str = "empty") -> tuple[Any, tuple[str, ...]]:
    """Like :func:`render`, but a template that is one placeholder keeps the value's type
    (``"{visits|increment}"`` gives the number 3, ``"{order}"`` the object)."""
    m = PLACEHOLDER.fullmatch(template.strip())
    if m is not None:
        try:
            parts = parse(m.group(1))
        except PathError:
            parts = ()
        mods = modifiers_of(m.group(2)) if parts else []
        found, value = lookup(parts) if parts else (False, None)
        if found or (parts and "increment" in mods):
            for mod in mods:
                value = MODIFIERS[mod](value, m.group(1))
            return value, ()
    out = render(template, lookup, missing)
    return out.text, out.missing


def render_all(value: Any, render_one: Callable[[str], str]) -> Any:
    """A copy of a JSON-like ``value`` with every string rendered by ``render_one``."""
    if isinstance(value, str):
        return render_one(value)
    if isinstance(value, Mapping):
        return {k: render_all(v, render_one) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render_all(v, render_one) for v in value]
    return value
