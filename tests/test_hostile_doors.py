"""Issue 23 §5, the smaller doors: the slow calibration probe cannot tie up the server; a re-run
LiveBot never takes the old one's webhook calls, malformed webhook bodies are 400s; save_fixtures
saves what it can and lists the rest; export leaves ``!``/``%`` lines in triple-quoted strings alone;
``toolkit serve`` on a busy port says Error/Fix; Content-Length with Transfer-Encoding closes the
connection after the answer."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
import requests
from helpers import wait_until
from hostile import send, serving
from livebots import VERIFY, emulated_api, live_bot

import toolkit as tk
from toolkit.__main__ import main
from toolkit.deploy.export import export_source
from toolkit.emulator import Conversation
from toolkit.testing import save_fixtures

# --- calibrate(slow=True) -------------------------------------------------------------------------


def test_twelve_open_slow_probes_leave_the_other_handlers_their_usual_time():
    app = tk.App("shop")
    app.add_handler("/order", lambda order_id="": f"Order {order_id} is shipped.")
    with serving(app) as server:
        t0 = time.perf_counter()
        assert send(server, "POST", "/order", b'{"order_id": "A-0"}')[0] == 200
        usual = time.perf_counter() - t0
        cal = tk.calibrate(app, slow=True, delays=[60.0])
        answers: list[int] = []
        probes = [threading.Thread(target=lambda: answers.append(send(server, "POST", "/calibrate", b"{}")[0]))
                  for _ in range(12)]
        try:
            for probe in probes:
                probe.start()
            wait_until(lambda: len(cal.probes) == 12, 30, "12 probes to arrive")
            t0 = time.perf_counter()
            assert send(server, "POST", "/order", b'{"order_id": "A-1"}')[0] == 200
            took = time.perf_counter() - t0
        finally:
            cal.close()  # releases the waiting probes
            for probe in probes:
                probe.join(30)
    assert answers == [200] * 12
    waited = [p for p in cal.probes if not p.skipped]
    assert len(waited) == cal.most_waiting == app.settings.server_threads - 2
    assert all("already wait" in p.skipped for p in cal.probes if p.skipped)
    assert took < max(10 * usual, 2.0), f"{took:.2f} s while the probes were open (usual {usual:.3f} s)"


def test_a_slow_probe_refused_by_access_control_does_not_wait():
    app = tk.App("shop", auth_bearer="cal-token-123")
    with serving(app) as server, tk.calibrate(app, slow=True, delays=[60.0]) as cal:
        t0 = time.perf_counter()
        assert send(server, "POST", "/calibrate", b"{}")[0] == 200
        assert time.perf_counter() - t0 < 30 and "access control refuses it" in cal.probes[-1].skipped


# --- LiveBot: a re-run cell, malformed bodies ------------------------------------------------------



@pytest.fixture
def api(demo_app):
    yield from emulated_api(demo_app)




def test_rerunning_a_livebot_cell_never_feeds_old_webhook_calls_into_the_new_one(demo_app, api):
    old = live_bot(demo_app, api)
    Conversation(old).restart()
    late = old.received[-1]  # an answer to the old bot's turn, arriving after the cell was re-run
    new = live_bot(demo_app, api)
    assert requests.post(new.webhook_url(), json=late, timeout=10).status_code == 200
    assert new.received == [] and new.stray == 1 and "1 stray" in repr(new)
    conversation = Conversation(new)
    conversation.restart()
    assert conversation.say("Where is my order?").messages and new.received  # its own answers arrive


@pytest.mark.parametrize("body", [
    b"[1, 2]", b'"text"', b"42",
    json.dumps({"verifyToken": VERIFY, "recipient": 5, "message": {}}).encode(),
    json.dumps({"verifyToken": VERIFY, "recipient": {"id": ["x"]}, "message": "hi"}).encode(),
    json.dumps({"verifyToken": VERIFY, "recipient": {"id": "u-1"}, "message": {"text": 5, "attachment": 7}}).encode(),
    json.dumps({"verifyToken": VERIFY, "recipient": {"id": "u-1"},
                "message": {"attachment": {"type": "template", "payload": "x"}}}).encode(),
])
def test_malformed_webhook_bodies_are_400s(demo_app, api, body):
    bot = live_bot(demo_app, api)
    answer = requests.post(bot.webhook_url(), data=body, headers={"Content-Type": "application/json"},
                           timeout=10)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["type"] == "bad_request" and bot.received == []


# --- save_fixtures --------------------------------------------------------------------------------


def test_save_fixtures_saves_every_exchange_it_can_and_lists_the_others(tmp_path: Path):
    app = tk.App("shop", max_body_depth=8)
    app.add_handler("/order", lambda order_id="", **rest: f"Order {order_id}")
    with serving(app) as server:
        send(server, "POST", "/order", b'{"order_id": "A-1"}')
        send(server, "POST", "/order", b'{"x": ' * 20 + b"1" + b"}" * 20)  # too deep: 400
        send(server, "POST", "/order", b'{"order_id": "A-2"}')
    saved = save_fixtures(app.log.entries(), tmp_path, app=app)
    assert [json.loads(p.read_text())["request"]["body"] for p in saved] == [{"order_id": "A-1"},
                                                                              {"order_id": "A-2"}]
    [left] = saved.left_out
    assert left.exchange.status == 400 and "max_body_depth" in left.reason and str(left).startswith("#2 POST")


# --- toolkit export -------------------------------------------------------------------------------


def test_export_leaves_bang_and_percent_lines_inside_triple_quoted_strings_alone(tmp_path: Path):
    cells = ["import toolkit\napp = toolkit.App('help')\n%load_ext autoreload",
             "HELP = '''\n!important: keep this line\n%d%% of orders ship today\n'''\n"
             'NOTE = """a\n  ! still text\n"""\n!ls data\n'
             "@app.handler('/help')\ndef help_():\n    return HELP + NOTE"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path = tmp_path / "help.ipynb"
    nbformat.write(nb, path)
    source = export_source(path, tmp_path / "app.py").source
    assert "\n!important: keep this line\n%d%% of orders ship today\n'''" in source
    assert '\n  ! still text\n"""' in source
    assert "# notebook only: !ls data" in source and "# notebook only: %load_ext autoreload" in source
    compile(source, "app.py", "exec")


