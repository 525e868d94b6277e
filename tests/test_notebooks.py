"""Every notebook is stored run, with outputs; ``make test`` runs it (nbval over ``notebooks/``) once
against those outputs and once more in the same kernel, and fails when it leaves a thread or a
listening socket behind (notebooks/conftest.py adds the second run and the probes to nbval's items).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_there_are_notebooks():
    assert PATHS, "notebooks/ holds no notebook"


def test_make_test_runs_each_notebook_twice_in_one_kernel_between_two_probes():
    """What notebooks/conftest.py adds to nbval's run: one execution for nbval, one more for re-run safety."""
    line = [ln for ln in subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True,
                                        timeout=60).stdout.splitlines() if "pytest" in ln][-1]
    args = shlex.split(line)[shlex.split(line).index("pytest") + 1:]
    assert "notebooks" in args and "--nbval" in args
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           *[a for a in args if a not in ("tests", "-rs")]],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    collected = [ln for ln in done.stdout.splitlines() if ".ipynb::" in ln]
    for path in PATHS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        run = [f"Cell {n}" for n in range(len(code))]
        again = [f"Cell {n} (second run)" for n, c in enumerate(code) if "NBVAL_SKIP" not in c.source]
        names = [ln.split("::", 1)[1] for ln in collected if ln.startswith(f"notebooks/{path.name}::")]
        assert names == ["probe before the first run", *run, *again,
                         "probe after the second run: no thread or socket left"], path.name


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_is_stored_with_outputs_and_a_kernelspec(path: Path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    unrun = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and "NBVAL_SKIP" not in c.source and c.execution_count is None]
    assert not unrun, f"{path.name}: cells {unrun} have no stored outputs (execute and save it)"
