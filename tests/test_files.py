"""toolkit.files.write_atomic: whole files only, the permissions of a plain open(), symlinks kept.

The umask is process-wide, so each umask case runs in its own subprocess (a real one): changing it
here would race with every other thread of the test process.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from toolkit.files import write_atomic

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and umask")


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _in_subprocess(umask: int, code: str, cwd: Path) -> dict:
    """Run ``code`` under ``umask`` in a fresh interpreter; it prints one JSON line."""
    script = f"import os, json\nos.umask({umask:#o})\n" + textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- new files follow the umask, like open() -------------------------------------------------------


@posix_only
@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077, 0o027], ids=oct)
def test_a_new_file_gets_what_a_plain_open_would_give(tmp_path, umask):
    got = _in_subprocess(umask, """
        from toolkit.files import write_atomic
        write_atomic("atomic.txt", b"x")
        with open("plain.txt", "w") as f:
            f.write("x")
        print(json.dumps({"atomic": os.stat("atomic.txt").st_mode & 0o7777,
                          "plain": os.stat("plain.txt").st_mode & 0o7777}))
    """, tmp_path)
    assert got["atomic"] == got["plain"] == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []  # no temp file left


@posix_only
@pytest.mark.parametrize("umask", [0o022, 0o077], ids=oct)
def test_what_the_toolkit_writes_follows_the_umask(tmp_path, umask):
    """An exported module, fixtures, a saved log and a CSV table: each a new file, each like open()."""
    (tmp_path / "bot.ipynb").write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": "import toolkit\napp = toolkit.App('perm')\n"
                             "@app.handler('/hi')\ndef hi():\n    return 'hi'\n"}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    got = _in_subprocess(umask, """
        import toolkit
        from toolkit.deploy.export import export
        from toolkit.testing import save_fixtures
        export("bot.ipynb", "app.py")
        app = toolkit.App("perm")
        app.add_handler("/hi", lambda: "hi")
        app.call("/hi")
        fixture = save_fixtures(app.log.entries(), "fixtures", app=app)[0]
        app.log.save("log.jsonl")
        paths = ["app.py", str(fixture), "log.jsonl"]
        print(json.dumps({p: os.stat(p).st_mode & 0o7777 for p in paths}))
    """, tmp_path)
    assert len(got) == 3 and all(mode == 0o666 & ~umask for mode in got.values()), got


@posix_only
def test_a_new_csv_table_follows_the_umask(tmp_path):
    got = _in_subprocess(0o027, """
        from toolkit.data import Table
        from toolkit.files import write_atomic
        write_atomic("rows.csv", b"id,name\\n")
        t = Table("rows.csv", key="id")
        t.append(id="1", name="Ada")
        print(json.dumps({"mode": os.stat("rows.csv").st_mode & 0o7777, "rows": len(t)}))
    """, tmp_path)
    assert got == {"mode": 0o640, "rows": 1}


# --- existing files keep theirs --------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o664, 0o755], ids=oct)
def test_an_existing_file_keeps_its_permissions(tmp_path, mode):
    path = tmp_path / "kept.json"
    path.write_bytes(b"old")
    os.chmod(path, mode)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and _mode(path) == mode


# --- symlinks -------------------------------------------------------------------------------------


@posix_only
def test_a_symlink_stays_a_link_and_the_real_file_is_written(tmp_path):
    real = tmp_path / "data" / "orders.csv"
    real.parent.mkdir()
    real.write_bytes(b"id\n1\n")
    os.chmod(real, 0o640)
    link = tmp_path / "orders.csv"
    link.symlink_to(real)
    write_atomic(link, b"id\n1\n2\n")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"id\n1\n2\n" and _mode(real) == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["orders.csv"]  # temp file beside the real one


@posix_only
def test_a_relative_link_and_a_chain_of_links_write_the_last_target(tmp_path):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "t.csv"
    real.write_bytes(b"a")
    first = tmp_path / "first.csv"
    first.symlink_to(Path("real") / "t.csv")  # relative
    second = tmp_path / "second.csv"
    second.symlink_to(first)  # a link to a link
    write_atomic(second, b"b")
    assert second.is_symlink() and first.is_symlink()
    assert real.read_bytes() == b"b" and first.read_bytes() == b"b"


@posix_only
def test_a_dangling_link_creates_its_target(tmp_path):
    link = tmp_path / "later.json"
    link.symlink_to(tmp_path / "target.json")
    write_atomic(link, b"{}")
    assert link.is_symlink() and (tmp_path / "target.json").read_bytes() == b"{}"


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "keep.txt"
    path.write_bytes(b"old")

    with pytest.raises(TypeError):
        write_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
