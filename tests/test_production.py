"""`toolkit serve`: a notebook's code cells run headless (display, widgets, serve and expose inert),
the App is found, and a production WSGI server answers: waitress, and gunicorn with 4 workers under
1,000 requests from 8 concurrent clients. Loopback only.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from helpers import request_json
from wire import exchange

import toolkit
import toolkit.server.lifecycle
from toolkit.__main__ import main
from toolkit.deploy.loader import find_app, load, notebook_cells
from toolkit.deploy.service import choose_server, describe
from toolkit.errors import ServeError

CELLS = [
    "%matplotlib inline\nimport os\nimport pandas as pd\nimport toolkit\nfrom IPython.display import display",
    "app = toolkit.App('serve-shop')\nPRICES = pd.read_csv('prices.csv')\ndisplay(PRICES)\nPRICES.head()",
    "@app.handler('/price')\ndef price(sku: str):\n"
    "    row = PRICES[PRICES.sku == sku]\n"
    "    if row.empty:\n        return f'No product {sku}.'\n"
    "    return toolkit.Reply(session={'price': int(row.price.iloc[0])},\n"
    "                         messages=[toolkit.text(f'{sku} costs {int(row.price.iloc[0])} EUR')])\n\n"
    "@app.handler('/pid', methods=['GET'])\ndef pid():\n    return toolkit.Reply(session={'pid': os.getpid()})",
    "@app.flask.get('/healthz')\ndef healthz():\n    return {'ok': True}\n\n\n"
    "@app.flask.after_request\ndef tag(response):\n    response.headers['X-Served-By'] = 'shop-bot'\n"
    "    return response",
    "server = app.serve(port=0)\nserver.url",
    "app.log_view()",
    "!echo shell escapes do nothing headless\nassert app.call('/price', {'sku': 'A1'})['session']['data'] == 499",
    "# toolkit: skip\nraise RuntimeError('only for the notebook')",
    "tunnel = server.expose(provider='fake')\nprint(tunnel.url)",
    "server.stop()",
]


def make_notebook(folder: Path, cells=CELLS, name="shop.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prices.csv").write_text("sku,price\nA1,499\nB2,59\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells] + [nbformat.v4.new_markdown_cell("# notes")]
    path = folder / name
    nbformat.write(nb, path)
    return path


# --- loading headless ---------------------------------------------------------------------------


def test_a_notebook_runs_headless_and_its_app_answers(tmp_path, monkeypatch):
    nb = make_notebook(tmp_path / "nb")
    monkeypatch.chdir(nb.parent)
    before = toolkit.server.lifecycle.running()
    app = load(nb.name)
    assert app.name == "serve-shop" and sorted(app.handlers) == ["/pid", "/price"]
    assert app.call("/price", {"sku": "B2"})["session"]["data"] == 59
    assert toolkit.server.lifecycle.running() == before  # app.serve() was inert: nothing bound
    assert toolkit.App.serve.__qualname__ == "App.serve"  # restored after the headless run
    assert "LogView" not in vars(toolkit)  # the widget stand-in is gone again


def test_skip_markers_leave_cells_out(tmp_path):
    nb = make_notebook(tmp_path)
    numbers = [c.number for c in notebook_cells(nb)]
    assert 8 not in numbers and numbers == [1, 2, 3, 4, 5, 6, 7, 9, 10]


def test_a_failing_cell_is_skipped_with_a_warning_or_stops_with_strict(tmp_path, monkeypatch, caplog):
    cells = CELLS[:3] + ["undefined_name + 1"]
    nb = make_notebook(tmp_path, cells)
    monkeypatch.chdir(tmp_path)
    app = load(nb.name)
    assert "/price" in app.handlers
    assert "cell 4 ('undefined_name + 1') failed headless: NameError" in caplog.text
    assert "# toolkit: skip" in caplog.text
    with pytest.raises(ServeError, match="cell 4") as info:
        load(nb.name, strict=True)
    assert "# toolkit: skip" in info.value.hint


def test_a_module_file_loads(tmp_path):
    module = tmp_path / "bot.py"
    module.write_text("import toolkit\nbot = toolkit.App('mod')\n\n@bot.handler('/hi')\ndef hi():\n"
                      "    return 'hi'\n\nserver = bot.serve(port=0)\n")
    app = load(module)
    assert app.name == "mod" and app.call("/hi")["messages"][0]["config"]["textMessages"][0]["text"] == "hi"


def test_find_app_none_one_or_several():
    a, b = toolkit.App("a"), toolkit.App("b")
    assert find_app({"app": a, "x": 1}) is a
    assert find_app({"first": a, "second": b}, "b") is b
    assert find_app({"first": a, "second": b}, "first") is a
    with pytest.raises(ServeError, match="2 Apps") as info:
        find_app({"first": a, "second": b}, source="bot.ipynb")
    assert "--app" in info.value.hint
    with pytest.raises(ServeError, match="no toolkit.App") as info:
        find_app({"x": 1}, source="bot.ipynb")
    assert "toolkit.App(" in info.value.hint


def test_the_command_fails_clearly_on_a_missing_file(capsys):
    assert main(["serve", "no/such/bot.ipynb", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "No file at" in err and "Fix:" in err


def test_server_choice():
    assert choose_server("auto", 1) == "waitress"
    assert choose_server("auto", 4) in ("gunicorn", "waitress")
    with pytest.raises(ServeError, match="Unknown server"):
        choose_server("uwsgi", 1)
    line = describe(toolkit.App("x"), "gunicorn", 4, 4, "http://127.0.0.1:8000")
    assert line == "Serving 'x' (0 handlers: none) with gunicorn, 4 workers at http://127.0.0.1:8000"


# --- serving for real (subprocesses on loopback) ------------------------------------------------


class Served:
    """`python -m toolkit serve ...` in a subprocess; stopped (by its pid) at the end."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "toolkit", "serve", *args, "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.err: list[str] = []
        self._err_reader = threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True)
        self._err_reader.start()
        self.url = self._ready_line()

    def _ready_line(self) -> str:
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(60)
        found = re.search(r"at (http://127\.0\.0\.1:\d+)$", lines[0].strip()) if lines else None
        if not found:
            self.stop()
            pytest.fail(f"serve did not start: {lines} {''.join(self.err)[-2000:]}")
        self.line = lines[0].strip()
        return found.group(1)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        host, port = self.url.removeprefix("http://").split(":")
        return request_json(host, int(port), method, path, body)

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/_toolkit/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        pytest.fail("no health answer within 30 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._err_reader.join(10)  # stderr reaches its end once the process is gone
        self.proc.stdout.close()
        self.proc.stderr.close()


def test_serve_a_notebook_with_waitress(tmp_path):
    nb = make_notebook(tmp_path / "nb")
    served = Served(str(nb), "--server", "waitress")
    try:
        assert served.line.startswith("Serving 'serve-shop' (2 handlers: /pid, /price) with waitress")
        served.wait_healthy()
        status, body = served.request("POST", "/price", {"sku": "A1"})
        assert status == 200 and body["messages"][0]["config"]["textMessages"][0]["text"] == "A1 costs 499 EUR"
        status, body = served.request("POST", "/price", {})
        assert status == 400 and body["error"]["type"] == "bad_request"
        port = int(served.url.rsplit(":", 1)[1])
        status, headers, data = exchange(port, "POST", "/price", {"sku": "B2"})
        assert (status, headers["X-Served-By"]) == (200, "shop-bot")  # the notebook's hook, in production
        assert exchange(port, "GET", "/healthz")[::2] == (200, b'{"ok":true}\n')
    finally:
        served.stop()
    assert served.proc.returncode == 0  # SIGTERM stops it cleanly
    assert "no access control is set" in "".join(served.err)


HOLD = """@app.handler('/hold', methods=['GET'])
def hold():
    import pathlib, time
    here = pathlib.Path(HOLD_DIR)
    (here / str(os.getpid())).touch()
    deadline = time.monotonic() + 25  # below gunicorn's 30 s worker timeout
    while len(list(here.iterdir())) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    return toolkit.Reply(session={'hold': {'pid': os.getpid(), 'seen': len(list(here.iterdir()))}})"""


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="gunicorn runs on Linux and macOS only")
def test_gunicorn_4_workers_answer_200_requests_from_8_clients_with_0_errors(tmp_path):
    hold_dir = tmp_path / "hold"
    hold_dir.mkdir()
    cells = [*CELLS[:3], f"HOLD_DIR = {str(hold_dir)!r}\n" + HOLD, *CELLS[3:]]
    nb = make_notebook(tmp_path / "nb", cells=cells)
    served = Served(str(nb), "--workers", "4")
    try:
        assert "with gunicorn, 4 workers" in served.line
        served.wait_healthy()
        # Every worker answers: 4 requests each held until 4 are held at once, and a gunicorn (sync)
        # worker holds one request at a time, so they are 4 workers, whichever took which.
        held: list[dict] = []
        holders = [threading.Thread(target=lambda: held.append(served.request("GET", "/hold")[1]))
                   for _ in range(4)]
        for h in holders:
            h.start()
        for h in holders:
            h.join(60)
        assert [b["session"]["data"]["seen"] for b in held] == [4, 4, 4, 4], held
        assert len({b["session"]["data"]["pid"] for b in held}) == 4
        results: list[tuple[int, str]] = []
        pids: Counter[int] = Counter()
        lock = threading.Lock()

        def client(n: int) -> None:
            for i in range(25):
                try:
                    if i % 5 == 0:
                        status, body = served.request("GET", "/pid")
                        with lock:
                            pids[body["session"]["data"]] += 1
                        outcome = "ok" if status == 200 else f"status {status}"
                    else:
                        sku = "A1" if (n + i) % 2 else "B2"
                        status, body = served.request("POST", "/price", {"sku": sku})
                        want = f"{sku} costs {499 if sku == 'A1' else 59} EUR"
                        got = body["messages"][0]["config"]["textMessages"][0]["text"]
                        outcome = "ok" if status == 200 and got == want else f"status {status}: {body}"
                except Exception as exc:  # counted, not raised: the test reports every error
                    status, outcome = 0, f"{type(exc).__name__}: {exc}"
                with lock:
                    results.append((status, outcome))

        clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for c in clients:
            c.start()
        for c in clients:
            c.join(120)
        errors = [o for _, o in results if o != "ok"]
        assert len(results) == 200
        assert errors == [], f"{len(errors)} errors, first: {errors[:3]}"
        assert sum(pids.values()) == 40 and set(pids) <= {b["session"]["data"]["pid"] for b in held}
    finally:
        served.stop()
    assert served.proc.returncode == 0


