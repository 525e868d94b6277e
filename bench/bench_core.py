"""Core: ``app.call`` against Flask's ``test_client`` on the same Chatlayer-shaped handler."""

from __future__ import annotations

import toolkit as tk

from .harness import Figure, rate

BODY = {"orderId": "A-1042", "sessionId": "emulator-3f0c", "lang": "nl",
        "okBlock": "7b1e0c9a", "failBlock": "c02d55e1"}


def make_app(name: str = "bench") -> tk.App:
    """An app with one Chatlayer-shaped handler, shared by the benches."""
    app = tk.App(name)

    @app.handler("/orders")
    def orders(orderId: str, lang: str = "en", okBlock: str = ""):  # noqa: N803 - Chatlayer keys
        return tk.Reply(session={"order": {"id": orderId, "status": "shipped"}},
                        messages=[tk.text(f"Order {orderId} has shipped.")], next_dialogstate=okBlock)

    return app


def run() -> list[Figure]:
    app = make_app()
    client = app.test_client()
    call = rate(lambda: app.call("/orders", BODY))
    flask = rate(lambda: client.post("/orders", json=BODY))
    return [Figure("app.call vs Flask test_client", call, flask, "calls/s", 5.0)]
