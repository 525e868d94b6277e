"""The command line: ``python -m toolkit demo | settings | serve PATH | export NOTEBOOK -o app.py``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import SETTINGS


def settings_table() -> str:
    """The settings table as Markdown (the README's copy is checked against it)."""
    rows = ["| setting | env | default | what it does |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = "(empty)" if s.default == "" else f"`{s.default}`"
        rows.append(f"| `{s.name}` | `TOOLKIT_{s.name.upper()}` | {default} | {s.help} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m toolkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("settings", help="print the settings table as Markdown")
    demo = sub.add_parser("demo", help="run the demo bot headless")
    demo.add_argument("--once", action="store_true", help="exit after the transcript")
    _add_serve_and_export(sub)
    _add_copy_table(sub)
    args = parser.parse_args(argv)
    if args.command == "settings":
        print(settings_table())
        return 0
    if args.command == "demo":
        from .demo import main as demo_main

        return demo_main(once=args.once)
    if args.command in ("serve", "export"):
        return _serve_or_export(args)
    if args.command == "copy-table":
        from .data.cli import copy_table

        return copy_table(args)
    return 2


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
    serve = sub.add_parser("serve", help="serve a notebook's or module's App with waitress or gunicorn")
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
    export = sub.add_parser("export", help="write a notebook's handlers as a module for gunicorn app:wsgi")
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
