"""Log view: with a ``LogView`` subscribed and several hundred requests a second over real HTTP,
redraws stay at ``view_max_fps`` (10/s) or fewer and the server keeps >= 0.9x its throughput
without a view. A separate client process sends the load, so it does not steal the server's GIL;
runs with and without the view alternate and the best of each counts (the machine is noisy).
"""

from __future__ import annotations

import subprocess
import sys
import time

import toolkit as tk

from .bench_core import make_app
from .harness import Figure

SECONDS = 2.0
ROUNDS = 3
CLIENT_THREADS = 4

# Keep-alive POSTs from a few threads until the deadline; prints the number answered and the seconds.
CLIENT = r"""
import http.client, json, sys, threading, time
from urllib.parse import urlsplit
url, seconds, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
host, port = urlsplit(url).hostname, urlsplit(url).port
body = json.dumps({"orderId": "A-1042", "sessionId": "emulator-3f0c", "lang": "nl", "okBlock": "7b1e0c9a"})
counts = [0] * threads
start = time.perf_counter()
deadline = start + seconds
def work(i):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    while time.perf_counter() < deadline:
        conn.request("POST", "/orders", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            counts[i] += 1
    conn.close()
workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
print(sum(counts), time.perf_counter() - start)
"""


def load(url: str, seconds: float = SECONDS) -> float:
    """Requests per second answered with 200 by ``url`` under the client process's load."""
    out = subprocess.run([sys.executable, "-c", CLIENT, url, str(seconds), str(CLIENT_THREADS)],
                         capture_output=True, text=True, check=True, timeout=seconds + 30)
    count, elapsed = out.stdout.split()
    return int(count) / float(elapsed)


def run() -> list[Figure]:
    app = make_app("bench-logview")
    server = app.serve(port=0)
    bare, viewed, redraw_rates = 0.0, 0.0, []
    try:
        load(server.url, 0.5)  # warm up
        for _ in range(ROUNDS):
            bare = max(bare, load(server.url))
            view = tk.LogView(app)
            try:
                before, start = view.redraws, time.perf_counter()
                viewed = max(viewed, load(server.url))
                redraw_rates.append((view.redraws - before) / (time.perf_counter() - start))
            finally:
                view.close()
    finally:
        server.stop()
    return [
        Figure("log view: req/s over HTTP with vs without the view", viewed, bare, "req/s", 0.9),
        Figure("log view: load while viewed (must be several hundred)", viewed, None, "req/s", 300),
        Figure("log view: redraws per second under that load", max(redraw_rates), None, "redraws/s", 10,
               higher_is_better=False),
    ]
