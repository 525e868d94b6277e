"""The command line: ``python -m toolkit demo | settings | serve PATH | export NOTEBOOK -o app.py``.

Its help is plain text (``DESCRIPTION``, ``EXAMPLES``, ...), not this docstring's markup."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from .config import SETTINGS


def settings_table() -> str:
    """The settings table as Markdown (the README's copy is checked against it)."""
    rows = ["| setting | env | default | what it does |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = "(empty)" if s.default == "" else f"`{s.default}`"
        rows.append(f"| `{s.name}` | `TOOLKIT_{s.name.upper()}` | {default} | {s.help} |")
    return "\n".join(rows)


class _StderrWarnings(logging.StreamHandler):  # type: ignore[type-arg]
    """The command line's handler: the toolkit's warnings, one per line, on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # as it is now (tests and callers may swap it)
        super().emit(record)


@contextlib.contextmanager
def warnings_on_stderr() -> Iterator[logging.Handler]:
    """While inside, the ``toolkit`` logger's warnings and errors show on stderr (a notebook cell that
    failed headless, a table that did not load, ...). In a kernel they stay in the logger, never in a
    cell; on the command line they must be seen. Nested uses share one handler."""
    logger = logging.getLogger("toolkit")
    found = next((h for h in logger.handlers if isinstance(h, _StderrWarnings)), None)
    if found is not None:
        yield found
        return
    handler = _StderrWarnings(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


DESCRIPTION = """\
toolkit: a Jupyter workbench for Chatlayer (Sinch) API-step backends, on the command line.
Run the demo bot, print the settings, serve a notebook's (or a module's) handlers with a
production WSGI server, or export a notebook's handlers as a standalone module."""

EXAMPLES = """\
examples:
  python -m toolkit demo --once
  python -m toolkit settings
  python -m toolkit serve notebooks/04_sharing.ipynb --port 8000
  python -m toolkit export notebooks/04_sharing.ipynb -o app.py

'python -m toolkit COMMAND --help' describes a command's options."""

SERVE = """\
Serve the App a notebook or a Python module defines, until Ctrl-C.
A notebook's code cells run headless, in its own folder: display and widget calls do
nothing, app.serve() and server.expose() are inert, magics and shell escapes are skipped,
and a cell whose first line is '# toolkit: skip' is left out. A cell that fails headless is
skipped with a warning on stderr (--strict stops instead)."""

SERVE_EXAMPLES = """\
examples:
  python -m toolkit serve notebooks/04_sharing.ipynb
  python -m toolkit serve notebooks/04_sharing.ipynb --host 0.0.0.0 --workers 4
  TOOLKIT_AUTH_BEARER=... python -m toolkit serve bot.py --app shop"""

EXPORT = """\
Write a notebook's imports, data loading and handlers as a module with a WSGI callable
'wsgi' (serve it with: gunicorn app:wsgi). Notebook-only code (app.serve, expose, widgets,
display, magics) is left out, marked by a '# notebook only:' comment."""


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser (plain-text help: descriptions, options and examples)."""
    plain = argparse.RawDescriptionHelpFormatter
    prog = "toolkit" if Path(sys.argv[0]).name == "toolkit" else "python -m toolkit"
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION, epilog=EXAMPLES,
                                     formatter_class=plain)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("settings", help="print the settings table as Markdown",
                   description="Print every setting (name, environment variable, default, help) as Markdown.")
    demo = sub.add_parser("demo", help="run the demo bot headless",
                          description="Serve the BeanBox demo bot on a free port, play a scripted "
                          "conversation over real HTTP, print the transcript and serve until Ctrl-C.")
    demo.add_argument("--once", action="store_true",
                      help="exit after the transcript (without --data: in a temporary folder)")
    demo.add_argument("--data", metavar="DIR",
                      help="the folder the sample files are copied into and leads are written to; "
                      "files already there are kept (default: ./toolkit-demo)")
    _add_serve_and_export(sub)
    _add_copy_table(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with warnings_on_stderr():
        if args.command == "settings":
            print(settings_table())
            return 0
        if args.command == "demo":
            from .demo import main as demo_main

            return demo_main(once=args.once, data_dir=args.data)
        if args.command == "copy-table":
            from .data.cli import copy_table

            return copy_table(args)
        return _serve_or_export(args)


def _add_copy_table(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    copy = sub.add_parser("copy-table", help="copy a CSV file (or a database table) into a database table")
    copy.add_argument("source", help="a CSV file, or a database URL with --source-table")
    copy.add_argument("dest", help="the database URL: sqlite:///data/shop.db or postgresql://user:pw@host/db")
    copy.add_argument("--key", help="the key column (becomes the primary key)")
    copy.add_argument("--table", help="the table to write; default: the CSV file's name without .csv")
    copy.add_argument("--source-table", help="the table to read, when SOURCE is a database URL")
    copy.add_argument("--if-exists", choices=("fail", "replace", "append"), default="fail",
                      help="when the table exists: fail (default), replace it, or append the rows")


def _add_serve_and_export(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    plain = argparse.RawDescriptionHelpFormatter
    serve = sub.add_parser("serve", help="serve a notebook's or module's App with waitress or gunicorn",
                           description=SERVE, epilog=SERVE_EXAMPLES, formatter_class=plain)
    serve.add_argument("path", help="a notebook (.ipynb; code cells run headless) or a Python module")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every one)")
    serve.add_argument("--port", type=int, default=8000, help="port (0: a free one); default 8000")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (gunicorn); default 1")
    serve.add_argument("--threads", type=int, default=4, help="threads (waitress); default 4")
    serve.add_argument("--server", choices=("auto", "waitress", "gunicorn"), default="auto",
                       help="auto: gunicorn for --workers > 1 where available, else waitress")
    serve.add_argument("--app", help="which App, when the file defines several (variable or App name)")
    serve.add_argument("--strict", action="store_true", help="stop when a notebook cell fails headless")
    serve.add_argument("--access-log", action="store_true", help="one line per request on stderr")
    export = sub.add_parser("export", help="write a notebook's handlers as a module for gunicorn app:wsgi",
                            description=EXPORT, epilog="example:\n  python -m toolkit export "
                            "notebooks/04_sharing.ipynb -o app.py", formatter_class=plain)
    export.add_argument("notebook", help="the .ipynb to export")
    export.add_argument("-o", "--output", default="app.py", help="the module to write; default app.py")
    export.add_argument("--app", help="which App, when the notebook creates several")
    export.add_argument("--force", action="store_true", help="replace a file export did not write")


def _serve_or_export(args: argparse.Namespace) -> int:
    from .errors import ToolkitError

    try:
        if args.command == "serve":
            from .deploy.service import serve

            if args.workers < 1 or args.threads < 1:
                raise ToolkitError("--workers and --threads must be at least 1.", hint="e.g. --workers 4")
            return serve(args.path, host=args.host, port=args.port, workers=args.workers,
                         threads=args.threads, server=args.server, app_name=args.app,
                         strict=args.strict, log_requests=args.access_log)
        from .deploy.export import export

        result = export(args.notebook, args.output, app=args.app, force=args.force)
        print(f"Wrote {args.output} (App variable {result.app_var!r}; left out {len(result.left_out)} "
              f"notebook-only statements). Serve it: gunicorn {Path(args.output).stem}:wsgi")
        return 0
    except ToolkitError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
