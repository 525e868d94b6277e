"""Request parsing: the depth check before ``json.loads`` (toolkit.request.parse_body) and the
iterative masker, each against plain ``json.loads`` of the same body in the same run."""

from __future__ import annotations

import json

from toolkit.log import Masker
from toolkit.request import parse_body

from .harness import Figure, rate

# About 200 KB of rows, each with nested arrays: many brackets, so the depth scan runs in full.
WIDE = json.dumps({"rows": [{"id": i, "name": "x" * 20, "tags": [[i]]} for i in range(3000)]}).encode()
FORM = ("user=ada&page=2&" * 4096).encode().decode()  # 64 KB of ordinary key=value text
HOSTILE = ('"\\' * 32768, "a" * 65536 + ":", '"a":' * 16384)  # each was quadratic (minutes) once
SMALL = json.dumps({"orderId": "A-1042", "sessionId": "emulator-3f0c", "lang": "nl",
                    "okBlock": "7b1e0c9a", "failBlock": "c02d55e1"}).encode()


def run() -> list[Figure]:
    masker = Masker(("password", "token"))
    plain = rate(lambda: json.loads(WIDE), seconds=1.0)
    checked = rate(lambda: parse_body(WIDE, max_depth=64), seconds=1.0)
    masked = rate(lambda: masker.decode(WIDE), seconds=1.0)
    form = rate(lambda: masker.text(FORM))
    hostile = min(rate(lambda t=t: masker.text(t), repeats=1) for t in HOSTILE)
    small_plain = rate(lambda: json.loads(SMALL))
    small_checked = rate(lambda: parse_body(SMALL, max_depth=64))
    return [
        Figure("parse_body vs json.loads, 200 KB of nested rows", checked, plain, "parses/s", 0.2,
               note="measured 0.39-0.46: the depth scan costs about a parse; 2x slower fails"),
        Figure("log decode+mask vs json.loads, 200 KB of nested rows", masked, plain, "decodes/s", 0.07,
               note="measured 0.13-0.21; read lazily, only when the log is looked at"),
        Figure("mask text: worst hostile 64 KB vs an ordinary 64 KB form", hostile, form, "texts/s", 0.35,
               note="measured 0.69; quadratic (as once) is ~0.001"),
        Figure("parse_body vs json.loads, a Chatlayer body", small_checked, small_plain, "parses/s", 0.3,
               note="measured 0.46-0.71 (loaded machine): the bracket count settles it"),
    ]
