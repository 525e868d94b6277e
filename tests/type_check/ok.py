"""A user's script that must type-check under ``mypy --strict`` (tests/test_type_check.py runs it).

Never run: it only shows that the public names have the types a user relies on (none is ``Any``
where a user would misspell something: see typo.py for the errors the same types catch).
"""

from __future__ import annotations

from typing import Any

import flask
import flask.testing

import toolkit
from toolkit import App, Table, text
from toolkit.messages import Message

app = App("shop", deadline_s=2)
orders = Table("data/orders.csv", key="order_id")


@app.handler("/orders")
def order_status(order_id: str) -> Message:
    row = orders.get(order_id)
    return text(f"Order {order_id}: {row['status'] if row else 'not found'}")


@app.handler()
def greet(name: str = "there") -> toolkit.Reply:
    return toolkit.Reply(messages=[text(f"Hello {name}!")], next_dialogstate="menu")


def check_settings() -> float:
    seconds: float = app.settings.deadline_s
    threads: int = app.settings.server_threads
    form: str = app.settings.redirect_form
    debugging: bool = app.settings.debug
    return seconds * threads if debugging and form else seconds


def call_in_process() -> None:
    answer: dict[str, Any] = app.call("/orders", {"order_id": "A-1042"})
    assert order_status("A-1042") == answer["messages"][0]
    handled: toolkit.Outgoing = app.handle(toolkit.Incoming("POST", "/greet", raw=b'{"name": "Ada"}'))
    print(handled.status, handled.body, answer, toolkit.list_message(toolkit.card("A", "a")))


def test_with_flask() -> None:
    web: flask.Flask = app.flask
    web.add_url_rule("/plain", "plain", lambda: "flask")
    client: flask.testing.FlaskClient = app.test_client()
    assert client.post("/orders", json={"order_id": "A-1042"}).status_code == 200


def serve_and_watch() -> None:
    server: toolkit.Server = app.serve(port=0)
    url: str = server.url
    server.on_stop(lambda: print("stopped"))
    view: toolkit.LogView = app.log_view()
    print(url, view)
    server.stop()


def push_later(session_id: str) -> None:
    client = toolkit.ChatlayerClient("token", "bot-1", region="eu")
    client.push(session_id, text("Your order shipped."))
    client.close()
