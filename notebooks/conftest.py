"""One execution of each notebook serves both of its checks (``make test`` runs nbval over notebooks/).

nbval runs every notebook once, top to bottom, and compares the outputs with the stored ones. This
adds to each notebook, in the same kernel: a probe before the first cell, a second run of every cell
(an error fails it; outputs are not compared, they may differ on a re-run) and a probe after it,
which fails when the notebook left a thread running or a socket listening. So a notebook passes when
it runs offline, matches its stored outputs, runs again in the same kernel and cleans up after itself.
tests/test_notebooks.py checks that these items are collected.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import nbformat
import pytest

SECOND_RUN = " (second run)"
BEFORE, AFTER = "probe before the first run", "probe after the second run: no thread or socket left"

# Runs inside the kernel: its thread names, and the inodes of the TCP sockets it listens on.
PROBE = r'''
def _toolkit_probe():
    import os, threading
    inodes = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                inodes |= {p[9] for p in (line.split() for line in list(f)[1:]) if p[3] == "0A"}
        except OSError:
            pass
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            mine.add(link[8:-1])
    return sorted(t.name for t in threading.enumerate()), inodes & mine
_toolkit_before = _toolkit_probe()
'''
CHECK = r'''
import collections as _toolkit_c
_toolkit_after = _toolkit_probe()
_toolkit_leaked = _toolkit_c.Counter(_toolkit_after[0]) - _toolkit_c.Counter(_toolkit_before[0])
_toolkit_leaked = sorted(_toolkit_leaked.elements())
assert not _toolkit_leaked, f"the notebook left threads running: {_toolkit_leaked}"
_toolkit_sockets = _toolkit_after[1] - _toolkit_before[1]
assert not _toolkit_sockets, f"the notebook left {len(_toolkit_sockets)} listening socket(s) open"
'''


def _item(cls: Any, parent: Any, name: str, cell_num: int, cell: Any, options: dict[str, Any]) -> Any:
    return cls.from_parent(parent, name=name, cell_num=cell_num, cell=cell,
                           options=defaultdict(bool, options))


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[Any]) -> None:
    """After each notebook's nbval cells: its second run and the probes around both runs."""
    try:
        from nbval.plugin import IPyNbCell, IPyNbFile
    except ImportError:  # nbval not installed: nothing collected the notebooks
        return
    out: list[Any] = []
    i = 0
    while i < len(items):
        parent = items[i].parent
        if not (isinstance(items[i], IPyNbCell) and isinstance(parent, IPyNbFile)):
            out.append(items[i])
            i += 1
            continue
        cells = []
        while i < len(items) and items[i].parent is parent:
            cells.append(items[i])
            i += 1
        again = [_item(IPyNbCell, parent, c.name + SECOND_RUN, c.cell_num, c.cell,
                       {**c.options, "check": False}) for c in cells if not c.options["skip"]]
        probe = nbformat.v4.new_code_cell(PROBE)
        check = nbformat.v4.new_code_cell(CHECK)
        out += [_item(IPyNbCell, parent, BEFORE, -1, probe, {"check": False}), *cells, *again,
                _item(IPyNbCell, parent, AFTER, -1, check, {"check": False})]
    items[:] = out
