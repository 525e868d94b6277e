"""Re-run the cell, see what changed: redefining a handler replays its logged requests and fixtures
(safely) and shows under that cell how many answers are unchanged, which changed and which now fail.
Checked as objects, then in a real Jupyter kernel (the report is displayed under the redefining cell)."""

from __future__ import annotations

import logging

import nbformat
import pytest

import toolkit as tk
from toolkit.app import DEFAULT_REPLACE_HOOKS
from toolkit.log import Sandbox, current_sandbox
from toolkit.testing.fixtures import save_fixtures
from toolkit.testing.rerun import on_replace, recheck, served_by


def _shop(app: tk.App, *, late: tuple[str, ...] = (), broken: tuple[str, ...] = (), seen: list | None = None):
    @app.handler("/orders")
    def orders(order_id: str):
        if seen is not None:
            seen.append(current_sandbox())
        if order_id in broken:
            raise KeyError(order_id)
        return tk.text(f"Order {order_id} is {'late' if order_id in late else 'shipped'}.")

    return orders


@pytest.fixture
def shop() -> tk.App:
    app = tk.App("shop")
    _shop(app)
    app.add_handler("/hello", lambda: "hi")
    for order in ("A-1", "A-2", "A-3", "A-1"):
        app.call("/orders", {"order_id": order})
    app.call("/hello")
    return app


def test_app_calls_its_hooks_on_a_replacement_only(caplog):
    app = tk.App("hooks")
    calls = []
    app.replace_hooks.append(lambda a, old, new: calls.append((a, old.fn.__name__, new.fn.__name__)))
    app.replace_hooks.append(lambda *_: 1 / 0)

    def first():
        return "1"

    def second():
        return "2"

    app.add_handler("/x", first)
    assert calls == []
    with caplog.at_level(logging.ERROR, logger="toolkit"):
        assert app.add_handler("/x", second) is second  # a failing hook never breaks redefining
    assert calls == [(app, "first", "second")] and "replace hook" in caplog.text
    assert app.call("/x")["messages"][0] == tk.text("2")
    assert on_replace in DEFAULT_REPLACE_HOOKS and on_replace in tk.App("new").replace_hooks


def test_outside_a_notebook_redefining_replays_nothing(shop):
    before = len(shop.log)
    _shop(shop, late=("A-1",))  # pytest has no IPython shell: nothing to show, nothing replayed
    assert len(shop.log) == before


def test_recheck_sorts_unchanged_changed_and_now_failing(shop):
    seen: list = []
    _shop(shop, late=("A-2",), broken=("A-3",), seen=seen)
    route = next(r for r in shop.routes() if r.path == "/orders")
    report = recheck(shop, route)
    assert [o.label for o in report.unchanged] == ["#4 POST /orders"]  # A-1, the newest of two
    assert [o.label for o in report.changed] == ["#2 POST /orders"]
    assert [o.label for o in report.failing] == ["#3 POST /orders"]
    assert repr(report) == "<Recheck /orders: 1 unchanged, 1 changed, 1 now failing>"
    assert all(isinstance(box, Sandbox) for box in seen) and len(seen) == 3  # every replay in the sandbox
    html = report._repr_html_()
    assert "Redefined /orders: replayed 3 request(s) safely: 1 unchanged, 1 changed, 1 now failing." in html
    assert html.count("<details>") == 2 and "<b>#3 POST /orders</b> now fails: status" in html
    assert "Order A-2 is shipped." in html and "Order A-2 is late." in html  # the diff, a click away
    assert [e.source for e in shop.log][-3:] == ["replay"] * 3  # logged like any replay
    again = recheck(shop, route)
    assert repr(again) == "<Recheck /orders: 1 unchanged, 1 changed, 1 now failing>"  # replays are not replayed


