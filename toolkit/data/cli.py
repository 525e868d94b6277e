"""``python -m toolkit copy-table SRC DEST``: a CSV file (or a database table) into a database table."""

from __future__ import annotations

import argparse
import sys

from ..errors import ToolkitError
from .table import Table, is_url, open_csv


def copy_table(args: argparse.Namespace) -> int:
    """Copy with a progress bar on stderr; print what was written. Returns the exit code."""
    try:
        if is_url(args.source):
            source = Table(args.source, key=args.key, table=args.source_table)
        else:
            source = open_csv(args.source, args.key)
        copied = source.copy_to(args.dest, table=args.table, if_exists=args.if_exists)
    except ToolkitError as exc:
        print(f"Error: {exc}".replace("if_exists='", "--if-exists '").replace("table=...", "--table ..."),
              file=sys.stderr)
        return 1
    print(f"Copied {len(copied):,} rows of {source.name} into {copied!r}.")
    return 0
