"""Outbound capture: what wrapping ``requests`` costs where it should cost nothing.

1. ``app.call`` on a handler that makes no outbound call, capture installed vs uninstalled (<= 5%).
2. A ``requests`` call made outside any handler (no trace active), wrapper installed vs not: the
   wrapper only looks up a context variable and steps aside. The call goes to an in-memory adapter,
   so the figure is not hidden behind network time.

The two arms alternate every few calls and are timed in CPU time of this process, so a busy
machine weighs on both alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
from requests.adapters import BaseAdapter

import toolkit as tk
from toolkit.log import outbound

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


def compare(fn: Callable[[], object], *, seconds: float = 4.0, batch: int = 50) -> tuple[float, float]:
    """Calls per CPU second of ``fn`` with capture installed, and uninstalled.

    The arms alternate every ``batch`` calls and time is the process's CPU time, so other programs
    on a busy machine (and slow phases of it) weigh on both arms alike.
    """
    spent, done = {True: 0.0, False: 0.0}, {True: 0, False: 0}
    for on in (True, False):  # warm up both arms
        outbound.install() if on else outbound.uninstall()
        for _ in range(batch):
            fn()
    on, deadline = True, time.perf_counter() + seconds
    try:
        while time.perf_counter() < deadline or not on:  # stop after an "off" batch: equal counts
            outbound.install() if on else outbound.uninstall()
            t0 = time.process_time()
            for _ in range(batch):
                fn()
            spent[on] += time.process_time() - t0
            done[on] += batch
            on = not on
    finally:
        outbound.install()
    return done[True] / spent[True], done[False] / spent[False]


def run() -> list[Figure]:
    app: tk.App = make_app()
    app.configure(log_size=100)
    with_capture, without = compare(lambda: app.call("/orders", BODY))
    session = requests.Session()
    session.mount("mem://", MemoryAdapter())
    try:
        outside_on, outside_off = compare(lambda: session.get("mem://rates/eur"))
    finally:
        session.close()
    return [
        Figure("app.call, no outbound calls: capture on vs off", with_capture, without, "calls/cpu-s", 0.95),
        Figure("requests call outside a handler: capture on vs off", outside_on, outside_off, "calls/cpu-s",
               0.95),
    ]
