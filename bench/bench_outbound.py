"""Outbound capture: what wrapping ``requests`` costs where it should cost nothing.

1. ``app.call`` on a handler that makes no outbound call, capture installed vs uninstalled (<= 5%).
2. A ``requests`` call made outside any handler (no trace active), wrapper installed vs not: the
   wrapper only looks up a context variable and steps aside. The call goes to an in-memory adapter,
   so the figure is not hidden behind network time.

The two arms alternate in short rounds and the best round of each counts, so a busy machine slows
both alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
from requests.adapters import BaseAdapter

import toolkit as tk
from toolkit import outbound

from .bench_core import BODY, make_app
from .harness import Figure


class MemoryAdapter(BaseAdapter):
    """Answers every request at once from memory: no socket, no network."""

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        response = requests.Response()
        response.status_code, response._content, response.url = 200, b'{"rate": 1.08}', request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


def _rate(fn: Callable[[], object], seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(20):
            fn()
        n += 20
        now = time.perf_counter()
        if now - start >= seconds:
            return n / (now - start)


def compare(fn: Callable[[], object], *, rounds: int = 7, seconds: float = 0.3) -> tuple[float, float]:
    """Best calls/s of ``fn`` with capture installed, and uninstalled, in alternating rounds."""
    best = {True: 0.0, False: 0.0}
    try:
        for _ in range(rounds):
            for on in (True, False):
                outbound.install() if on else outbound.uninstall()
                fn()
                best[on] = max(best[on], _rate(fn, seconds))
    finally:
        outbound.install()
    return best[True], best[False]


def run() -> list[Figure]:
    app: tk.App = make_app()
    app.configure(log_size=100)
    with_capture, without = compare(lambda: app.call("/orders", BODY))
    session = requests.Session()
    session.mount("mem://", MemoryAdapter())
    try:
        outside_on, outside_off = compare(lambda: session.get("mem://rates/eur"), rounds=5, seconds=0.2)
    finally:
        session.close()
    return [
        Figure("app.call, no outbound calls: capture on vs off", with_capture, without, "calls/s", 0.95),
        Figure("requests call outside a handler: capture on vs off", outside_on, outside_off, "calls/s",
               0.95),
    ]