# --- toolkit serve on a busy port -----------------------------------------------------------------


def test_serve_on_a_busy_port_prints_error_and_fix_without_a_traceback(tmp_path: Path, capsys):
    module = tmp_path / "shop.py"
    module.write_text("import toolkit\napp = toolkit.App('shop', auth_bearer='t0ken-x')\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", str(module), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"Error: Port {port} on 127.0.0.1 is already in use" in err and "Fix:" in err
    assert "Traceback" not in err and "--port 0 to pick a free port" in err
    free = int(re.search(r"or --port (\d+) \(free now\)", err).group(1))
    assert free != port and "Or stop the program that listens there." in err


# --- Content-Length and Transfer-Encoding ---------------------------------------------------------


def _raw(server: tk.Server, request: bytes) -> tuple[bytes, bool]:
    """Send ``request`` on a raw socket; the answer, and whether the server closed the connection."""
    url = urlsplit(server.url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        conn.sendall(request)
        reader = conn.makefile("rb")
        response = http.client.HTTPResponse(conn)
        response.begin()
        body = response.read()
        head = f"HTTP/1.1 {response.status}\n{response.headers}".encode() + body
        conn.settimeout(5)
        try:
            closed = conn.recv(1) == b""
        except TimeoutError:
            closed = False
        reader.close()
        return head, closed


def test_content_length_with_transfer_encoding_closes_the_connection_after_the_answer():
    app = tk.App("shop")
    app.add_handler("/order", lambda order_id="": f"Order {order_id} is shipped.")
    body = b'{"order_id": "A-1"}'
    chunked = hex(len(body))[2:].encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"
    with serving(app) as server:
        both = (b"POST /order HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
        answer, closed = _raw(server, both)
        assert b"HTTP/1.1 200" in answer and b"Order A-1 is shipped." in answer  # read by Transfer-Encoding
        assert closed and b"Connection: close" in answer
        plain = (b"POST /order HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        answer, closed = _raw(server, plain)
        assert b"HTTP/1.1 200" in answer and not closed  # an ordinary request keeps its connection
