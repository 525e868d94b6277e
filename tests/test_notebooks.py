"""Every notebook is stored run, with outputs; ``make test`` runs it (nbval over ``notebooks/``) once
against those outputs and once more in the same kernel, and fails when it leaves a thread or a
listening socket behind (notebooks/conftest.py adds the second run and the probes to nbval's items).
"""

from __future__ import annotations

import json
import os
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


SERVE_EACH = r'''
import contextlib, io, json, logging, os, sys
from toolkit.deploy.loader import find_app, run_notebook

APPS = {"03_conversations": "shop", "06_long_running": "shop", "08_live_bot": "beanbox", "09_database": "leadbot"}
CALLS = {  # a call that must work on the served app: data written, a partner API reached
    "02_data": ("/lead", {"name": "Ada", "email": "ada@example.org"}),
    "03_conversations": ("/leads", {"name": "Ada", "email": "ada@example.org"}),
    "06_long_running": ("/inbox", {"sessionId": "s-1"}),
    "08_live_bot": ("/leads", {"name": "Ada", "email": "ada@example.org"}),
    "09_database": ("/lead", {"lead_id": "L-9"}),
}
records = []
handler = logging.Handler(logging.WARNING)
handler.emit = records.append
logging.getLogger().addHandler(handler)
results = {}
for name in sys.argv[1:]:
    del records[:]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        ns = run_notebook(f"{name}.ipynb")
    app, warnings = find_app(ns, APPS.get(name)), [r.getMessage() for r in records]
    if "api" in ns:  # the emulated V1 API the app's client calls: a conversation to read
        ns["api"].add_conversation("s-1")
    client = app.test_client()
    statuses = {path: client.post(path, json={}).status_code for path in sorted(app.handlers)}
    path, body = CALLS.get(name, (None, None))
    call = client.post(path, json=body) if path else None
    results[name] = {"printed": out.getvalue() + err.getvalue(), "warnings": warnings,
                     "statuses": statuses, "call": [call.status_code, call.get_json()] if call else None}
children = open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read().split()
print(json.dumps({"results": results, "children": children}))
'''


def test_toolkit_serve_of_each_notebook_prints_nothing_and_its_app_works():
    """`toolkit serve notebooks/NN.ipynb` runs the cells headless: no <headless> or demo lines, no warning,
    no process or file the notebook's clean-up cell would have removed (those cells are skipped), and the
    served handlers answer (a lead is written, the emulated partner API is reached)."""
    names = [p.stem for p in PATHS]
    done = subprocess.run([sys.executable, "-c", SERVE_EACH, *names], cwd=NOTEBOOKS, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "TOOLKIT_TABLES_URL": ""})
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["children"] == []  # 09's `toolkit serve` demo is not started
    for name, got in report["results"].items():
        assert got["printed"] == "" and got["warnings"] == [], (name, got)
        assert got["statuses"] and all(s < 500 for s in got["statuses"].values()), (name, got["statuses"])
        if got["call"] is not None:
            assert got["call"][0] == 200, (name, got["call"])
    assert "messages so far" in json.dumps(report["results"]["06_long_running"]["call"])
