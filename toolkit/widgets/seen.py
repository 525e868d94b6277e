"""What the user sees: a reply's messages rendered as the emulator would, with the session the same
reply wrote (Chatlayer writes the session first, then renders the messages), and the placeholders it
leaves unset marked, since Chatlayer would show them empty unless the bot's session already holds them.
Pure functions (no ipywidgets), used by the log view's detail pane.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..emulator import paths
from ..emulator.templating import PLACEHOLDER, render, render_all
from ..errors import PathError, TemplateError
from ..html.render import messages_html
from ..html.templates import macro, trusted

OPEN, CLOSE = "\ue000", "\ue001"  # private-use marks around an unset placeholder, never in JSON text
_MARKED = re.compile(f"{OPEN}([^{OPEN}{CLOSE}]*){CLOSE}")
_ATTRIBUTE = re.compile(r'"[^"<>]*"')  # escaped text never holds a quote: these are attribute values


@dataclass(frozen=True)
class Seen:
    """A reply's messages rendered with its own session write, and the variables left unset."""

    messages: list[dict[str, Any]]
    unset: tuple[str, ...] = ()


def session_written(response: Mapping[str, Any]) -> dict[str, Any]:
    """The variables a reply's ``session`` writes (``{namespace: data}``), as a fresh session holds them."""
    write = response.get("session")
    namespace = write.get("namespace") if isinstance(write, Mapping) else None
    if isinstance(write, Mapping) and isinstance(namespace, str) and namespace != "internal":
        return {namespace: copy.deepcopy(write.get("data"))}
    return {}


def as_seen(response: Mapping[str, Any]) -> Seen:
    """Render every string of the reply's messages with the variables the reply wrote."""
    variables = session_written(response)
    unset: list[str] = []

    def lookup(parts: tuple[Any, ...]) -> tuple[bool, Any]:
        if parts and parts[0] == "internal":  # filled by Chatlayer at run time: unknown here
            return False, None
        return paths.lookup(variables, parts)

    def placeholder(m: re.Match[str]) -> str:
        try:
            out = render(m.group(0), lookup, "keep")
        except (TemplateError, PathError):  # an unknown modifier: shown as written
            return m.group(0)
        if out.missing:
            unset.extend(name for name in out.missing if name not in unset)
            return f"{OPEN}{m.group(0)}{CLOSE}"
        return out.text

    messages = [m for m in response.get("messages") or [] if isinstance(m, Mapping)]
    rendered = render_all(messages, lambda text: PLACEHOLDER.sub(placeholder, text))
    return Seen(rendered, tuple(unset))


def mark_unset(html: str) -> str:
    """Turn the marks around unset placeholders into highlighted spans (plain text in attributes)."""
    html = _ATTRIBUTE.sub(lambda m: m.group(0).replace(OPEN, "").replace(CLOSE, ""), html)
    mark = macro("seen.html", "mark")
    return _MARKED.sub(lambda m: str(mark(trusted(m.group(1)))), html)


def seen_html(response: Mapping[str, Any]) -> str:
    """The messages as bubbles, rendered with the reply's session write, unset placeholders marked,
    and a line naming them."""
    seen = as_seen(response)
    html = mark_unset(messages_html(seen.messages))
    if seen.unset:
        html += str(macro("seen.html", "unset_note")(seen.unset))
    return html