def test_cells_after_a_skipped_one_or_needing_a_server_are_left_out_quietly(tmp_path, monkeypatch, caplog):
    """A name only a '# toolkit: skip' cell defines, or a NotServing error (e.g. a LiveBot turn, whose
    answers need the app's server), marks a cell as one for the live notebook: an info line, no warning."""
    cells = CELLS[:3] + [
        "# toolkit: skip  (a demonstration)\nturn = app.call('/price', {'sku': 'A1'})",
        "print(turn['session'])",
        "from toolkit.errors import NotServing\nraise NotServing('App x is not served.')",
        "also_undefined + 1",
    ]
    monkeypatch.chdir(tmp_path)
    caplog.set_level("INFO", logger="toolkit")
    load(make_notebook(tmp_path, cells).name)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "cell 7 ('also_undefined + 1') failed headless: NameError" in warnings[0]
    quiet = [r.getMessage() for r in caplog.records if r.levelname == "INFO" and "live notebook" in r.getMessage()]
    assert [m.split(",")[1].split("(")[0].strip() for m in quiet] == ["cell 5", "cell 6"]
    assert "NotServing: App x is not served. Skipped it: it needs the live notebook" in quiet[1]  # not '..'


def test_serving_a_notebook_prints_none_of_its_demonstration(tmp_path, monkeypatch, capsys, caplog):
    """Cells that need the live notebook (HTTP to its own server, widgets, names they define) are left out
    quietly; the notebook's prints, progress bars and the errors its examples log stay out of the output.
    A real failure still warns."""
    cells = CELLS[:5] + [
        "import requests\nanswer = requests.post(server.url + '/price', json={'sku': 'A1'})",
        "answer.json()['session']",
        "chat = toolkit.ChatView(object())\nprint(server)\nprint('a demo line')",
        "@app.handler('/boom')\ndef boom():\n    raise ValueError('on purpose')\n\n"
        "from toolkit import testing\nprint(app.test_client().post('/boom', json={}).status_code)",
        "undefined_name + 1",
    ]
    nb = make_notebook(tmp_path, cells)
    monkeypatch.chdir(tmp_path)
    caplog.set_level("INFO", logger="toolkit")
    app = load(nb.name)
    assert sorted(app.handlers) == ["/boom", "/pid", "/price"]
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""  # no <headless>, no demo line, no 500 traceback, no bar
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "cell 10 ('undefined_name + 1') failed headless: NameError" in warnings[0]
    assert "on purpose" not in caplog.text.replace("raise ValueError('on purpose')", "")
    quiet = [r.getMessage() for r in caplog.records if r.levelname == "INFO" and "live notebook" in r.getMessage()]
    assert [m.split(",")[1].split("(")[0].strip() for m in quiet] == ["cell 6", "cell 7"]