def test_a_handler_now_answering_4xx_is_now_failing_not_changed(shop, tmp_path):
    save_fixtures([e for e in shop.log if e.path == "/orders"][:1], tmp_path, app=shop, names=["a1"])

    @shop.handler("/orders")
    def orders(order_id: str, customer: str):  # a new required parameter: every old request is a 400
        return tk.text(f"Order {order_id} of {customer}.")

    route = next(r for r in shop.routes() if r.path == "/orders")
    report = recheck(shop, route, folder=tmp_path)
    assert [o.result.new.status for o in report.outcomes[:3]] == [400, 400, 400]
    assert report.outcomes[3].result.status == 400  # the fixture
    assert report.changed == [] and len(report.failing) == 4
    assert repr(report) == "<Recheck /orders: 0 unchanged, 0 changed, 4 now failing>"
    assert report._repr_html_().count(" now fails: ") == 4


def test_fixtures_count_too_and_a_setting_limits_or_stops_it(shop, tmp_path):
    save_fixtures([e for e in shop.log if e.path == "/orders"][:2], tmp_path, app=shop, names=["a1", "a2"])
    (tmp_path / "broken.json").write_text("{not json")  # a broken file never breaks redefining
    _shop(shop, late=("A-1",))
    route = next(r for r in shop.routes() if r.path == "/orders")
    skipped = recheck(shop, route, folder=tmp_path)  # the fixtures are skipped (logged), the traffic re-checked
    assert [o.label for o in skipped.outcomes] == ["#2 POST /orders", "#3 POST /orders", "#4 POST /orders"]
    (tmp_path / "broken.json").unlink()
    both = recheck(shop, route, folder=tmp_path)
    assert [o.label for o in both.changed] == ["#4 POST /orders", "fixture a1"]
    assert len(both.outcomes) == 5
    only = recheck(shop, route, mode="fixtures", folder=tmp_path)
    assert [o.label for o in only.outcomes] == ["fixture a1", "fixture a2"]
    assert repr(only) == "<Recheck /orders: 1 unchanged, 1 changed, 0 now failing>"
    shop.configure(recheck_on_redefine="off", fixtures_dir=str(tmp_path))
    assert recheck(shop, route).outcomes == []
    shop.configure(recheck_on_redefine="fixtures")
    assert len(recheck(shop, route).outcomes) == 2  # the fixtures_dir setting is the default folder


def test_served_by_follows_the_route():
    app = tk.App("r")
    app.add_handler("/items/<int:n>", lambda n: str(n), methods=["POST"])
    route = app.routes()[0]
    assert served_by(route, "post", "/items/3") and not served_by(route, "GET", "/items/3")
    assert not served_by(route, "POST", "/items/x") and not served_by(route, "POST", "/items")


# --- in a real kernel: the report shows under the cell that redefined the handler -------------------

CELLS = [
    '''import toolkit
app = toolkit.App("k")

@app.handler("/orders")
def orders(order_id: str):
    return f"Order {order_id} is shipped."

for order in ("A-1", "A-2", "A-3"):
    app.call("/orders", {"order_id": order})''',
    '''@app.handler("/orders")
def orders(order_id: str):
    if order_id == "A-3":
        raise KeyError(order_id)
    return f"Order {order_id} is {'late' if order_id == 'A-2' else 'shipped'}."''',
    '''import threading
def from_a_thread():
    app.add_handler("/orders", lambda order_id: "redefined from a thread")
worker = threading.Thread(target=from_a_thread)
worker.start()
worker.join()''',
    '''app.configure(recheck_on_redefine="off")
@app.handler("/orders")
def orders(order_id: str):
    return "changed again"''',
    "print(len(app.log))",
]


def test_in_a_kernel_the_report_shows_under_the_redefining_cell(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(nb, timeout=180, startup_timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # generous: CI is loaded
    first, redefined, threaded, off, count = (cell.outputs for cell in nb.cells)
    assert first == [] and threaded == [] and off == []  # never shown from a thread, nor when off
    [shown] = redefined  # one display, nothing printed (no stream output)
    assert shown["output_type"] == "display_data"
    assert shown["data"]["text/plain"] == "<Recheck /orders: 1 unchanged, 1 changed, 1 now failing>"
    assert 'class="tk-recheck"' in shown["data"]["text/html"]
    assert count[0]["text"] == "6\n"  # 3 calls + 3 safe replays; the thread and "off" replayed nothing
