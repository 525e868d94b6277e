"""The chat and the live log in a real browser: JupyterLab on loopback, Debian's Chromium driven headless
by Playwright at 1280 px, a notebook that serves an app and shows a ``ChatView`` beside ``app.log_view()``,
requests sent from here. Layout is asserted from the DOM (nothing scrolls sideways, status, ms and flags
stay visible), bubbles are found as bubble elements, and a request is edited and replayed from the
detail pane. Every wait is on a selector with a deadline.

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``) and the PyPI ``playwright`` package
(``pip install playwright``; never ``playwright install``: the system Chromium is used). ``.ci/run``
installs Chromium, so CI never skips this test: under CI (``CI=true``) a missing part fails it (needs.py). Screenshots land in ``tests/artifacts/``: ``logview.png``
(the chat beside the live log) and ``edit-replay.png`` (an edited replay from the detail pane); and, after
*Run All* of the shipped notebooks 01 and 03 (whose last cells close their views and stop the server),
``runall-01_quickstart.png`` and ``runall-03_conversations.png``: the views keep their last state; and
``proxied-links.png``: behind jupyter-server-proxy the links a person clicks go through ``/proxy/<port>``.
"""

from __future__ import annotations

import contextlib
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
from typing import Any

import nbformat
import pytest
import requests
from helpers import wait_until
from needs import missing

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
OUTPUT = ".jp-OutputArea-output"

CELLS = [
    '''import ipywidgets
import toolkit

app = toolkit.App("browser-demo")


@app.handler("/orders")
def orders(order_id: str):
    if order_id == "A-0":
        raise LookupError(f"no order {order_id}")
    return toolkit.Reply(
        session={"order": {"id": order_id, "status": "shipped"}},
        messages=[toolkit.text("Order {order.id} has {order.status}."),
                  toolkit.quick_replies("Anything else?", toolkit.postback("Track it", "track"),
                                        toolkit.location("Nearest store", "stores"))],
        next_dialogstate="order-found")


@app.handler("/menu")
def menu(kind: str = "coffee"):
    drinks = [("Latte", 3.2), ("Mocha", 3.6), ("Flat white", 3.4), ("Cortado", 2.9), ("Chai", 3.1)]
    cards = [toolkit.card(name, f"{price:.2f} EUR", buttons=[toolkit.postback("Choose", "picked", {"pick": name})])
             for name, price in drinks]
    return toolkit.Reply(messages=[toolkit.text(f"Our {kind} menu:"), toolkit.carousel(*cards),
                                   toolkit.text("Swipe for more; anything else, just ask.")])


server = app.serve(port=0)
print(f"serving on port {server.port}")''',
    '''flow = toolkit.Flow("cafe")
flow.message("welcome", toolkit.quick_replies("Hi! What would you like?",
                                              toolkit.postback("Coffee", "menu", {"kind": "coffee"})))
flow.api("menu", toolkit.ApiStep("POST", "/menu", body=[("kind", "variable", "kind")]))
chat = toolkit.ChatView(toolkit.Conversation(flow, backend=app))
view = app.log_view()
ipywidgets.HBox([chat, view])''',
]
# Elements that must never scroll sideways: the chat, its bubbles, the log view, its table and detail pane.
NO_OVERFLOW = [".tk-chat", ".tk-chat-bubbles", ".tk-logview", ".tk-table", ".tk-detail"]
WIDTH = 1280


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


def _require() -> None:
    """Skip (outside CI) or fail (under CI) when a part the browser test needs is missing."""
    reason = _skip_reason()
    if reason:
        missing(reason)


@dataclass
class Lab:
    url: str
    token: str
    folder: Path


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """A fresh JupyterLab on a free loopback port, serving a folder with the test notebook."""
    _require()
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
        port = wait_until(lambda: _runtime_port(tmp_path / "rt", proc.pid), 90, "JupyterLab's runtime file",
                          interval=0.2)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _status(url, token) == 200, 90, "JupyterLab to answer", interval=0.2)
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


