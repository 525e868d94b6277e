"""CSV tables written by several processes at once: the OS file lock, symlinks, readers meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from toolkit.data import Table

WORKER = """
import os, sys, time
from toolkit.data import Table
path, go, role, name, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
table = Table(path, key="lead_id")
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:  # start together
    time.sleep(0.001)
for n in range(count):
    if role == "append":
        table.append(lead_id=f"{name}-{n}", name=f"Lead {name}, nr {n}", n=n)
    elif n % 2:
        table.update(f"S-{n}", n=1000 + n)
    else:
        table.delete(f"S-{n}")
"""


def start(path: Path, go: Path, role: str, name: str, count: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WORKER, str(path), str(go), role, name, str(count)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_together(path: Path, jobs: list[tuple[str, str, int]]) -> list[int]:
    """Start the worker processes, let them go at once, parse the file until all are done.

    Returns the row counts seen by the reader (every parse must be a whole, valid file).
    """
    go = path.parent / "go"
    workers = [start(path, go, role, name, count) for role, name, count in jobs]
    go.touch()
    seen: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        running = any(w.poll() is None for w in workers)
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])  # never half a file
        assert list(frame.columns) == ["lead_id", "name", "n"]
        assert not frame.isna().any().any(), frame[frame.isna().any(axis=1)]
        seen.append(len(frame))
        if not running:
            break
    for w in workers:
        out, err = w.communicate(timeout=60)
        assert w.returncode == 0, err.decode()
    return seen


@pytest.mark.slow
def test_four_processes_append_100_rows_each_and_keep_400_readable_at_every_moment(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text("lead_id,name,n\n")
    seen = run_together(path, [("append", f"P{p}", 100) for p in range(4)])
    final = pd.read_csv(path)
    assert len(final) == 400 and final["lead_id"].is_unique
    assert set(final["lead_id"]) == {f"P{p}-{n}" for p in range(4) for n in range(100)}
    assert len(seen) > 3 and any(0 < s < 400 for s in seen), seen  # the reader ran meanwhile
    assert len(Table(path, key="lead_id")) == 400


@pytest.mark.slow
def test_an_append_racing_updates_and_deletes_loses_nothing(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text("lead_id,name,n\n" + "".join(f"S-{n},Seed {n},{n}\n" for n in range(150)))
    run_together(path, [("append", "A", 150), ("change", "U", 150)])
    final = pd.read_csv(path).set_index("lead_id")
    assert {f"A-{n}" for n in range(150)} <= set(final.index)  # no append lost to a rewrite
    seeds = final[final.index.str.startswith("S-")]
    assert sorted(seeds.index) == sorted(f"S-{n}" for n in range(1, 150, 2))  # every delete kept
    assert (seeds["n"] == [1000 + int(k[2:]) for k in seeds.index]).all()  # every update kept
    assert len(final) == 150 + 75


def test_a_table_opened_through_a_symlink_writes_the_real_file_and_keeps_the_link(tmp_path: Path):
    real = tmp_path / "data" / "leads.csv"
    real.parent.mkdir()
    real.write_text("lead_id,name\nL-1,Ann\n")
    link = tmp_path / "leads.csv"
    link.symlink_to(real)
    via_link, direct = Table(link, key="lead_id"), Table(real, key="lead_id")
    via_link.append(lead_id="L-2", name="Bart")
    via_link.update("L-1", name="Anna")
    direct.append(lead_id="L-3", name="Cleo")
    via_link.delete("L-3")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "lead_id,name\nL-1,Anna\nL-2,Bart\n"
    assert len(via_link) == len(direct) == 2
    assert sorted(p.name for p in real.parent.iterdir()) == [".leads.csv.lock", "leads.csv"]


def test_a_relative_symlink_is_followed_too(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("real.csv").write_text("id,v\n1,a\n")
    Path("alias.csv").symlink_to("real.csv")
    Table("alias.csv", key="id").append(id=2, v="b")
    assert Path("alias.csv").is_symlink() and Path("real.csv").read_text() == "id,v\n1,a\n2,b\n"


def test_an_append_crossing_the_last_page_replaces_the_file_instead(tmp_path: Path, monkeypatch):
    path = tmp_path / "leads.csv"
    path.write_text("lead_id,name,n\n" + "x" * (4096 - 20 - len("lead_id,name,n\n")) + ",a,1\n")
    table = Table(path, key="lead_id")
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: replaced.append(b) or real_replace(a, b))
    table.append(lead_id="L-1", name="crosses the page", n=1)  # 4076 + 23 bytes: past 4096
    assert replaced == [str(path)]  # one write call could be seen half by a reader: replaced whole
    table.append(lead_id="L-2", name="short", n=2)  # well inside the next page: O_APPEND
    assert replaced == [str(path)]
    assert path.read_text().endswith(",a,1\nL-1,crosses the page,1\nL-2,short,2\n")
    assert len(Table(path, key="lead_id")) == 3 == len(table)
