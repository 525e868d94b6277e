"""Sphinx extension: the reference pages, generated from the code at every build (never written twice).

On ``builder-inited`` it writes into ``docs/reference/`` (those files are not committed):

- ``api.rst``: autodoc of every name in ``toolkit.__all__``, grouped by what it is;
- ``settings.md``: the settings table of ``toolkit/config.py`` (what ``toolkit settings`` prints);
- ``cli.md``: every command of the argparse parser in ``toolkit/__main__.py``, with its help;
- ``errors.md``: the tree of ``toolkit.errors``: status, JSON ``type`` and what each error means;
- ``messages.md``: the reply message types and builders of ``toolkit/messages.py``.

It also copies ``notebooks/*.ipynb`` into ``docs/tutorials/`` (pages with their stored outputs).
tests/test_docs.py imports the page functions and checks every public name, setting and command has
its entry.
"""

from __future__ import annotations

import inspect
import shutil
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
GENERATED = ("api.rst", "settings.md", "cli.md", "errors.md", "messages.md")

GROUPS = [
    ("Apps and serving", ("App", "Request", "Response", "Server", "Settings", "SETTINGS")),
    ("Replies and messages", ("Reply", "validate", "text", "buttons", "quick_replies", "carousel", "card",
                              "media", "list_message", "list_", "postback", "url_button", "phone_button",
                              "location", "carousel_from_frame")),
    ("The request log", ("Log", "Exchange", "LogView")),
    ("Tables", ("Table",)),
    ("The emulator", ("Session", "ApiStep", "StepResult", "Flow", "Conversation", "ChatView")),
    ("Chatlayer: long-running work, the live bot, calibration",
     ("ChatlayerClient", "Background", "V1Emulator", "LiveBot", "parity", "calibrate", "Calibration")),
]


def public_names() -> list[str]:
    """Every public name of ``toolkit`` (``__all__`` less ``__version__``)."""
    import toolkit

    return [n for n in toolkit.__all__ if not n.startswith("_")]


def api_page() -> str:
    """``api.rst``: one autodoc entry per public name, grouped; errors last, ungrouped names in 'Other'."""
    import toolkit

    names = public_names()
    placed: set[str] = set()
    out = ["API reference", "=============", "",
           "Everything below is importable from ``toolkit`` (``import toolkit``). Generated from the",
           "docstrings at every build.", "", ".. currentmodule:: toolkit", ""]
    errors = [n for n in names if inspect.isclass(getattr(toolkit, n)) and issubclass(
        getattr(toolkit, n), BaseException)]
    groups = [*GROUPS, ("Errors", tuple(errors))]
    grouped = {n for _, members in groups for n in members}
    groups.append(("Other", tuple(n for n in names if n not in grouped)))
    for title, members in groups:
        present = [n for n in members if n in names and n not in placed]
        if not present:
            continue
        out += [title, "-" * len(title), ""]
        for name in present:
            placed.add(name)
            out += _autodoc(name, getattr(toolkit, name)) + [""]
    return "\n".join(out) + "\n"


def _autodoc(name: str, obj: Any) -> list[str]:
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return [f".. autoexception:: {name}", "   :show-inheritance:"]
        return [f".. autoclass:: {name}", "   :members:", "   :show-inheritance:"]
    if callable(obj):
        return [f".. autofunction:: {name}"]
    return [f".. autodata:: {name}", "   :annotation:", "", f"   {DATA_DOCS.get(name, '')}"]


def settings_page() -> str:
    """``settings.md``: one entry per setting of ``toolkit/config.py`` (name, variable, default, help)."""
    from toolkit.config import SETTINGS

    out = ["# Settings", "",
           "Every setting has a default, a `TOOLKIT_<NAME>` environment override, and can be passed as",
           "a keyword to `toolkit.App(name, **settings)`, `app.serve(**settings)` or",
           "`app.configure(**settings)`. `toolkit settings` prints them as one Markdown table.",
           "Generated from the settings table of `toolkit/config.py` at every build.", ""]
    for s in SETTINGS:
        default = "(empty)" if s.default == "" else f"`{s.default}`"
        facts = [f"Environment variable `TOOLKIT_{s.name.upper()}`", f"default {default}"]
        if getattr(s, "choices", ()):
            facts.append("one of " + ", ".join(f"`{c}`" for c in s.choices))
        out += [f"## `{s.name}`", "", s.help, "", "; ".join(facts) + ".", ""]
    return "\n".join(out)


def cli_page() -> str:
    """``cli.md``: the help of ``toolkit`` and of each command, from the real parser."""
    import argparse

    from toolkit.__main__ import build_parser

    argv0, sys.argv[0] = sys.argv[0], "toolkit"  # the parser names itself after the program
    try:
        parser = build_parser()
        out = ["# Command line", "",
               "`toolkit` (or `python -m toolkit`) is installed with the package. Every command shows",
               "the toolkit's warnings on stderr; a failure prints `Error: <what was wrong>` and",
               "`Fix: <what to do>` and exits with status 1. Generated from the parser in",
               "`toolkit/__main__.py` at every build.",
               "", "## toolkit", "", "```text", parser.format_help().rstrip(), "```", ""]
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        for name, command in sub.choices.items():
            out += [f"## toolkit {name}", "", "```text", command.format_help().rstrip(), "```", ""]
    finally:
        sys.argv[0] = argv0
    return "\n".join(out)


def commands() -> list[str]:
    """The names of the command line's commands."""
    import argparse

    from toolkit.__main__ import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


