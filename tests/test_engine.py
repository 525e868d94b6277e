"""The waitress engine on loopback: HTTP-level behaviour that is now waitress's (broken requests,
raw non-ASCII targets, header names with ``_``), slow clients that must not starve it, its
connection limit and channel timeout, concurrency, and never a line printed."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import wait_until
from wire import exchange, healthy, make_app, raw_exchange, request, split, text_of

import toolkit as tk
from toolkit.server.engine import HTTPServer, Tuning


@pytest.fixture
def served() -> Iterator[tk.Server]:
    server = make_app().serve(port=0)
    yield server
    server.stop()


def test_the_server_never_prints(capfd):
    server = make_app().serve(port=0)
    for path in ("/greet", "/boom", "/nope"):
        request(server, "POST", path, b"{bad json" if path == "/nope" else {})
    raw_exchange(server.port, b"NONSENSE\r\n\r\n")
    raw_exchange(server.port, b"GET /caf\xc3\xa9 HTTP/1.1\r\nConnection: close\r\n\r\n")
    server.stop()
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("waitress").handlers)


@pytest.mark.parametrize("data", [
    b"NONSENSE\r\n\r\n",
    b"GET\x00 / HTTP/1.1\r\n\r\n",
    b"POST /greet HTTP/1.1\r\nNo colon here\r\n\r\n",
    b"POST /greet HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"POST /greet HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"POST /greet HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",  # a raw (not percent-encoded) UTF-8 target
    b"GET /caf\xe9 HTTP/1.1\r\nHost: x\r\n\r\n",  # a raw latin-1 one
])
def test_broken_http_is_a_clean_400_from_waitress_and_the_server_keeps_serving(served, data):
    status, ctype, body = split(raw_exchange(served.port, data))
    assert (status, ctype) == (400, "text/plain; charset=utf-8") and body.startswith(b"Bad Request")
    assert healthy(served)
    assert served.app.log.total == 0  # never reached the app


def test_a_long_path_and_many_headers_are_served():
    with make_app().serve(port=0) as server:
        status, _, body = split(raw_exchange(server.port, b"POST /greet?name=" + b"a" * 20000
                                             + b" HTTP/1.1\r\nConnection: close\r\n\r\n"))
        assert status == 200 and text_of(json.loads(body)) == f"Hello {'a' * 20000}!"
        status, _, body = split(raw_exchange(server.port, b"POST /greet HTTP/1.1\r\nConnection: close\r\n"
                                             + b"X-A: b\r\n" * 150 + b"\r\n"))
        assert status == 200 and text_of(json.loads(body)) == "Hello there!"


def test_a_header_named_with_an_underscore_does_not_satisfy_a_header_check():
    app = make_app("keyed", auth_header="X-Api-Key: s3cret-key")
    with app.serve(port=0) as server:
        for name in ("X_Api_Key", "x_api_key", "X_API_KEY"):
            status, body = request(server, "POST", "/greet", headers={name: "s3cret-key"})
            assert status == 401 and body["error"]["type"] == "unauthorized", name
            assert healthy(server)
        assert request(server, "POST", "/greet", headers={"X-Api-Key": "s3cret-key"})[0] == 200
        assert request(server, "POST", "/greet", headers={"x-api-key": "s3cret-key"})[0] == 200
    assert [e.status for e in app.log] == [401, 401, 401, 200, 200]
    assert all("s3cret-key" not in json.dumps(e.to_dict()) for e in app.log)


def test_underscored_headers_never_reach_a_handler_proxy_headers_do():
    app = make_app("headers")

    @app.handler("/seen")
    def seen(request):
        return tk.Reply(session={"seen": sorted(k for k in request.headers
                                                if k.lower().startswith(("x", "forwarded")))})

    with app.serve(port=0) as server:
        status, body = request(server, "POST", "/seen", headers={
            "X_Api_Key": "1", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
            "Forwarded": "for=203.0.113.9", "X-Request-Id": "r-1"})
    assert (status, body["session"]["data"]) == (
        200, ["Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Request-Id"])


def test_256_clients_sending_headers_slowly_do_not_stop_a_normal_request():
    with make_app().serve(port=0) as server:
        slow = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(256)]
        stop = threading.Event()

        def trickle() -> None:  # one more header byte on every slow connection, again and again
            for round_no in range(600):  # bounded: at most about a minute
                for s in slow:
                    try:
                        s.sendall(b"POST /greet HTTP/1.1\r\n" if round_no == 0 else b"X")
                    except OSError:
                        pass
                if stop.wait(0.1):
                    return

        dribbler = threading.Thread(target=trickle, daemon=True)
        dribbler.start()
        try:
            for _ in range(3):
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)  # the 5 s bound
                try:
                    conn.request("POST", "/greet", body=json.dumps({"name": "Ada"}))
                    res = conn.getresponse()
                    assert res.status == 200 and text_of(json.loads(res.read())) == "Hello Ada!"
                finally:
                    conn.close()
        finally:
            stop.set()
            dribbler.join(10)
            for s in slow:
                s.close()
        assert healthy(server)


def test_over_the_connection_limit_a_client_waits_and_is_answered_when_one_closes():
    with make_app(server_connection_limit=4).serve(port=0) as server:
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(4)]
        answers: list[tuple[int, dict]] = []
        waiting = threading.Thread(target=lambda: answers.append(request(server, "POST", "/greet")))
        waiting.start()
        for s in idle:
            s.close()
        waiting.join(20)
        assert answers and answers[0][0] == 200
        assert healthy(server)


def test_an_idle_connection_is_closed_after_the_channel_timeout():
    with make_app(server_channel_timeout_s=1.0).serve(port=0) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as idle:
            idle.sendall(b"POST /greet HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            reader = idle.makefile("rb")
            assert reader.readline().startswith(b"HTTP/1.1 200")
            head = list(iter(reader.readline, b"\r\n"))
            length = next(int(h.split(b":")[1]) for h in head if h.lower().startswith(b"content-length"))
            assert text_of(json.loads(reader.read(length))) == "Hello there!"
            assert reader.read() == b""  # then closed by the server (bounded by the 20 s timeout)
            reader.close()
        assert healthy(server)


def test_a_client_that_hangs_up_mid_body_does_not_hurt_the_server(served):
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
        s.sendall(b"POST /orders HTTP/1.1\r\nContent-Length: 500\r\n\r\n{\"orderId\": ")
    assert healthy(served)
    assert served.app.log.total == 0


def test_200_concurrent_requests_from_16_threads_all_answered_and_logged(served):
    app = served.app

    @app.handler("/echo")
    def echo(n: int, request):
        return tk.Reply(session={"echo": {"n": n, "q": request.query.get("q")}}, messages=[])

    start = threading.Barrier(16)

    def worker(k: int) -> list[bool]:
        start.wait(10)
        results = []
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=20)
        try:
            for j in range(k, 200, 16):
                if j % 2:  # half on one kept-alive connection, half on fresh ones
                    conn.request("POST", f"/echo?q={j}", body=json.dumps({"n": j}))
                    res = conn.getresponse()
                    status, body = res.status, json.loads(res.read())
                else:
                    status, body = request(served, "POST", f"/echo?q={j}", {"n": j})
                results.append(status == 200 and body["session"]["data"] == {"n": j, "q": str(j)})
        finally:
            conn.close()
        return results

    with ThreadPoolExecutor(16) as pool:
        results = [ok for part in pool.map(worker, range(16)) for ok in part]
    assert len(results) == 200 and all(results)
    logged = [e for e in app.log if e.path == "/echo"]
    assert app.log.total == 200 and len(logged) == 200
    assert sorted(e.body["n"] for e in logged) == list(range(200))
    assert len({e.id for e in logged}) == 200 and all(e.status == 200 for e in logged)


def test_the_log_stays_bounded_over_1000_pipelined_requests():
    app = make_app(log_size=20)  # 50 times the log's size: as bounded as at any other multiple
    with app.serve(port=0) as server, socket.create_connection(("127.0.0.1", server.port), 20) as s:
        reader = s.makefile("rb")
        for batch in range(10):  # 100 pipelined requests at a time on one kept-alive connection
            payloads = [json.dumps({"name": batch * 100 + i}).encode() for i in range(100)]
            s.sendall(b"".join(b"POST /greet HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                               % (len(p), p) for p in payloads))
            for _ in payloads:
                assert reader.readline().startswith(b"HTTP/1.1 200")
                head = list(iter(reader.readline, b"\r\n"))
                length = next(int(h.split(b":")[1]) for h in head if h.lower().startswith(b"content-length"))
                reader.read(length)
        reader.close()
    assert app.log.total == 1_000 and len(app.log) == 20
    assert [e.body["name"] for e in app.log] == list(range(980, 1_000))
    assert app.log.entries()[-1].id == 1_000
    assert len(app.log._seen) == 4 * 20  # the retry memory is bounded too (1,000 different requests)


# --- the engine on its own -----------------------------------------------------------------------


def test_the_engine_serves_any_wsgi_callable_and_stops_completely():
    def hello(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()]

    threads_before = set(threading.enumerate())
    engine = HTTPServer(hello, "127.0.0.1", 0, name="plain", tuning=Tuning(threads=2))
    assert not engine.running and repr(engine) == "<HTTPServer 'plain' stopped>"
    engine.start()
    assert engine.running
    assert exchange(engine.port, "GET", "/x")[::2] == (200, b"GET /x")
    assert engine.stop() == [] and engine.stop() == []
    assert not engine.running
    wait_until(lambda: not set(threading.enumerate()) - threads_before, 10, "no thread left")


def test_an_engine_stopped_before_it_started_frees_its_port():
    engine = HTTPServer(lambda e, s: [], "127.0.0.1", 0)
    port = engine.port
    assert engine.stop() == []
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


def test_tuning_comes_from_the_settings():
    settings = tk.App("t", server_threads=3, server_connection_limit=50, server_channel_timeout_s=4,
                      max_body_bytes=10 << 20).settings
    options = Tuning.from_settings(settings).options()
    assert {k: options[k] for k in ("threads", "connection_limit", "channel_timeout", "max_request_body_size",
                                    "cleanup_interval")} == {
        "threads": 3, "connection_limit": 50, "channel_timeout": 4.0, "max_request_body_size": 40 << 20,
        "cleanup_interval": 2.0}
    defaults = Tuning.from_settings(tk.App("d").settings)
    assert defaults == Tuning(4, 1000, 30.0, 16 << 20) == Tuning()


def test_all_threads_busy_is_said_once_on_the_toolkit_logger_not_per_request(caplog):
    """Waitress makes a warning record for every request that finds all threads busy (a tenth of the
    server's time under load); the embedded server says it once a minute, with the way out."""
    release = threading.Event()
    app = make_app(server_threads=1)

    @app.handler("/wait")
    def wait():
        release.wait(20)
        return "done"

    def busy() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "all server threads are busy" in r.getMessage()]

    caplog.set_level(logging.WARNING)
    with app.serve(port=0) as server, ThreadPoolExecutor(6) as pool:
        answers = [pool.submit(request, server, "POST", "/wait", {}) for _ in range(6)]
        queue = server._core._dispatcher.queue  # waitress's own: 5 requests wait behind the first
        wait_until(lambda: len(queue) == 5, 10, "five requests waiting")
        release.set()
        assert [f.result(timeout=20) for f in answers] == [(200, {"messages": [tk.text("done")]})] * 6
    notes = busy()
    assert len(notes) == 1 and notes[0].name == "toolkit.server"
    assert "raise the server_threads setting" in notes[0].getMessage()
    assert not [r for r in caplog.records if r.name.startswith("waitress")]


def test_with_the_default_threads_three_slow_handlers_leave_a_thread_for_everyone_else():
    """server_threads defaults to 4 (waitress's own default): a slow handler holds one thread, and
    the other callers (a retrying platform, a colleague testing) are still answered at once."""
    app = make_app()
    entered, release = threading.Semaphore(0), threading.Event()

    @app.handler("/slow")
    def slow():
        entered.release()
        release.wait(30)
        return "late"

    assert app.settings.server_threads == 4
    with app.serve(port=0) as server, ThreadPoolExecutor(3) as pool:
        try:
            slow_ones = [pool.submit(request, server, "POST", "/slow", {}) for _ in range(3)]
            for _ in range(3):
                assert entered.acquire(timeout=10)
            assert request(server, "POST", "/greet", {"name": "Ada"}) == (200, {"messages": [tk.text("Hello Ada!")]})
        finally:
            release.set()
        assert [f.result(timeout=20)[0] for f in slow_ones] == [200] * 3
