"""Helpers shared by the tests: poll with a deadline (never sleep to wait), and find a free port."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

ICON = re.compile(r'<span class="tk-icon" role="img" aria-label="([^"]+)" title="\1">([^<]+)</span>')


def icons_as_text(html: str) -> str:
    """``html`` with each labelled icon span replaced by its glyph, to look for "☎ Call" in it."""
    return ICON.sub(r"\2", html)


def wait_until(condition: Callable[[], T], timeout: float = 5.0, what: str = "the condition",
               interval: float = 0.01) -> T:
    """Poll ``condition`` until it returns something truthy, and return that.

    Raises AssertionError naming ``what`` when ``timeout`` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_here(port: int) -> bool:
    """Whether a socket of *this process* listens on TCP ``port`` (Linux ``/proc``).

    Another process that took the port after ours was freed does not count: asking whether the port
    refuses connections (a "dead port") raced with every other program binding ports on the machine.
    """
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if link.startswith("socket:["):
            mine.add(link[len("socket:["):-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A" and fields[9] in mine:
                    return True
    return False


def request_json(host: str, port: int, method: str, path: str, body: dict | None = None,
                 timeout: float = 30) -> tuple[int, dict]:
    """One JSON request over a fresh HTTP connection: ``(status, decoded body)``."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body))
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def define_shop(app, status: str = "shipped", block: str = "ok-block") -> None:
    """The order-status handler the replay tests re-define (as an analyst re-runs its cell)."""
    import toolkit as tk

    @app.handler("/orders")
    def orders(order_id: str, password: str = ""):
        if password and password != "hunter2":
            raise ValueError("wrong password")
        return tk.Reply(session={"order": {"id": order_id, "status": status}},
                        messages=[tk.text(f"Order {order_id} is {status}.")], next_dialogstate=block)


@contextlib.contextmanager
def http_partner(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A small HTTP server on loopback (a CRM, a payment partner) answering with ``handler``, on its
    own thread; yields its base URL (``http://127.0.0.1:<port>``) and shuts it down afterwards."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
