"""Session paths the way Chatlayer writes them: dots for members, ``[n]`` for list items
(``users[0].firstname``). Parsing, reading and writing plain JSON-like data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

from ..errors import PathError, article

Part = str | int
_PART = re.compile(r"(?:^|\.)([^.\[\]\s{}|]+)|\[(\d+)\]")


def parse(path: str) -> tuple[Part, ...]:
    """``"users[0].firstname"`` -> ``("users", 0, "firstname")``. Braces around it are allowed."""
    text = str(path).strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    parts: list[Part] = []
    pos = 0
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None or (pos == 0 and (m.group(1) is None or text.startswith("."))):
            raise PathError(
                f"{path!r} is not a session path (stopped at character {pos + 1}).",
                hint="Write names joined by dots, with [n] for list items, e.g. users[0].firstname.",
            )
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not parts:
        raise PathError("An empty session path.", hint="Name a variable, e.g. order.id.")
    return tuple(parts)


def is_path(text: str) -> bool:
    """Whether ``text`` parses as a session path."""
    try:
        parse(text)
    except PathError:
        return False
    return True


def lookup(data: Any, parts: tuple[Part, ...]) -> tuple[bool, Any]:
    """``(found, value)`` of ``parts`` in ``data``; a digit name also indexes a list."""
    value = data
    for part in parts:
        if isinstance(value, Mapping):
            key: Any = part if part in value else str(part)
            if key not in value:
                return False, None
            value = value[key]
        elif isinstance(value, list):
            index = _index(part)
            if index is None or not -len(value) <= index < len(value):
                return False, None
            value = value[index]
        else:
            return False, None
    return True, value


def assign(data: MutableMapping[str, Any], parts: tuple[Part, ...], value: Any, shown: str) -> None:
    """Write ``value`` at ``parts``, creating objects on the way (a list grows by one at its end)."""
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, MutableMapping):
            key = str(part)
            if last:
                node[key] = value
                return
            if not isinstance(node.get(key), MutableMapping | list):
                node[key] = [] if isinstance(parts[i + 1], int) else {}
            node = node[key]
        elif isinstance(node, list):
            index = _index(part)
            if index is None or index > len(node):
                raise PathError(
                    f"Cannot write {shown!r}: the list has {len(node)} items, so [{part}] is out of reach.",
                    hint=f"Write item [{len(node)}] to append one, or set the whole list at once.",
                )
            if index == len(node):
                node.append(None if last else ({} if not isinstance(parts[i + 1], int) else []))
            if last:
                node[index] = value
                return
            if not isinstance(node[index], MutableMapping | list):
                node[index] = [] if isinstance(parts[i + 1], int) else {}
            node = node[index]
        else:
            raise PathError(f"Cannot write {shown!r}: {_shown(parts[:i])} holds "
                            f"{article(type(node).__name__)}.",
                            hint="Set the parent to an object first, or write a different path.")


def _index(part: Part) -> int | None:
    if isinstance(part, int):
        return part
    return int(part) if part.isdigit() else None


def _shown(parts: tuple[Part, ...]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out or "the session"


def join(parts: tuple[Part, ...]) -> str:
    """The path text of ``parts`` (the inverse of :func:`parse`)."""
    return _shown(parts)
