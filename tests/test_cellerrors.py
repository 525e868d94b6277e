"""A ToolkitError raised in a notebook cell shows as one paragraph (message and fix), not a traceback
through the toolkit; other errors keep IPython's traceback; a ``raises-exception`` cell lets the
notebook go on. Checked in a real kernel."""

from __future__ import annotations

import re

import nbformat
import pytest

from toolkit.errors import TunnelError
from toolkit.widgets.cellerrors import short_error

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def kernel():
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True)
    with client.setup_kernel():
        run(client, "import toolkit")
        yield client


def run(client, source: str, tags: tuple[str, ...] = ()) -> list:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = list(tags)
    client.nb.cells[0] = cell
    client.execute_cell(cell, 0)
    return cell.outputs


def error_of(outputs: list) -> dict:
    (error,) = [o for o in outputs if o["output_type"] == "error"]
    return error


CASES = [
    ("toolkit.App('x', no_such_setting=1)", "ConfigError", "no_such_setting"),
    ("toolkit.Flow('f').block('nowhere')", "FlowError", "Flow 'f' has no block 'nowhere'"),
    ("raise toolkit.tunnel.TunnelError('No ngrok authtoken.', hint='Set NGROK_AUTHTOKEN.')", "TunnelError", "No ngrok authtoken.\n  Fix: Set NGROK_AUTHTOKEN."),
    ("raise toolkit.data.KeyNotFound('No order A-10042.', hint='Did you mean A-1042?')",
     "KeyNotFound", "No order A-10042.\n  Fix: Did you mean A-1042?"),
]


@pytest.mark.parametrize("source,ename,says", CASES, ids=[c[1] for c in CASES])
def test_a_toolkit_error_shows_one_paragraph(kernel, source, ename, says):
    if "toolkit.tunnel" in source or "toolkit.data" in source:
        run(kernel, "import toolkit.tunnel, toolkit.data")
    error = error_of(run(kernel, source))
    assert error["ename"] == ename and says in error["evalue"]
    shown = ANSI.sub("", "\n".join(error["traceback"]))
    assert shown.startswith(f"{ename}: ") and says in shown
    assert "Traceback" not in shown and "File " not in shown and ".py" not in shown.split("Fix:")[0]
    assert len(shown.splitlines()) <= 3 + says.count("\n")
    assert run(kernel, "1 + 1")[0]["data"]["text/plain"] == "2"  # the kernel goes on


def test_other_errors_keep_the_full_traceback(kernel):
    error = error_of(run(kernel, "def f():\n    return 1 / 0\nf()"))
    shown = ANSI.sub("", "\n".join(error["traceback"]))
    assert error["ename"] == "ZeroDivisionError" and "Traceback" in shown and "return 1 / 0" in shown


def test_tb_shows_the_full_traceback_on_demand(kernel):
    run(kernel, "toolkit.Flow('f').block('nowhere')")
    outputs = run(kernel, "%tb")
    text = ANSI.sub("", "".join(o.get("text", "") for o in outputs)
                    + "".join("\n".join(o.get("traceback", [])) for o in outputs))
    assert "flow.py" in text and "FlowError" in text


def test_a_raises_exception_cell_lets_the_notebook_go_on(tmp_path):
    from nbclient import NotebookClient

    cells = [nbformat.v4.new_code_cell("import toolkit\nx = 1"),
             nbformat.v4.new_code_cell("toolkit.Flow('f').block('nowhere')"),
             nbformat.v4.new_code_cell("x + 1")]
    cells[1].metadata["tags"] = ["raises-exception"]
    nb = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert nb.cells[1].outputs[0]["ename"] == "FlowError"
    assert nb.cells[2].outputs[0]["data"]["text/plain"] == "2"


def test_uninstall_brings_the_traceback_back(kernel):
    run(kernel, "import toolkit.widgets.cellerrors\ntoolkit.widgets.cellerrors.uninstall()")
    try:
        shown = "\n".join(error_of(run(kernel, "toolkit.Flow('f').block('nowhere')"))["traceback"])
        assert "Traceback" in ANSI.sub("", shown)
    finally:
        run(kernel, "assert toolkit.widgets.cellerrors.install()")
    assert len(error_of(run(kernel, "toolkit.Flow('f').block('x')"))["traceback"]) == 1


def test_short_error_text():
    error = TunnelError("No ngrok authtoken.", hint="Set NGROK_AUTHTOKEN.")
    assert short_error(error) == ("TunnelError: No ngrok authtoken.\n  Fix: Set NGROK_AUTHTOKEN.\n"
                                  "(%tb shows the full traceback)")
    assert "\x1b[31m" in short_error(error, colour=True)


def test_outside_ipython_nothing_is_installed():
    from toolkit.widgets.cellerrors import install

    assert install() is False  # pytest runs no IPython shell


def test_04_sharing_stores_the_real_expose_as_a_short_error_and_runs_on():
    from pathlib import Path

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "04_sharing.ipynb", as_version=4)
    [cell] = [c for c in nb.cells if c.cell_type == "code" and "server.expose()" in c.source]
    assert "raises-exception" in cell.metadata.get("tags", []) and "NBVAL_SKIP" not in cell.source
    [error] = cell.outputs
    shown = ANSI.sub("", "\n".join(error["traceback"]))
    assert error["ename"] == "TunnelError" and shown.startswith("TunnelError: No ngrok authtoken")
    assert "Traceback" not in shown and len(shown.splitlines()) <= 3
    later = nb.cells[nb.cells.index(cell) + 1:]
    assert any("provider=\"fake\"" in c.source for c in later if c.cell_type == "code")
