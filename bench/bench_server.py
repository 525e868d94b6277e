"""Server: a Chatlayer-shaped POST through ``app.serve()`` (waitress), over loopback, in one run:

* against the same answer from a bare Flask view on Werkzeug's threaded dev server (what
  ``app.run()`` gives): what the embedded server buys;
* against a bare Flask view registered on the same ``app.flask`` and served by the same waitress
  server: what the toolkit's dispatch, validation and logging cost (``/orders`` vs ``/bare``);
* ``app.serve()`` with the log on against the log off (``log_size=0``);
* ``server.stop()``: its median time, with a kept-alive client connection open.

Against Werkzeug: ``CONNS`` concurrent keep-alive clients from ``wrk`` when it is installed, else
from a Python client in a separate process (``python -m bench.bench_server client PLAN``), in
``ROUNDS`` interleaved rounds; the median round of each counts. Werkzeug's threaded dev server (what
``app.run()`` gives) keeps connections alive too, a thread for each. Within waitress (handler vs
bare view, log on vs off), each pair on its own: pipelined load on one kept-alive connection per
target from the client process, switching target every 50 ms, so that load from other programs on a
busy machine hits both alike; the median slice counts (the server's own cost per request, free of
thread-scheduling noise), and of ``PAIRED_RUNS`` such runs the one with the median ratio.
"""

from __future__ import annotations

import collections
import http.client
import json
import logging
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .bench_core import BODY, make_app
from .harness import Figure

CONNS = 8
ROUND_S = 2  # seconds (whole: wrk takes no fractions)
ROUNDS = 7
PAIRED_RUNS, PAIRED_S = 5, 3.0  # runs of alternating 50 ms slices of pipelined load, two targets each
ROOT = Path(__file__).resolve().parents[1]


# --- the servers under test ---------------------------------------------------------------------


def bare_flask(flask_app: Any = None, path: str = "/orders") -> Any:
    """The same answer as bench_core's handler, written as a plain Flask view (on ``flask_app``,
    default a new Flask app)."""
    from flask import Flask, jsonify, request

    flask_app = flask_app or Flask("bare")

    @flask_app.post(path, endpoint="bare")
    def orders() -> Any:
        body = request.get_json(force=True)
        block = body.get("okBlock", "")
        return jsonify({
            "session": {"namespace": "order", "data": {"id": body["orderId"], "status": "shipped"}},
            "messages": [{"type": "text", "config": {"textMessages": [
                {"text": f"Order {body['orderId']} has shipped."}]}}],
            "action": {"nextDialogstate": block}})

    return flask_app