@contextlib.contextmanager
def run_all(lab: Lab, notebook: str, *, height: int, failure: str, width: int = WIDTH) -> Iterator[Any]:
    """A Chromium page on ``notebook`` (a path under the lab's folder) with *Run All Cells* clicked once
    the kernel is idle. On a failure inside, the page is saved as ``failure`` in the artifacts."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS, timeout=120_000)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)  # clicks and reads wait this long on a loaded machine
            try:
                page.goto(f"{lab.url}/lab/tree/{notebook}?token={lab.token}")
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
                page.wait_for_selector("text=/Python 3 \\(ipykernel\\) \\| Idle/", timeout=120_000)
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
                yield page
            except BaseException:
                page.screenshot(path=str(ARTIFACTS / failure))  # the page as it was when it failed
                raise
        finally:
            browser.close()


def test_chat_beside_the_live_log_in_jupyterlab_at_1280_px(lab: Lab):
    with run_all(lab, "live_log.ipynb", height=1400, failure="failure.png") as page:
        app_port = _notebook_is_served(page)
        _chat_shows_a_carousel_without_widening(page)
        _send_requests(app_port)
        _rows_show_status_ms_and_flags(page)
        _no_horizontal_overflow(page)
        _detail_pane_renders_bubbles(page)
        _screenshot(page, "logview.png", ".tk-chat")
        _edit_and_replay(page)
        _screenshot(page, "edit-replay.png", ".tk-edit-request")
        _clear_says_what_it_did(page)


def _notebook_is_served(page) -> int:
    served = page.wait_for_selector(f"{OUTPUT} >> text=/serving on port \\d+/", timeout=120_000)
    page.wait_for_selector(f"{OUTPUT} >> text=Live log · browser-demo", timeout=60_000)
    page.wait_for_selector(".tk-chat .tk-bubble >> text=Hi! What would you like?", timeout=60_000)
    return int(re.search(r"serving on port (\d+)", served.inner_text()).group(1))


def _chat_shows_a_carousel_without_widening(page) -> None:
    page.locator(".tk-chat .widget-button", has_text="Coffee").click()
    page.wait_for_selector(".tk-chat .tk-bubble >> text=Swipe for more; anything else, just ask.", timeout=60_000)
    chat = page.locator(".tk-chat").bounding_box()
    assert 400 <= chat["width"] <= 440, chat  # 420 px, whatever the carousel holds
    carousel = page.locator(".tk-chat .tk-carousel")
    assert carousel.locator(".tk-card").count() == 5
    assert carousel.evaluate("e => e.scrollWidth > e.clientWidth")  # the cards scroll inside their own row
    for bubble in page.locator(".tk-chat .tk-bubble").all():  # every bubble inside the chat, none cut off
        box = bubble.bounding_box()
        assert box["x"] >= chat["x"] and box["x"] + box["width"] <= chat["x"] + chat["width"], bubble.inner_text()
    assert page.locator(".tk-chat .tk-bubble", has_text="Our coffee menu:").count() == 1


def _send_requests(app_port: int) -> None:
    with requests.Session() as http:
        for n in range(1, 7):
            r = http.post(f"http://127.0.0.1:{app_port}/orders", json={"order_id": f"A-{n}"}, timeout=10)
            assert r.status_code == 200
        assert http.post(f"http://127.0.0.1:{app_port}/orders", json={"order_id": "A-0"},
                         timeout=10).status_code == 500
        assert http.get(f"http://127.0.0.1:{app_port}/refunds", timeout=10).status_code == 404


def _rows_show_status_ms_and_flags(page) -> None:
    page.wait_for_function("document.querySelectorAll('.tk-row').length >= 9", timeout=60_000)
    rows = page.locator(".tk-row")
    assert rows.count() == 9  # the emulator's /menu call, then 8 over HTTP
    assert "/refunds" in rows.nth(0).inner_text() and "404" in rows.nth(0).inner_text()
    assert "500" in rows.nth(1).inner_text() and "error" in rows.nth(1).inner_text()
    assert "orders" in rows.nth(2).inner_text() and "200" in rows.nth(2).inner_text()
    assert "emulator" in rows.nth(8).inner_text()
    table = page.locator(".tk-table").bounding_box()
    for column in (".tk-status", ".tk-ms", ".tk-flags"):  # visible beside the chat, not cut off at 1280 px
        box = rows.nth(1).locator(column).bounding_box()
        assert box["width"] > 20 and box["x"] + box["width"] <= table["x"] + table["width"] + 1, column
    assert rows.nth(1).locator(".tk-flags").inner_text().strip() == "error"
    page.wait_for_selector(f"{OUTPUT} >> text=Showing 9 of 9 exchanges", timeout=60_000)


def _no_horizontal_overflow(page) -> None:
    for selector in NO_OVERFLOW:
        sizes = page.locator(selector).first.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert sizes[0] <= sizes[1], f"{selector} overflows sideways: scrollWidth {sizes[0]} > {sizes[1]}"
    chat, log = page.locator(".tk-chat").bounding_box(), page.locator(".tk-logview").bounding_box()
    assert chat["x"] + chat["width"] <= log["x"] and log["x"] + log["width"] <= WIDTH  # side by side, on screen


def _detail_pane_renders_bubbles(page) -> None:
    pickers = page.locator(".tk-logview .widget-button", has_text=re.compile("^›$"))
    pickers.nth(8).click()  # the emulator's /menu call: a carousel in the detail pane too
    page.wait_for_selector(".tk-detail .tk-carousel .tk-card >> text=Cortado", timeout=60_000)
    sizes = page.locator(".tk-detail").evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert sizes[0] <= sizes[1], f"the detail pane overflows sideways with a carousel: {sizes}"
    assert page.locator(".tk-detail .tk-carousel").evaluate("e => e.scrollWidth > e.clientWidth")
    pickers.nth(2).click()  # the newest 200
    detail = page.locator(".tk-detail")
    page.wait_for_selector(".tk-detail .tk-bubble >> text=Order A-6 has shipped.", timeout=60_000)
    assert detail.locator(".tk-bubble", has_text="Anything else?").count() == 1
    assert detail.locator(".tk-chip", has_text="Nearest store").count() == 1
    assert detail.locator(".tk-bubble", has_text="{order.id}").count() == 0  # rendered with the reply's session


def _edit_and_replay(page) -> None:
    page.locator(".tk-edit").click()
    editor = page.locator(".tk-edit-request textarea")
    page.wait_for_function("document.querySelector('.tk-edit-request textarea')?.value.includes('A-6')",
                           timeout=60_000)
    editor.fill(editor.input_value().replace('"A-6"', '"A-99"'))
    page.locator(".tk-replay-edited").click()
    page.wait_for_selector(".tk-comparison .tk-bubble >> text=Order A-99 has shipped.", timeout=60_000)
    assert page.locator(".tk-comparison .tk-bubble", has_text="Order A-6 has shipped.").count() == 1  # before
    page.wait_for_selector(f"{OUTPUT} >> text=/Replayed #\\d+ as edited/", timeout=60_000)
    page.wait_for_function("[...document.querySelectorAll('.tk-row')].some(r => r.innerText.includes('edited'))",
                           timeout=60_000)
    newest = page.locator(".tk-row").nth(0).inner_text()
    assert "edited" in newest and "replay" in newest and "200" in newest


def _clear_says_what_it_did(page) -> None:
    page.locator(".tk-logview .widget-button", has_text="Clear").click()
    page.wait_for_selector(f"{OUTPUT} >> text=/Cleared 10 exchanges from the view/", timeout=60_000)
    assert page.locator(f"{OUTPUT} >> text=No requests yet").count() == 0


def _screenshot(page, name: str, top: str) -> None:
    page.locator(top).evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / name))
    assert (ARTIFACTS / name).stat().st_size > 10_000


RUN_ALL = {  # notebook: what its frozen views must still show after Run All
    "01_quickstart": {"rows": 3, "chat": False},
    "03_conversations": {"rows": 1, "chat": True},
}


@pytest.mark.parametrize("name", sorted(RUN_ALL))
def test_run_all_leaves_the_closed_views_showing_their_last_state(lab: Lab, name: str):
    """The notebooks close their views and stop their servers in the last cell; after Run All the log (and
    chat) must still show what happened, marked as stopped, not an empty output."""
    root = Path(__file__).resolve().parent.parent
    (lab.folder / "notebooks").mkdir()
    shutil.copy(root / "notebooks" / f"{name}.ipynb", lab.folder / "notebooks")
    shutil.copytree(root / "data", lab.folder / "data")
    with run_all(lab, f"notebooks/{name}.ipynb", height=1000, width=1300,
                 failure=f"runall-{name}-failure.png") as page:
        frozen = ".tk-logview .tk-frozen"
        page.wait_for_selector(f"{frozen} >> text=Stopped: this log view no longer updates", timeout=240_000)
        expected = RUN_ALL[name]
        log = page.locator(frozen).first
        log.scroll_into_view_if_needed()  # JupyterLab hides cells far outside the viewport
        assert log.locator(".tk-row").count() >= expected["rows"], log.text_content()
        assert "Live log" in log.text_content() and "Showing" in log.text_content()
        if expected["chat"]:
            chat = page.locator(".tk-chat .tk-frozen").first
            page.wait_for_selector(".tk-chat .tk-frozen >> text=Stopped", timeout=60_000)
            assert chat.locator(".tk-bubble").count() >= 2, chat.text_content()
        assert page.locator(".tk-logview .widget-button").count() == 0  # the live controls are gone
        _screenshot(page, f"runall-{name}.png", ".tk-logview")


PROXY_CELLS = [
    "import toolkit\napp = toolkit.App('proxied')\napp.add_handler('/hi', lambda: 'hi')\n"
    "server = app.serve(port=0)\nserver",
    "view = app.log_view()\nview",
]


def test_behind_jupyter_server_proxy_the_links_humans_click_go_through_the_proxy(lab: Lab):
    """With jupyter-server-proxy in JupyterLab, the server's display and the log view link to
    /proxy/<port>/..., and following that link in the browser reaches the kernel's server."""
    pytest.importorskip("jupyter_server_proxy", reason="pip install jupyter-server-proxy (the dev extra has it)")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in PROXY_CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, lab.folder / "proxied.ipynb")
    with run_all(lab, "proxied.ipynb", height=800, width=1300, failure="proxied-failure.png") as page:
        link = page.wait_for_selector(f"{OUTPUT} a[href^='/proxy/']", timeout=120_000)
        href = link.get_attribute("href")
        assert re.fullmatch(r"/proxy/\d+/_toolkit/health", href), href
        served_at = page.wait_for_selector(".tk-served-at", timeout=60_000)
        assert served_at.get_attribute("href") == href
        _screenshot(page, "proxied-links.png", ".jp-Notebook")
        answer = page.evaluate("url => fetch(url).then(r => r.json())", href)  # through JupyterLab
        assert answer["status"] == "ok" and answer["app"] == "proxied"
