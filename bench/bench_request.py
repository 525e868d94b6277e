"""Request parsing: the depth check before ``json.loads`` (toolkit.request.parse_body) and the
iterative masker, each against plain ``json.loads`` of the same body in the same run."""

from __future__ import annotations

import json
from collections.abc import Callable

from toolkit.errors import BadRequest
from toolkit.log import Masker
from toolkit.request import parse_body

from .harness import Figure, rate


def paired(a: Callable[[], object], b: Callable[[], object], rounds: int = 5) -> tuple[float, float]:
    """Best rates of ``a`` and ``b`` measured in turns, so a change in the machine's load hits both."""
    best_a = best_b = 0.0
    for _ in range(rounds):
        best_a = max(best_a, rate(a, seconds=0.3, repeats=1))
        best_b = max(best_b, rate(b, seconds=0.3, repeats=1))
    return best_a, best_b

# About 200 KB of rows, each with nested arrays: many brackets, so the depth scan runs in full.
WIDE = json.dumps({"rows": [{"id": i, "name": "x" * 20, "tags": [[i]]} for i in range(3000)]}).encode()
FORM = ("user=ada&page=2&" * 4096).encode().decode()  # 64 KB of ordinary key=value text
EVIL = b'"\\' * 100_000 + b"[" * 70  # 200 KB of escaped quotes never closed: quadratic once
HOSTILE = ('"\\' * 32768, "a" * 65536 + ":", '"a":' * 16384)  # each was quadratic (minutes) once
SMALL = json.dumps({"orderId": "A-1042", "sessionId": "emulator-3f0c", "lang": "nl",
                    "okBlock": "7b1e0c9a", "failBlock": "c02d55e1"}).encode()


def run() -> list[Figure]:
    masker = Masker(("password", "token"))

    def refused(raw: bytes) -> None:
        try:
            parse_body(raw, max_depth=64)
        except BadRequest:
            pass

    checked, plain = paired(lambda: parse_body(WIDE, max_depth=64), lambda: json.loads(WIDE))
    masked, plain2 = paired(lambda: masker.decode(WIDE), lambda: json.loads(WIDE))
    evil, checked2 = paired(lambda: refused(EVIL), lambda: parse_body(WIDE, max_depth=64))
    hostile, form = paired(lambda: [masker.text(t) for t in HOSTILE],
                           lambda: [masker.text(FORM) for _ in HOSTILE])
    small_checked, small_plain = paired(lambda: parse_body(SMALL, max_depth=64), lambda: json.loads(SMALL))
    return [
        Figure("parse_body vs json.loads, 200 KB of nested rows", checked, plain, "parses/s", 0.18,
               note="measured 0.36-0.46: the depth scan costs about a parse"),
        Figure("log decode+mask vs json.loads, 200 KB of nested rows", masked, plain2, "decodes/s", 0.06,
               note="measured 0.12-0.21; read lazily, only when the log is looked at"),
        Figure("parse_body: 200 KB of unclosed escapes vs 200 KB of nested rows", evil, checked2, "parses/s",
               5.0, note="measured 11: refused without a parse; quadratic (as once) is ~0.0001"),
        Figure("mask text: 3 hostile 64 KB texts vs 3 ordinary 64 KB forms", hostile, form, "rounds/s", 0.7,
               note="measured 1.4-2.6; quadratic (as once) is ~0.001"),
        Figure("parse_body vs json.loads, a Chatlayer body", small_checked, small_plain, "parses/s", 0.35,
               note="measured 0.71 in turns: the bracket count settles it"),
    ]
