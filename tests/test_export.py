"""`toolkit export`: the module keeps handlers, imports and data (paths rewritten to work from
anywhere), leaves notebook-only code out, passes the same fixture tests as the notebook it came from,
and `gunicorn app:wsgi` serves it.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from helpers import request_json
from wire import exchange

import toolkit
import toolkit.server.lifecycle
from toolkit.__main__ import main
from toolkit.deploy.export import MARK, export, export_source
from toolkit.deploy.loader import load
from toolkit.errors import ServeError
from toolkit.server.engine import HTTPServer
from toolkit.testing.fixtures import check_folder, save_fixtures

CELLS = [
    "%load_ext autoreload\nimport json\nfrom pathlib import Path\n\nimport pandas as pd\nimport toolkit",
    "# Data: paths relative to this notebook's folder, as Jupyter runs it.\n"
    "app = toolkit.App('export-shop')\nPRODUCTS = pd.read_csv('../data/products.csv')\n"
    "DATA = Path('../data')\nPRODUCTS",
    "@app.handler('/product')\ndef product(sku: str):\n"
    "    row = PRODUCTS[PRODUCTS.sku == sku]\n"
    "    if row.empty:\n"
    "        return toolkit.Reply(messages=[toolkit.text(f'No product {sku}.')], next_dialogstate='not-found')\n"
    "    return toolkit.Reply(session={'product': row.iloc[0].to_dict()},\n"
    "                         messages=[toolkit.text(f\"{row.iloc[0]['name']}: {row.iloc[0]['price']} EUR\")])\n\n\n"
    "@app.handler('/stock/<sku>', methods=['GET'])\ndef stock(sku: str):\n"
    "    # read at request time, so the path must work wherever the module runs\n"
    "    stock = json.loads((DATA / 'stock.json').read_text())\n"
    "    shops = pd.read_csv(f'../data/shops.csv')\n"
    "    return f'{stock.get(sku, 0)} in stock in {len(shops)} shops'",
    "server = app.serve(port=0)\nview = app.log_view()\nview",
    "%%time\nassert app.call('/product', {'sku': 'A1'})['session']['data']['price'] == 499",
    "result = app.call('/stock/A1', method='GET')\nresult",
    "tunnel = server.expose(provider='fake')\nprint(tunnel)\nserver.stop()",
]


def make_project(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data" / "products.csv").write_text("sku,name,price\nA1,Bike,499\nB2,Helmet,59\n")
    (root / "data" / "stock.json").write_text('{"A1": 3, "B2": 0}')
    (root / "data" / "shops.csv").write_text("shop\nGhent\nLeuven\n")
    (root / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Shop bot")] + [nbformat.v4.new_code_cell(c) for c in CELLS]
    path = root / "notebooks" / "shop.ipynb"
    nbformat.write(nb, path)
    return path


REQUESTS = [
    ("POST", "/product", {"sku": "A1"}),
    ("POST", "/product", {"sku": "B2"}),
    ("POST", "/product", {"sku": "ZZ"}),
    ("POST", "/product", {}),  # 400: missing sku
    ("GET", "/stock/A1", None),
    ("GET", "/stock/B2", None),
    ("POST", "/stock/A1", None),  # 405
    ("POST", "/nothing-here", {}),  # 404
]


def test_the_exported_module_passes_the_notebooks_fixture_tests(tmp_path, monkeypatch):
    nb = make_project(tmp_path / "project")
    monkeypatch.chdir(nb.parent)  # the notebook runs in its folder, as in Jupyter
    nb_app = load(nb.name)
    nb_app.log.clear()
    for method, path, body in REQUESTS:
        nb_app.call(path, body, method=method, raise_errors=False)
    fixtures = tmp_path / "fixtures"
    save_fixtures(nb_app.log.entries(), fixtures, app=nb_app)
    assert len(list(fixtures.glob("*.json"))) == len(REQUESTS)
    assert check_folder(nb_app, fixtures)  # the fixtures pass against the notebook...

    out = tmp_path / "deploy" / "app.py"
    export(nb, out)
    monkeypatch.chdir(tmp_path)  # ...and against the module, run from another folder
    exported = load(out)
    assert exported is not nb_app and exported.name == "export-shop"
    report = check_folder(exported, fixtures)
    assert len(report.results) == len(REQUESTS) and not report.failed, str(report)
    statuses = sorted(json.loads(p.read_text())["response"]["status"] for p in fixtures.glob("*.json"))
    assert statuses == [200, 200, 200, 200, 200, 400, 404, 405]


def test_a_changed_answer_fails_the_fixture_tests(tmp_path, monkeypatch):
    nb = make_project(tmp_path / "project")
    monkeypatch.chdir(nb.parent)
    nb_app = load(nb.name)
    nb_app.log.clear()
    nb_app.call("/product", {"sku": "A1"})
    save_fixtures(nb_app.log.entries(), tmp_path / "fixtures", app=nb_app)
    (tmp_path / "project" / "data" / "products.csv").write_text("sku,name,price\nA1,Bike,549\n")
    out = tmp_path / "deploy" / "app.py"
    export(nb, out)
    assert not check_folder(load(out), tmp_path / "fixtures")  # the exported module reads the data


def test_notebook_only_code_is_left_out(tmp_path):
    nb = make_project(tmp_path / "project")
    result = export_source(nb, tmp_path / "deploy" / "app.py")
    code = [ln for ln in result.source.splitlines() if not ln.lstrip().startswith("#")]
    body = "\n".join(code)
    for gone in ("app.serve(", "log_view(", "expose(", "server.stop()", "app.call(", "print(tunnel)",
                 "%load_ext", "%%time"):
        assert gone not in body, gone
    assert "server = app.serve(port=0)" in result.left_out  # a cell of only such code is left out whole
    assert "# notebook only: PRODUCTS" in result.source  # in a mixed cell, a comment marks the spot
    assert "# notebook only: %load_ext autoreload" in result.source
    assert "@app.handler('/product')" in body and "def stock(sku: str):" in body
    assert "# read at request time" in result.source  # the analyst's comments stay
    assert "PRODUCTS = pd.read_csv(_path('../data/products.csv'))" in body
    assert "DATA = Path(_path('../data'))" in body
    assert "shops = pd.read_csv(_path(f'../data/shops.csv'))" in body
    assert "wsgi = wsgi_app(app)" in body and result.app_var == "app"
    assert MARK in result.source


def test_importing_the_module_starts_nothing(tmp_path):
    nb = make_project(tmp_path / "project")
    out = tmp_path / "deploy" / "app.py"
    export(nb, out)
    before = toolkit.server.lifecycle.running()
    probe = ("import runpy, sys, threading, toolkit.server.lifecycle\n"
             f"ns = runpy.run_path({str(out)!r})\n"
             "assert callable(ns['wsgi']) and not toolkit.server.lifecycle.running()\n"
             "assert 'toolkit.widgets.logview' not in sys.modules\n"
             "print(sorted(ns['app'].handlers))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['/product', '/stock/<sku>']"
    assert toolkit.server.lifecycle.running() == before


FLASK_CELLS = [
    "import flask\nimport toolkit\napp = toolkit.App('export-flask')",
    "@app.handler('/hello')\ndef hello(name: str = 'there'):\n    return f'Hello {name}!'",
    "@app.flask.get('/healthz')\ndef healthz():\n    return {'ok': True}\n\n\n"
    "@app.flask.after_request\ndef cors(response):\n    response.headers['Access-Control-Allow-Origin'] = '*'\n"
    "    return response",
    "app.flask.add_url_rule('/version', 'version', lambda: {'version': 2})",
    "server = app.serve(port=0)\napp.call('/hello')",
]


def test_the_exported_wsgi_is_app_flask_with_the_notebooks_routes_and_hooks(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in FLASK_CELLS]
    path = tmp_path / "nb" / "bot.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    out = tmp_path / "deploy" / "bot.py"
    export(path, out)
    monkeypatch.syspath_prepend(str(out.parent))
    module = importlib.import_module("bot")
    assert module.wsgi is module.app.flask
    engine = HTTPServer(module.wsgi, "127.0.0.1", 0, name="exported")  # waitress, as toolkit serve runs it
    engine.start()
    try:
        status, headers, data = exchange(engine.port, "POST", "/hello", {"name": "Ada"})
        assert (status, json.loads(data)["messages"][0]["config"]["textMessages"][0]["text"]) == (200, "Hello Ada!")
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert exchange(engine.port, "GET", "/healthz")[::2] == (200, b'{"ok":true}\n')
        assert exchange(engine.port, "GET", "/version")[::2] == (200, b'{"version":2}\n')
    finally:
        engine.stop()
        sys.modules.pop("bot", None)


def _request(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    return request_json("127.0.0.1", port, method, path, body, timeout=10)


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="gunicorn runs on Linux and macOS only")
def test_gunicorn_serves_app_wsgi(tmp_path):
    nb = make_project(tmp_path / "project")
    deploy = tmp_path / "deploy"
    export(nb, deploy / "app.py")
    # The socket is bound here and handed over (fd://): a port found free and bound later by
    # gunicorn could be taken by another process in between.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "app:wsgi", "--bind", f"fd://{listener.fileno()}", "--workers",
                             "2", "--no-control-socket"], cwd=deploy, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, pass_fds=[listener.fileno()])
    listener.close()  # gunicorn holds it now
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = _request(port, "GET", "/stock/A1")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.05)
        assert status == 200
        assert body["messages"][0]["config"]["textMessages"][0]["text"] == "3 in stock in 2 shops"
        assert _request(port, "POST", "/product", {"sku": "B2"})[1]["session"]["data"]["price"] == 59
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def test_export_replaces_its_own_file_but_not_a_foreign_one(tmp_path):
    nb = make_project(tmp_path / "project")
    out = tmp_path / "app.py"
    export(nb, out)
    export(nb, out)  # a re-export replaces the earlier one
    foreign = tmp_path / "mine.py"
    foreign.write_text("print('my own code')\n")
    with pytest.raises(ServeError, match="was not written by toolkit export") as info:
        export(nb, foreign)
    assert "--force" in info.value.hint
    assert foreign.read_text() == "print('my own code')\n"
    export(nb, foreign, force=True)
    assert MARK in foreign.read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no half-written files


def test_several_apps_need_a_choice(tmp_path):
    nb = tmp_path / "two.ipynb"
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("import toolkit\nshop = toolkit.App('shop')\n"
                                            "admin = toolkit.App('admin')")]
    nbformat.write(book, nb)
    with pytest.raises(ServeError, match="several Apps: admin, shop") as info:
        export_source(nb, tmp_path / "app.py")
    assert "--app" in info.value.hint
    assert export_source(nb, tmp_path / "app.py", app="admin").app_var == "admin"
    assert export_source(nb, tmp_path / "app.py", app="shop").source.rstrip().endswith(
        'print(f"Serving {shop.name!r} at {url}"))')


def test_a_cell_that_is_not_python_is_named(tmp_path):
    nb = tmp_path / "bad.ipynb"
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("import toolkit\napp = toolkit.App('x')"),
                  nbformat.v4.new_code_cell("def broken(:\n    pass")]
    nbformat.write(book, nb)
    with pytest.raises(ServeError, match="bad.ipynb: Cell 2 is not valid Python"):
        export_source(nb, tmp_path / "app.py")


def test_the_command(tmp_path, capsys):
    nb = make_project(tmp_path / "project")
    out = tmp_path / "app.py"
    assert main(["export", str(nb), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "Wrote" in said and "gunicorn app:wsgi" in said and out.exists()
    assert main(["export", str(nb), "-o", str(tmp_path / "app.txt")]) == 1
    assert "must be a .py file" in capsys.readouterr().err
