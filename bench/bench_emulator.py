"""Emulator: what an emulated API step costs on top of the handler call itself.

An in-process ``ApiStep.call`` builds the request from rows, runs ``app.handle`` on a worker thread
(so a hung handler times out like on Chatlayer), validates the reply and applies it to the session.
Its baseline is ``app.call`` of the same handler with the same body; a whole conversation turn is
compared with the same baseline. The thread hand-off dominates (about 0.3 ms a step): far below what
a person or a scripted test notices, so the targets only guard against a regression of 2x or more.
"""

from __future__ import annotations

import toolkit as tk

from .harness import Figure, rate

ROWS = [("orderId", "variable", "order.id"), ("lang", "variable", "internal.preferredLanguage"),
        ("okBlock", "dialogstate", "found")]


def make_app() -> tk.App:
    app = tk.App("bench-emulator", log_size=0)

    @app.handler("/orders")
    def orders(orderId: str, lang: str = "en", okBlock: str = ""):  # noqa: N803 - Chatlayer keys
        return tk.Reply(session={"order": {"status": "shipped"}},
                        messages=[tk.text("Order {order.id} has shipped.")], next_dialogstate=okBlock)

    return app


def run() -> list[Figure]:
    app = make_app()
    session = tk.Session({"order": {"id": "A-1042"}})
    step = tk.ApiStep("POST", "/orders", body=ROWS)
    body = {"orderId": "A-1042", "lang": "en", "okBlock": "found"}
    flow = tk.Flow("bench")
    flow.message("start", "Hi")
    flow.input("ask", "Which order?", "order.id", next="lookup")
    flow.api("lookup", step, next="start")
    flow.message("found", "Found it.")
    flow.intent("track", keywords=["track"], go="ask")
    chat = tk.Conversation(flow, backend=app)

    def turn() -> None:  # two user turns: the intent, then the answer that runs the API step
        chat.say("track")
        chat.say("A-1042")

    baseline = rate(lambda: app.call("/orders", body))
    emulated = rate(lambda: step.call(session, app))
    turns = rate(turn)
    return [
        Figure("ApiStep.call (in-process) vs app.call", emulated, baseline, "calls/s", 0.03,
               note="request rows, worker thread with timeout, validation, session write"),
        Figure("intent + input + API step (2 user turns) vs app.call", turns, baseline, "runs/s", 0.02),
    ]