def error_classes() -> list[type]:
    """Every error class defined in ``toolkit.errors``, in source order."""
    from toolkit import errors

    found = [c for c in vars(errors).values()
             if inspect.isclass(c) and issubclass(c, errors.ToolkitError) and c.__module__ == errors.__name__]
    return sorted(found, key=lambda c: inspect.getsourcelines(c)[1])


def errors_page() -> str:
    """``errors.md``: the error tree with status, JSON type and meaning; how every error reads."""
    from toolkit import errors

    classes = error_classes()
    out = ["# Errors", "",
           "Every error the toolkit raises is a `toolkit.errors.ToolkitError`: `message` says what was",
           "wrong, `hint` what to do next (`str(error)` shows both, as `Fix: ...`). In a notebook a toolkit",
           "error shows as its message and fix, not a traceback. An error raised while answering a request",
           "becomes the one JSON error shape, with the HTTP status below:", "",
           "```json",
           '{"error": {"status": 404, "type": "not_found", "message": "...", "handler": null,',
           '           "hint": "..."}}',
           "```", "", "Generated from `toolkit/errors.py` at every build.", "", "## The tree", ""]

    def tree(cls: type, depth: int) -> None:
        out.append(f"{'  ' * depth}- `{cls.__name__}`")
        for child in [c for c in classes if cls in c.__bases__]:
            tree(child, depth + 1)

    tree(errors.ToolkitError, 0)
    out += ["", "## Each error", "",
            "| error | HTTP status | JSON `type` | also a | what it means, and the fix |",
            "|---|---|---|---|---|"]
    for cls in classes:
        doc = " ".join(inspect.getdoc(cls).split()).replace("|", "\\|") if cls.__doc__ else ""
        builtin = ", ".join(f"`{b.__name__}`" for b in cls.__mro__[1:]
                            if b.__module__ == "builtins" and b not in (Exception, BaseException, object))
        out.append(f"| `{cls.__name__}` | {cls.status} | `{cls.kind}` | {builtin} | {_plain(doc)} |")
    return "\n".join(out) + "\n"


def _plain(doc: str) -> str:
    """reST roles and literals as Markdown code (the table is Markdown)."""
    import re

    doc = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", doc)
    return doc.replace("``", "`")


def messages_page() -> str:
    """``messages.md``: the message types a reply may carry, and their builders (autodoc)."""
    from toolkit import messages as m

    out = ["# Reply message types", "",
           "A reply's `messages` are `{type, config}` objects, the format of Chatlayer's API step. The",
           "builders below make them (each is also importable from `toolkit`); `toolkit.validate` checks a",
           "whole reply. Generated from `toolkit/messages.py` at every build.", "",
           "| constant | values |", "|---|---|"]
    for name in ("MESSAGE_TYPES", "MEDIA_TYPES", "BUTTON_TYPES", "QUICK_REPLY_TYPES", "LIST_SIZES"):
        out.append(f"| `{name}` | {', '.join(f'`{v}`' for v in getattr(m, name))} |")
    import toolkit

    exported = [n for n in message_builders() if getattr(toolkit, n, None) is getattr(m, n)]
    out += ["", "## Builders", "", "Each returns the wire JSON of one message (or button); its entry in",
            "{doc}`api` has the arguments and an example.", "", "| builder | what it makes |", "|---|---|"]
    for name in exported:
        out.append(f"| {{py:func}}`toolkit.{name}` | {_plain(_first_line(getattr(m, name)))} |")
    others = [n for n in message_builders() if n not in exported]
    out += ["", "## The wire shapes and helpers", "", "```{eval-rst}",
            ".. currentmodule:: toolkit.messages", ""]
    for name in others:
        out += [f".. autofunction:: {name}", ""]
    shapes = [n for n, v in vars(m).items() if inspect.isclass(v) and v.__module__ == m.__name__
              and not n.startswith("_")]
    for name in shapes:
        out += [f".. autoclass:: {name}", ""]
    out += ["```", ""]
    return "\n".join(out)


def _first_line(obj: Any) -> str:
    return (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ").replace("|", "\\|")


def message_builders() -> list[str]:
    """The public functions of ``toolkit.messages`` (the builders and checks), in source order."""
    from toolkit import messages as m

    found = [f for n, f in vars(m).items() if inspect.isfunction(f) and f.__module__ == m.__name__
             and not n.startswith("_")]
    return list(dict.fromkeys(f.__name__ for f in sorted(found, key=lambda f: f.__code__.co_firstlineno)))


# Public names that are data, not classes or functions: what the API page says about each.
DATA_DOCS = {
    "SETTINGS": "The settings table: one ``toolkit.config.Setting`` (name, default, help, choices) per "
                "setting, in the order of :doc:`settings`.",
}


PAGES = {"api.rst": api_page, "settings.md": settings_page, "cli.md": cli_page, "errors.md": errors_page,
         "messages.md": messages_page}


def write_pages(folder: Path = DOCS / "reference") -> list[Path]:
    """Write every generated page into ``folder``; a file is only rewritten when its text changed."""
    written = []
    for name, make in PAGES.items():
        path = folder / name
        text = make()
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def copy_notebooks(folder: Path = DOCS / "tutorials") -> list[Path]:
    """Copy ``notebooks/*.ipynb`` into ``folder`` (pages with their stored outputs; never executed)."""
    copied = []
    for source in sorted((ROOT / "notebooks").glob("*.ipynb")):
        target = folder / source.name
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)
        copied.append(target)
    return copied


def _generate(app: Any) -> None:
    write_pages()
    copy_notebooks()


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _generate)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