def start_werkzeug() -> tuple[int, Callable[[], None]]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, bare_flask(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return server.server_port, stop


def start_toolkit(name: str, **settings: Any) -> tuple[int, Callable[[], None]]:
    """``app.serve()`` of bench_core's app, with the bare view on its own ``app.flask`` at ``/bare``."""
    app = make_app(name)
    bare_flask(app.flask, "/bare")
    server = app.serve(port=0, **settings)
    return server.port, server.stop


# --- load with wrk ----------------------------------------------------------------------------------


def wrk_round(port: int, path: str, seconds: float) -> dict[str, Any]:
    """Requests of ``wrk`` on ``CONNS`` kept-alive connections; fails on any non-2xx answer."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    with script:
        script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(BODY))}\n'
                     'wrk.headers["Content-Type"] = "application/json"\n')
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{CONNS}", f"-d{round(seconds)}s", "-s", script.name,
                              f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                             timeout=seconds + 60)
    finally:
        Path(script.name).unlink()
    found = re.search(r"(\d+) requests in", out.stdout)
    if out.returncode or not found or "Non-2xx" in out.stdout or "Socket errors" in out.stdout:
        raise RuntimeError(f"wrk failed on port {port}{path}: {out.stdout[-1500:]} {out.stderr[-500:]}")
    return {"n": int(found.group(1))}


# --- the load client (runs in its own process) --------------------------------------------------


def load(port: int, conns: int, seconds: float, depth: int = 1, path: str = "/orders") -> dict[str, Any]:
    """Drive ``conns`` connections for ``seconds``, ``depth`` requests in flight on each (pipelined);
    requests/s, p50/p99 ms, errors, first answer."""
    body = json.dumps(BODY).encode()
    req = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    sel = selectors.DefaultSelector()
    state: dict[socket.socket, list[Any]] = {}  # socket -> [buffer, send times of requests in flight]
    latencies: list[float] = []
    errors, first = 0, b""

    def open_one() -> None:
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        state[s] = [b"", collections.deque([time.perf_counter()] * depth)]
        s.sendall(req * depth)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)

    def close(s: socket.socket) -> None:
        sel.unregister(s)
        s.close()
        del state[s]

    for _ in range(conns):
        open_one()
    start = time.perf_counter()
    deadline, hard_stop = start + seconds, start + seconds + 10
    while state and time.perf_counter() < hard_stop:
        for key, _ in sel.select(1.0):
            s: socket.socket = key.fileobj  # type: ignore[assignment]
            st = state[s]
            try:
                chunk = s.recv(262144)
            except OSError:
                chunk = b""
            if not chunk:
                errors += bool(st[0])
                close(s)
                if time.perf_counter() < deadline:
                    open_one()
                continue
            st[0] += chunk
            keep, now = True, time.perf_counter()
            while keep and (answer := _complete(st[0])) is not None:
                head, payload, st[0], keep = answer
                latencies.append(now - st[1].popleft())
                errors += not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200"))
                first = first or payload
                if keep and now < deadline:
                    st[1].append(now)
                    s.sendall(req)
            if not keep or (now >= deadline):
                close(s)
                if now < deadline:
                    open_one()
    elapsed = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    return {"rps": n / elapsed, "n": n, "errors": errors, "first": first.decode(),
            "p50_ms": 1000 * latencies[n // 2] if n else 0.0,
            "p99_ms": 1000 * latencies[min(n - 1, int(n * 0.99))] if n else 0.0}


def alternate(targets: list[tuple[int, str]], seconds: float, slice_s: float = 0.05,
              depth: int = 16) -> list[dict[str, Any]]:
    """Pipelined load on one kept-alive connection per target, switching target every ``slice_s``:
    noise that lasts longer than a slice hits every target alike. Per target: the median
    requests/s of its slices (a burst of load that hits a few slices does not count), errors."""
    body = json.dumps(BODY).encode()
    conns = [socket.create_connection(("127.0.0.1", port)) for port, _ in targets]
    readers = [c.makefile("rb") for c in conns]
    reqs = [(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
             f"Content-Length: {len(body)}\r\n\r\n").encode() + body for port, path in targets]
    totals: list[dict[str, Any]] = [{"n": 0, "errors": 0, "rates": []} for _ in targets]
    end = time.perf_counter() + seconds
    try:
        while time.perf_counter() < end:
            for conn, reader, req, total in zip(conns, readers, reqs, totals, strict=True):
                n, start = _slice(conn, reader, req, total, slice_s, depth)
                total["rates"].append(n / (time.perf_counter() - start))
    finally:
        for reader, conn in zip(readers, conns, strict=True):
            reader.close()
            conn.close()
    return [{"n": t["n"], "errors": t["errors"], "rps": statistics.median(t["rates"])} for t in totals]


def _slice(conn: socket.socket, reader: Any, req: bytes, total: dict[str, Any], slice_s: float,
           depth: int) -> tuple[int, float]:
    """Keep ``depth`` requests in flight on ``conn`` for ``slice_s``, then drain; answers, start."""
    start = time.perf_counter()
    stop_sending, in_flight, n = start + slice_s, depth, 0
    conn.sendall(req * depth)
    while in_flight:
        total["errors"] += not reader.readline().startswith(b"HTTP/1.1 200")
        head = list(iter(reader.readline, b"\r\n"))
        reader.read(next(int(h.split(b":")[1]) for h in head if h.lower().startswith(b"content-length")))
        n += 1
        if time.perf_counter() < stop_sending:
            conn.sendall(req)
        else:
            in_flight -= 1
    total["n"] += n
    return n, start


def paired(a: tuple[int, str], b: tuple[int, str]) -> tuple[float, float]:
    """Requests/s of ``a`` and ``b`` from the run (of ``PAIRED_RUNS``, each ``PAIRED_S`` of
    :func:`alternate` in a new client process, the order swapped every run) whose ratio is the
    median: a run's client and its scheduling shift both targets alike, but not from run to run."""
    runs = []
    for i in range(PAIRED_RUNS):
        first, second = alternate_in_process([a, b] if i % 2 == 0 else [b, a], PAIRED_S)
        runs.append((first["rps"], second["rps"]) if i % 2 == 0 else (second["rps"], first["rps"]))
    runs.sort(key=lambda run: run[0] / run[1])
    return runs[len(runs) // 2]


def alternate_in_process(targets: list[tuple[int, str]], seconds: float) -> list[dict[str, Any]]:
    """Run :func:`alternate` in the load-client process."""
    out = subprocess.run([sys.executable, "-m", "bench.bench_server", "alternate", json.dumps(targets),
                          str(seconds)], cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode:
        raise RuntimeError(f"load client failed: {out.stderr[-2000:]}")
    results: list[dict[str, Any]] = json.loads(out.stdout)
    if any(r["errors"] or not r["n"] for r in results):
        raise RuntimeError(f"load client saw errors: {results}")
    return results


def _complete(buf: bytes) -> tuple[bytes, bytes, bytes, bool] | None:
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end]
    lower = head.lower()
    length = int(lower.split(b"content-length:")[1].split(b"\r\n")[0]) if b"content-length:" in lower else 0
    if len(buf) < end + 4 + length:
        return None
    keep = not (b"connection: close" in lower or lower.startswith(b"http/1.0"))
    return head, buf[end + 4: end + 4 + length], buf[end + 4 + length:], keep


def measure(plan: list[tuple[int, float, int, int, str]]) -> list[dict[str, Any]]:
    """Run the load client in its own process: one ``load(port, conns, seconds, depth, path)`` per step."""
    seconds = sum(step[1] for step in plan)
    out = subprocess.run([sys.executable, "-m", "bench.bench_server", "client", json.dumps(plan)],
                         cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode:
        raise RuntimeError(f"load client failed: {out.stderr[-2000:]}")
    results: list[dict[str, Any]] = json.loads(out.stdout)
    for result in results:
        if result["errors"] or not result["n"]:
            raise RuntimeError(f"load client saw {result['errors']} errors in {result['n']} answers")
    return results




# --- the figures --------------------------------------------------------------------------------


Target = tuple[str, int, str]  # name, port, path


def rounds(targets: list[Target]) -> dict[str, list[float]]:
    """Requests/s of each target in ``ROUNDS`` interleaved rounds of ``CONNS`` concurrent
    keep-alive clients (wrk, else the Python client in its own process)."""
    found: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    wrk = shutil.which("wrk")
    for _ in range(ROUNDS):
        for name, port, path in targets:
            if wrk:
                start = time.perf_counter()
                found[name].append(wrk_round(port, path, ROUND_S)["n"] / (time.perf_counter() - start))
            else:
                found[name].append(measure([(port, ROUND_S, CONNS, 1, path)])[0]["rps"])
    return found


def same_answers(targets: list[Target]) -> None:
    """Every target answers the same JSON (else the comparison is meaningless)."""
    answers = set()
    for _, port, path in targets:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", path, body=json.dumps(BODY), headers={"Content-Type": "application/json"})
        answers.add(json.dumps(json.loads(conn.getresponse().read()), sort_keys=True))
        conn.close()
    if len(answers) != 1:
        raise RuntimeError(f"the servers answer differently: {answers}")


def run() -> list[Figure]:
    quiet = logging.getLogger("werkzeug")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # no per-request line on stderr for the baseline either
    servers = {"werkzeug": start_werkzeug(), "on": start_toolkit("bench"),
               "off": start_toolkit("bench-log-off", log_size=0)}
    try:
        ports = {name: port for name, (port, _) in servers.items()}
        same_answers([("werkzeug", ports["werkzeug"], "/orders"), ("toolkit", ports["on"], "/orders"),
                      ("bare", ports["on"], "/bare"), ("log off", ports["off"], "/orders")])
        concurrent = rounds([("werkzeug", ports["werkzeug"], "/orders"), ("toolkit", ports["on"], "/orders")])
        handler, bare = paired((ports["on"], "/orders"), (ports["on"], "/bare"))
        log_on, log_off = paired((ports["on"], "/orders"), (ports["off"], "/orders"))
    finally:
        for _, stop in servers.values():
            stop()
        quiet.setLevel(level)
    tool = "wrk" if shutil.which("wrk") else "python client"
    wz_rps, tk_rps = statistics.median(concurrent["werkzeug"]), statistics.median(concurrent["toolkit"])
    return [
        Figure(f"app.serve() vs bare Flask on Werkzeug threaded: req/s ({tool}, {CONNS} conns)", tk_rps,
               wz_rps, "req/s", 1.5),
        Figure("toolkit handler vs bare Flask view, same app.flask + waitress: req/s", handler, bare,
               "req/s", 0.85),
        Figure("app.serve() log on vs off: req/s, pipelined", log_on, log_off, "req/s", 0.9),
        Figure("server.stop() median (no baseline)", 1000 * stop_median(), None, "ms", 100.0,
               higher_is_better=False),
    ]


def stop_median(repeats: int = 15) -> float:
    """Median seconds of ``server.stop()`` with a kept-alive client connection open."""
    times = []
    for _ in range(repeats):
        server = make_app("bench-stop").serve(port=0)
        client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        client.request("POST", "/orders", body=json.dumps(BODY))
        client.getresponse().read()
        start = time.perf_counter()
        server.stop()
        times.append(time.perf_counter() - start)
        client.close()
    return statistics.median(times)


if __name__ == "__main__" and sys.argv[1:2] == ["alternate"]:
    print(json.dumps(alternate(json.loads(sys.argv[2]), float(sys.argv[3]))))
if __name__ == "__main__" and sys.argv[1:2] == ["client"]:
    print(json.dumps([load(port, conns, seconds, depth, path) for port, seconds, conns, depth, path
                      in json.loads(sys.argv[2])]))
