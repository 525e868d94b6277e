"""The command line: ``python -m toolkit demo | settings``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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
    args = parser.parse_args(argv)
    if args.command == "settings":
        print(settings_table())
        return 0
    if args.command == "demo":
        from .demo import main as demo_main

        return demo_main(once=args.once)
    return 2


if __name__ == "__main__":
    sys.exit(main())
