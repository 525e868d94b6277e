"""The command line (``python -m toolkit``): warnings reach stderr, ``--help`` is plain text."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _notebook(folder: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path = folder / "bot.ipynb"
    nbformat.write(nb, path)
    return path


def _serve_until_ready(*args: str) -> tuple[str, str, int]:
    """Run ``python -m toolkit serve ARGS --port 0`` until it prints its ready line (or exits), stop
    it, and return (stdout's first line, all of stderr, exit code)."""
    proc = subprocess.Popen([sys.executable, "-m", "toolkit", "serve", *args, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err: list[str] = []
    err_reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)
    err_reader.start()
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(60)
    if proc.poll() is None:
        proc.terminate()
    proc.wait(30)
    err_reader.join(10)
    proc.stdout.close()
    proc.stderr.close()
    return (first[0].strip() if first else ""), "".join(err), proc.returncode


FAILING = [
    ("1 / 0", "ZeroDivisionError: division by zero"),
    ("undefined_name + 1", "NameError: name 'undefined_name' is not defined"),
    ("import not_a_module_anywhere", "ModuleNotFoundError: No module named 'not_a_module_anywhere'"),
]


@pytest.mark.parametrize("source,shown", FAILING, ids=[f[1].split(":")[0] for f in FAILING])
def test_serve_shows_a_cell_that_failed_headless_on_stderr(tmp_path, source, shown):
    nb = _notebook(tmp_path, ["import toolkit\napp = toolkit.App('warned')",
                              source,
                              "@app.handler('/hi')\ndef hi():\n    return 'hi'"])
    ready, err, _ = _serve_until_ready(str(nb))
    assert ready.startswith("Serving 'warned' (1 handler: /hi)")  # the later cells still ran
    assert f"WARNING: bot.ipynb, cell 2 ({source!r}) failed headless: {shown}. Skipped it." in err
    assert "# toolkit: skip" in err  # the fix is shown too


def test_serve_shows_warnings_logged_by_the_served_module(tmp_path):
    module = tmp_path / "bot.py"
    module.write_text("import logging\nimport toolkit\napp = toolkit.App('mod')\n"
                      "logging.getLogger('toolkit.data').warning('prices.csv did not load: line 3')\n"
                      "logging.getLogger('toolkit.data').info('an info line stays hidden')\n")
    ready, err, _ = _serve_until_ready(str(module))
    assert ready.startswith("Serving 'mod'")
    assert "WARNING: prices.csv did not load: line 3" in err
    assert "an info line stays hidden" not in err


def test_strict_still_stops_at_the_failing_cell(tmp_path):
    nb = _notebook(tmp_path, ["import toolkit\napp = toolkit.App('strict')", "1 / 0"])
    ready, err, code = _serve_until_ready(str(nb), "--strict")
    assert ready == "" and code == 1
    assert "Error: bot.ipynb, cell 2 ('1 / 0') failed headless: ZeroDivisionError" in err


def test_warnings_on_stderr_shares_one_handler_and_removes_it(capsys):
    import logging

    from toolkit.__main__ import warnings_on_stderr

    logger = logging.getLogger("toolkit")
    before = list(logger.handlers)
    with warnings_on_stderr() as first, warnings_on_stderr() as second:
        assert first is second and logger.handlers.count(first) == 1
        logging.getLogger("toolkit.data").warning("orders.csv: bad row 7")
    assert logger.handlers == before  # nothing left behind in this process
    logging.getLogger("toolkit.data").warning("after: not shown")
    err = capsys.readouterr().err
    assert "WARNING: orders.csv: bad row 7" in err and "after" not in err


def test_main_in_process_leaves_no_handler(capsys):
    import logging

    from toolkit.__main__ import main

    before = list(logging.getLogger("toolkit").handlers)
    assert main(["settings"]) == 0
    assert logging.getLogger("toolkit").handlers == before
