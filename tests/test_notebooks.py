"""Every notebook runs top to bottom twice in one kernel, and leaves no thread or listening socket.

(nbval, run by ``make test`` over ``notebooks/``, checks the stored outputs; this checks re-run safety.)
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

# Runs inside the kernel: its threads, and the inodes of the TCP sockets it listens on.
PROBE = r'''
import json as _j, os as _o, threading as _t
def _listening():
    inodes = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                inodes |= {p[9] for p in (l.split() for l in list(f)[1:]) if p[3] == "0A"}
        except OSError:
            pass
    mine = set()
    for fd in _o.listdir("/proc/self/fd"):
        try:
            link = _o.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            mine.add(link[8:-1])
    return sorted(inodes & mine)
print(_j.dumps({"threads": sorted(t.name for t in _t.enumerate()), "listening": _listening()}))
'''


def _run(client, source: str, tags: list | None = None) -> list:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = list(tags or [])  # nbclient lets a "raises-exception" cell fail
    client.execute_cell(cell, 0)
    return cell.outputs


def _probe(client) -> dict:
    outputs = _run(client, PROBE)
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    return json.loads(text.strip().splitlines()[-1])


def test_there_are_notebooks():
    assert PATHS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs_twice_in_one_kernel_and_cleans_up(path: Path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    # The client runs every cell as cell 0 of a scratch notebook (nbclient writes executed cells
    # back into its notebook by index), so the notebook read from disk stays as it is.
    scratch = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")], metadata=nb.metadata)
    client = NotebookClient(scratch, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    with client.setup_kernel():
        before = _probe(client)
        for run in (1, 2):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or "NBVAL_SKIP" in cell.source:
                    continue
                tags = cell.metadata.get("tags", [])
                outputs = _run(client, cell.source, tags)
                if "raises-exception" in tags:  # may fail on purpose (04: the real expose, offline)
                    continue
                errors = [o for o in outputs if o.get("output_type") == "error"]
                assert not errors, (f"{path.name} run {run}, cell {index} failed:\n"
                                    + "\n".join(f"{e['ename']}: {e['evalue']}" for e in errors))
        after = _probe(client)
    leaked = sorted((Counter(after["threads"]) - Counter(before["threads"])).elements())
    assert not leaked, f"{path.name} left threads running: {leaked}"
    sockets = sorted(set(after["listening"]) - set(before["listening"]))
    assert not sockets, f"{path.name} left {len(sockets)} listening socket(s) open"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_is_stored_with_outputs_and_a_kernelspec(path: Path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    unrun = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and "NBVAL_SKIP" not in c.source and c.execution_count is None]
    assert not unrun, f"{path.name}: cells {unrun} have no stored outputs (execute and save it)"
