"""Server: a Chatlayer-shaped POST through ``app.serve()`` against the same answer from a bare Flask
view on Werkzeug's threaded dev server (what ``app.run()`` gives), in one run, over loopback.

The load comes from a separate process (``python -m bench.bench_server client PLAN``) so the client
does not take the server's GIL: one thread driving raw-socket connections, kept alive when the server
allows it (Werkzeug's dev server closes every one). Throughput and latency use ``CONNS`` concurrent
connections, in rounds that interleave the servers; the best round of each counts, since noise only
ever slows a round down. The cost of logging (``log_size=0`` turns the log off) is measured pipelined
on one kept-alive connection per server (the server's own cost per request, free of thread-scheduling
noise), switching between log on and off every 50 ms so that load from other processes hits both
alike (two identical servers measured this way agree within about 2%).
"""

from __future__ import annotations

import collections
import json
import logging
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .bench_core import BODY, make_app
from .harness import Figure

CONNS = 8
ROUND_S = 1.0
ROUNDS = 4
ROOT = Path(__file__).resolve().parents[1]


# --- the servers under test ---------------------------------------------------------------------


def bare_flask() -> Any:
    """The same answer as bench_core's handler, written as a plain Flask view."""
    from flask import Flask, jsonify, request

    flask_app = Flask("bare")

    @flask_app.post("/orders")
    def orders() -> Any:
        body = request.get_json(force=True)
        block = body.get("okBlock", "")
        return jsonify({
            "session": {"namespace": "order", "data": {"id": body["orderId"], "status": "shipped"}},
            "messages": [{"type": "text", "config": {"textMessages": [
                {"text": f"Order {body['orderId']} has shipped."}]}}],
            "nextDialogstate": block, "action": {"nextDialogstate": block}})

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
    app = make_app()
    app.name = name  # two apps of one name would replace each other
    server = app.serve(port=0, **settings)
    return server.port, server.stop


# --- the load client (runs in its own process) --------------------------------------------------


def load(port: int, conns: int, seconds: float, depth: int = 1) -> dict[str, Any]:
    """Drive ``conns`` connections for ``seconds``, ``depth`` requests in flight on each (pipelined);
    requests/s, p50/p99 ms, errors, first answer."""
    body = json.dumps(BODY).encode()
    req = (f"POST /orders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
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


def alternate(ports: list[int], seconds: float, slice_s: float = 0.05,
              depth: int = 16) -> list[dict[str, Any]]:
    """Pipelined load on one kept-alive connection per port, switching port every ``slice_s``: noise
    that lasts longer than a slice hits every server alike. Per port: the median requests/s of its
    slices (a burst of load that hits a few slices does not count), answers, errors."""
    body = json.dumps(BODY).encode()
    conns = [socket.create_connection(("127.0.0.1", port)) for port in ports]
    readers = [c.makefile("rb") for c in conns]
    reqs = [(f"POST /orders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n\r\n"
             ).encode() + body for port in ports]
    totals: list[dict[str, Any]] = [{"n": 0, "seconds": 0.0, "errors": 0, "slices": []} for _ in ports]
    end = time.perf_counter() + seconds
    try:
        while time.perf_counter() < end:
            for conn, reader, req, total in zip(conns, readers, reqs, totals, strict=True):
                start = time.perf_counter()
                stop_sending, in_flight = start + slice_s, depth
                conn.sendall(req * depth)
                while in_flight:
                    total["errors"] += not reader.readline().startswith(b"HTTP/1.1 200")
                    head = list(iter(reader.readline, b"\r\n"))
                    reader.read(next(int(h.split(b":")[1]) for h in head
                                     if h.lower().startswith(b"content-length")))
                    total["n"] += 1
                    if time.perf_counter() < stop_sending:
                        conn.sendall(req)
                    else:
                        in_flight -= 1
                took = time.perf_counter() - start
                total["seconds"] += took
                total["slices"].append((total["n"] - sum(n for n, _ in total["slices"]), took))
    finally:
        for reader, conn in zip(readers, conns, strict=True):
            reader.close()
            conn.close()
    return [dict(t, rps=statistics.median(n / took for n, took in t["slices"])) for t in totals]


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


def measure(plan: list[tuple[int, float, int, int]]) -> list[dict[str, Any]]:
    """Run the load client in its own process: one ``load(port, conns, seconds, depth)`` per step."""
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


def alternate_in_process(ports: list[int], seconds: float) -> list[dict[str, Any]]:
    """Run :func:`alternate` in the load-client process."""
    out = subprocess.run([sys.executable, "-m", "bench.bench_server", "alternate", json.dumps(ports),
                          str(seconds)], cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode:
        raise RuntimeError(f"load client failed: {out.stderr[-2000:]}")
    results: list[dict[str, Any]] = json.loads(out.stdout)
    if any(r["errors"] or not r["n"] for r in results):
        raise RuntimeError(f"load client saw errors: {results}")
    return results


def best(results: list[dict[str, Any]]) -> dict[str, Any]:
    return max(results, key=lambda r: r["rps"])


# --- the figures --------------------------------------------------------------------------------


def run() -> list[Figure]:
    quiet = logging.getLogger("werkzeug")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # no per-request line on stderr for the baseline either
    servers = {"werkzeug": start_werkzeug(), "on": start_toolkit("bench"),
               "off": start_toolkit("bench-log-off", log_size=0)}
    try:
        return _figures({name: port for name, (port, _) in servers.items()})
    finally:
        for _, stop in servers.values():
            stop()
        quiet.setLevel(level)


def _figures(ports: dict[str, int]) -> list[Figure]:
    """Rounds interleave the servers; the best round of each counts (noise only slows a round)."""
    names = list(ports)
    warm = measure([(ports[n], 0.3, CONNS, 1) for n in names])
    answers = {json.dumps(json.loads(r["first"]), sort_keys=True) for r in warm}
    if len(answers) != 1:
        raise RuntimeError(f"the servers answer differently: {answers}")
    pair = ("werkzeug", "on")
    concurrent = measure([(ports[n], ROUND_S, CONNS, 1) for _ in range(ROUNDS) for n in pair])
    by_name = {n: best(concurrent[i::len(pair)]) for i, n in enumerate(pair)}
    # The cost of logging: the server's own cost per request, pipelined on one connection (no thread
    # scheduling noise), switching between log on and off every 50 ms (load from other processes
    # hits both alike).
    on, off = alternate_in_process([ports["on"], ports["off"]], 8.0)
    wz, tk = by_name["werkzeug"], by_name["on"]
    return [
        Figure(f"app.serve() vs bare Werkzeug: requests/s, {CONNS} connections", tk["rps"], wz["rps"],
               "req/s", 1.5),
        Figure("app.serve() vs bare Werkzeug: p50 latency", tk["p50_ms"], wz["p50_ms"], "ms", 1.0,
               higher_is_better=False),
        Figure("app.serve() vs bare Werkzeug: p99 latency", tk["p99_ms"], wz["p99_ms"], "ms", 1.0,
               higher_is_better=False),
        Figure("app.serve() log on vs off: requests/s, pipelined", on["rps"], off["rps"], "req/s", 0.9),
        Figure("server.stop() median (no baseline)", 1000 * stop_median(), None, "ms", 100.0,
               higher_is_better=False),
    ]


def stop_median(repeats: int = 15) -> float:
    """Median seconds of ``server.stop()`` with a kept-alive client connection open."""
    import http.client

    times = []
    for _ in range(repeats):
        server = make_app().serve(port=0)
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
    print(json.dumps([load(port, conns, seconds, depth) for port, seconds, conns, depth
                      in json.loads(sys.argv[2])]))
