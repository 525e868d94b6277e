"""Memory stays bounded whatever arrives (issue 23 §1), measured with tracemalloc after a full
collection: what the log keeps of 500 refused 1 MiB requests (against their bodies: before, the log
kept each whole, ~0.55 GB in all) and so per request, and after 100,000 accepted requests (against
after 1,000: the ring buffer is full at 500, so memory must not grow with traffic). About 90 s: the
100,000 requests run under tracemalloc.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Callable

import toolkit as tk
from toolkit import Incoming

from .bench_core import BODY, make_app
from .harness import Figure

MIB = 1 << 20
REFUSED = 500
MANY, FEW = 100_000, 1_000


def kept(action: Callable[[], object]) -> int:
    """Bytes still allocated after ``action`` (and a full collection), the action's inputs excluded."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        action()
        gc.collect()
        return max(tracemalloc.get_traced_memory()[0] - before, 0)
    finally:
        tracemalloc.stop()


def refused_app() -> tk.App:
    app = make_app("bench-memory")
    app.configure(auth_bearer="bench-token-0001")  # every request below lacks it: 401
    return app


def run() -> list[Figure]:
    body = b'{"orderId": "A-1042", "note": "' + b"x" * (MIB - 40) + b'"}'
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}

    flood = refused_app()

    def refuse() -> object:  # a new body each time, as the server reads it
        return flood.handle(Incoming("POST", "/orders", headers=headers, raw=bytes(bytearray(body))))

    refuse()  # one-time costs (memos, compiled patterns)
    flooded = kept(lambda: [refuse() for _ in range(REFUSED)])
    per_request = flooded / REFUSED

    raw = json.dumps(BODY).encode()
    few, many = make_app("bench-few"), make_app("bench-many")
    request = Incoming("POST", "/orders", headers=headers, raw=raw)
    after_few = kept(lambda: [few.handle(request) for _ in range(FEW)])
    after_many = kept(lambda: [many.handle(request) for _ in range(MANY)])
    return [
        Figure("refused 1 MiB request: bytes kept vs the body", per_request, len(body), "bytes", 0.02,
               higher_is_better=False),
        Figure(f"{REFUSED} refused 1 MiB requests: bytes kept vs their bodies", flooded, REFUSED * len(body),
               "bytes", 0.02, higher_is_better=False),
        Figure(f"log after {MANY:,} requests vs after {FEW:,}", after_many, after_few, "bytes", 1.25,
               higher_is_better=False),
    ]
