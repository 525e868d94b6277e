"""Every piece of HTML toolkit shows is a Jinja2 template in ``toolkit/html/templates/``, rendered by
one environment built here: autoescape on (values are escaped the way :func:`html.escape` does it),
undefined names raise, compiled templates are cached, and links and image sources pass the
:func:`~toolkit.html.urls.safe_url` filter.

The templates are written one tag a line for people; the loader joins each line break and the
indentation after it, so the HTML sent out has no whitespace between tags (inline-block chips and cards
would otherwise get gaps). Write a space that must stay at the end of a line as ``{{ " " }}``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from .icons import BUTTON_ICONS, ICONS
from .urls import safe_url

if TYPE_CHECKING:  # Jinja2 itself is imported on the first render: `import toolkit` stays light
    import jinja2

__all__ = ["Markup", "environment", "macro", "render", "trusted"]

_BREAK = re.compile(r"\n[ \t]*")


def _join_lines(source: str) -> str:
    """A template's source with each line break and the indentation after it dropped."""
    return _BREAK.sub("", source)


_escape = html.escape
_markup = str.__new__  # Markup(text) without its check for __html__: the text is escaped here


def _finalize(value: Any) -> Any:
    """Escape what a ``{{ }}`` prints exactly as :func:`html.escape` does (``&quot;``, ``&#x27;``),
    the escaping toolkit's HTML always had; HTML already marked safe passes as it is. Runs for every
    value a template prints, so plain strings take the shortest path."""
    kind = type(value)
    if kind is str:
        return _markup(Markup, _escape(value))
    if kind is int or kind is float:
        return _markup(Markup, str(value))
    if hasattr(value, "__html__"):
        return value
    return _markup(Markup, _escape(str(value)))


@cache
def environment() -> jinja2.Environment:
    """The one Jinja2 environment (built on first use): templates from ``toolkit/html/templates/``."""
    import jinja2
    from jinja2.ext import Extension

    class JoinLines(Extension):
        """Drop each line break and the indentation after it from a template's source."""

        def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
            return _join_lines(source)

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("toolkit.html", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        finalize=_finalize, extensions=[JoinLines], auto_reload=False, cache_size=-1)
    env.filters["safe_url"] = safe_url
    env.globals.update(ICONS=ICONS, BUTTON_ICONS=BUTTON_ICONS)
    return env


@cache
def _template(name: str) -> jinja2.Template:
    return environment().get_template(name)


def render(name: str, **context: Any) -> str:
    """The template ``name`` (e.g. ``"guide.html"``) rendered with ``context``.

    Raises ``jinja2.UndefinedError`` when the template uses a name ``context`` lacks.
    Example: ``render("counts.html", text="No requests yet")``.
    """
    return str(_template(name).render(**context))


@cache
def macro(name: str, macro_name: str) -> Callable[..., Markup]:
    """The macro ``macro_name`` of template ``name``, callable from Python; it returns :class:`Markup`.

    Example: ``macro("messages.html", "chip")({"title": "Yes"})``.
    """
    found: Callable[..., Markup] = getattr(_template(name).module, macro_name)
    return found


def trusted(fragment: str) -> Markup:
    """``fragment``, HTML that toolkit rendered itself, marked so a template inserts it unescaped."""
    return Markup(fragment)
