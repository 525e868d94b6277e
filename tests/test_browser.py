"""The live log in a real browser: JupyterLab on loopback, Debian's Chromium driven headless by
Playwright, a notebook that serves an app and shows ``app.log_view()``, requests sent from here.

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``) and the PyPI ``playwright`` package
(``pip install playwright``; never ``playwright install``: the system Chromium is used). ``.ci/run``
installs Chromium, so CI never skips this test. The screenshot lands in ``tests/artifacts/logview.png``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import requests
from helpers import wait_until

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
OUTPUT = ".jp-OutputArea-output"

CELLS = [
    '''import toolkit

app = toolkit.App("browser-demo")


@app.handler("/orders")
def orders(order_id: str):
    if order_id == "A-0":
        raise LookupError(f"no order {order_id}")
    return toolkit.Reply(
        session={"order": {"id": order_id, "status": "shipped"}},
        messages=[toolkit.text(f"Order {order_id} has shipped."),
                  toolkit.quick_replies("Anything else?", toolkit.postback("Track it", "track"),
                                        toolkit.location("Nearest store", "stores"))],
        next_dialogstate="order-found")


server = app.serve(port=0)
print(f"serving on port {server.port}")''',
    "view = app.log_view()\nview",
]


def _skip_reason() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing: run 'apt-get install -y chromium' (as root) to enable this test"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is missing: run 'pip install playwright' (never 'playwright install') to enable it"
    if shutil.which("jupyter-lab", path=os.path.dirname(sys.executable)) is None:
        return "JupyterLab is missing: run \"pip install -e '.[dev]'\" to enable this test"
    return None


@dataclass
class Lab:
    url: str
    token: str
    folder: Path


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """A fresh JupyterLab on a free loopback port, serving a folder with the test notebook."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    work = tmp_path / "work"
    work.mkdir()
    nbformat.write(nb, work / "live_log.ipynb")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    quiet = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    quiet.mkdir(parents=True)  # no "Jupyter news?" toast over the screenshot, no update checks
    (quiet / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false, "doNotDisturbMode": true}')
    token = secrets.token_hex(16)
    log = open(tmp_path / "lab.log", "wb")  # noqa: SIM115 - closed below
    # --port=0: JupyterLab takes a port itself and writes it in its runtime file (a port picked free
    # here and bound seconds later by JupyterLab could be taken by another process in between)
    proc = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "jupyter-lab"), "--no-browser", "--ip=127.0.0.1",
         "--port=0", f"--ServerApp.token={token}", "--allow-root", f"--ServerApp.root_dir={work}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = ""
    try:
        port = wait_until(lambda: _runtime_port(tmp_path / "rt", proc.pid), 45, "JupyterLab's runtime file",
                          interval=0.2)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _status(url, token) == 200, 45, "JupyterLab to answer", interval=0.2)
        yield Lab(url, token, work)
    finally:
        _stop_lab(proc, url, token)
        log.close()


def _runtime_port(folder: Path, pid: int) -> int | None:
    """The port JupyterLab (process ``pid``) wrote in its runtime file, once the file is whole."""
    try:
        return int(json.loads((folder / f"jpserver-{pid}.json").read_text())["port"])
    except (OSError, ValueError, KeyError):
        return None


def _status(url: str, token: str) -> int:
    try:
        return requests.get(f"{url}/api/status", params={"token": token}, timeout=2).status_code
    except requests.RequestException:
        return 0


def _stop_lab(proc: subprocess.Popen, url: str, token: str) -> None:
    """Shut the kernels down through the API, then stop JupyterLab by its pid."""
    try:
        for kernel in requests.get(f"{url}/api/kernels", params={"token": token}, timeout=5).json():
            requests.delete(f"{url}/api/kernels/{kernel['id']}", params={"token": token}, timeout=10)
    except requests.RequestException:
        pass
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: JupyterLab and any kernel left
        proc.wait(timeout=5)


def test_live_log_shows_requests_in_jupyterlab(lab: Lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1250})
            page.goto(f"{lab.url}/lab/tree/live_log.ipynb?token={lab.token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=30_000)
            page.wait_for_selector("text=/Python 3 \\(ipykernel\\) \\| Idle/", timeout=30_000)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            served = page.wait_for_selector(f"{OUTPUT} >> text=/serving on port \\d+/", timeout=40_000)
            app_port = int(re.search(r"serving on port (\d+)", served.inner_text()).group(1))
            page.wait_for_selector(f"{OUTPUT} >> text=Live log · browser-demo", timeout=20_000)

            with requests.Session() as http:
                for n in range(1, 7):
                    r = http.post(f"http://127.0.0.1:{app_port}/orders", json={"order_id": f"A-{n}"}, timeout=5)
                    assert r.status_code == 200
                assert http.post(f"http://127.0.0.1:{app_port}/orders", json={"order_id": "A-0"},
                                 timeout=5).status_code == 500
                assert http.get(f"http://127.0.0.1:{app_port}/refunds", timeout=5).status_code == 404

            page.wait_for_function("document.querySelectorAll('.tk-row').length >= 8", timeout=10_000)
            rows = page.locator(".tk-row")
            assert rows.count() == 8
            assert "/refunds" in rows.nth(0).inner_text() and "404" in rows.nth(0).inner_text()
            assert "500" in rows.nth(1).inner_text() and "error" in rows.nth(1).inner_text()
            assert "orders" in rows.nth(2).inner_text() and "200" in rows.nth(2).inner_text()
            # the count line is its own widget: it may reach the page a redraw after the rows
            page.wait_for_selector(f"{OUTPUT} >> text=Showing 8 of 8 exchanges", timeout=10_000)

            page.locator(f"{OUTPUT} .widget-button", has_text="›").nth(2).click()  # the newest 200
            page.wait_for_selector(f"{OUTPUT} >> text=What the user sees", timeout=10_000)
            assert page.locator(f"{OUTPUT} >> text=Order A-6 has shipped.").count() >= 1
            assert page.locator(f"{OUTPUT} >> text=Nearest store").count() >= 1

            ARTIFACTS.mkdir(exist_ok=True)
            page.locator(f"{OUTPUT} >> text=Live log · browser-demo").evaluate(
                "e => e.scrollIntoView({block: 'start'})")  # the whole view, detail pane included
            page.screenshot(path=str(ARTIFACTS / "logview.png"))
        finally:
            browser.close()
    assert (ARTIFACTS / "logview.png").stat().st_size > 10_000
