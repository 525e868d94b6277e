"""Helpers shared by the tests: poll with a deadline (never sleep to wait), and find a free port."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


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
