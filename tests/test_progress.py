"""Progress on long work: replay-all, fixture checks and re-checks show a bar from 20 requests on, as a
text bar on stderr in a terminal and as a widget in a notebook; small runs stay quiet (deterministic
notebook outputs), and the ``progress`` setting says always or never."""

from __future__ import annotations

import subprocess
import sys

import nbformat

from toolkit.testing.progress import AUTO_FROM, progress

SCRIPT = """
import toolkit as tk
from toolkit.testing import replay_all, save_fixtures, check_folder
app = tk.App("bars")
app.add_handler("/echo", lambda n: str(n))
for n in range({n}):
    app.call("/echo", {{"n": n}})
replay_all(app)
save_fixtures(app.log.entries()[:{n}], {folder!r}, app=app)
assert check_folder(app, {folder!r})
app.configure(progress="never")
replay_all(app)
small = tk.App("small")
small.add_handler("/echo", lambda n: str(n))
small.call("/echo", {{"n": 1}})
replay_all(small)
"""


def test_in_a_terminal_a_text_bar_on_stderr(tmp_path):
    code = SCRIPT.format(n=25, folder=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "Replaying: 100%" in done.stderr and "25/25" in done.stderr and "Checking fixtures: 100%" in done.stderr
    assert done.stderr.count("Replaying: 100%") == 1  # "never": no bar; one request: no bar


def test_in_a_notebook_a_widget_and_small_runs_stay_quiet(tmp_path):
    from nbclient import NotebookClient

    cells = ["import toolkit\nfrom toolkit.testing import replay_all\napp = toolkit.App('bars')\n"
             "app.add_handler('/echo', lambda n: str(n))\nfor n in range(25):\n    app.call('/echo', {'n': n})",
             "changed = replay_all(app)",
             "changed = replay_all(app, app.log.entries()[:19])"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=180, startup_timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # generous: CI is loaded
    [bar] = nb.cells[1].outputs
    assert "application/vnd.jupyter.widget-view+json" in bar["data"]  # tqdm.auto's notebook widget
    assert bar["data"]["text/plain"].startswith("Replaying:")
    assert nb.cells[2].outputs == []  # below 20 requests: nothing shown


def test_progress_modes():
    few, many = [1, 2], list(range(AUTO_FROM))
    assert progress(few, "x", "auto") is few and progress(many, "x", "never") is many
    assert progress([], "x", "always") == []
    for items, mode in ((few, "always"), (many, "auto")):
        bar = progress(items, "x", mode)
        assert list(bar) == items and bar.total == len(items)
        bar.close()


def test_the_log_views_replay_all_button_shows_no_bar(capsys):
    import toolkit as tk

    app = tk.App("view-bars", progress="always")
    app.add_handler("/echo", lambda n: str(n))
    for n in range(3):
        app.call("/echo", {"n": n})
    view = tk.LogView(app)
    try:
        assert view.replay_all() == []
    finally:
        view.close()
    assert capsys.readouterr().err == ""  # a bar from a button callback would land under some other cell
    tk.testing.replay_all(app, progress_bar="always")
    assert "Replaying: 100%" in capsys.readouterr().err


def test_a_progress_bar_leaves_no_thread_behind():
    """One progress function serves replays, fixture checks and scripted conversations; its bar starts
    no tqdm monitor thread (tqdm's default one would outlive the work in a notebook)."""
    import threading

    before = {t.name for t in threading.enumerate()}
    assert list(progress(list(range(3)), "work", "always")) == [0, 1, 2]
    assert {t.name for t in threading.enumerate()} - before == set()
