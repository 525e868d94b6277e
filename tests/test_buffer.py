"""The log buffer: the DataFrame (bodies, answers, the reply's text; secrets masked) and the retry flag,
which only a request served again over HTTP earns (never replays, in-process calls, the test client,
nor a request sent again with corrected credentials) — checked through a real server too."""

from __future__ import annotations

import pytest
import requests

import toolkit as tk
from toolkit.log import Exchange, Log, fingerprint
from toolkit.log.buffer import names_someone
from toolkit.log.masking import Masker
from toolkit.testing import replay


@pytest.fixture
def shop() -> tk.App:
    app = tk.App("shop", retry_window_s=600)  # a wide window: only the rules decide, never the clock

    @app.handler("/orders")
    def orders(order_id: str, password: str = ""):
        return tk.Reply(session={"order": {"id": order_id}},
                        messages=[tk.text(f"Order {order_id} shipped."),
                                  tk.quick_replies("More?", tk.postback("Track it", "track"))])

    @app.handler("/cards")
    def cards():
        return tk.Reply(messages=[tk.carousel(tk.card("Latte", "3.20 EUR", buttons=[tk.postback("Pick", "b")])),
                                  tk.media("https://example.com/x.png", "image"),
                                  tk.list_message([tk.card("Mocha")], button=tk.url_button("All", "https://e/a"))])

    return app


# --- to_frame ------------------------------------------------------------------------------------


def test_the_frame_has_the_request_body_the_response_and_the_reply_text(shop):
    shop.call("/orders", {"order_id": "A-1", "password": "hunter2"}, headers={"Authorization": "Bearer s3cr3t"})
    shop.call("/cards")
    shop.call("/nope", raise_errors=False)
    frame = shop.log.to_frame()
    assert list(frame.columns[-3:]) == ["body", "response", "reply_text"]
    assert frame["body"][0] == {"order_id": "A-1", "password": "***"}
    assert frame["headers"][0]["Authorization"] == "***"
    assert frame["response"][0]["session"] == {"namespace": "order", "data": {"id": "A-1"}}
    assert list(frame["reply_text"]) == [
        "Order A-1 shipped.\nMore?\n[Track it]",
        "Latte\n3.20 EUR\n[Pick]\nhttps://example.com/x.png\nMocha\n[All]",
        "",  # an error answer has no text
    ]
    assert frame["response"][2]["error"]["type"] == "not_found"
    assert frame["body"][1] is None
    everything = str(frame.to_dict("records"))
    assert "hunter2" not in everything and "s3cr3t" not in everything


def test_the_frame_answers_which_requests_asked_for_what(shop):
    for order in ("A-1", "A-2", "A-1"):
        shop.call("/orders", {"order_id": order})
    frame = shop.log.to_frame()
    asked = frame[frame["body"].map(lambda b: isinstance(b, dict) and b.get("order_id") == "A-1")]
    assert list(asked["id"]) == [1, 3] and set(asked["reply_text"].str.split("\n").str[0]) == {"Order A-1 shipped."}


def test_an_empty_log_gives_an_empty_frame_with_every_column():
    frame = Log(5).to_frame()
    assert len(frame) == 0 and {"body", "response", "reply_text", "status"} <= set(frame.columns)


# --- the retry flag ------------------------------------------------------------------------------


def _served(log: Log, status: int = 200, t: float = 100.0, source: str = "http", ms: float = 5.0,
            body: bytes = b'{"a": 1, "sessionId": "s-1"}') -> Exchange:
    entry = Exchange("POST", "/x", status, source=source, time=t, total_ms=ms,
                     fingerprint=fingerprint("POST", "/x", body))
    entry.keep_bodies(body, b"", Masker())
    return log.record(entry)


def test_retry_rules_at_the_unit_level():
    log = Log(10, retry_window_s=3.0)
    assert _served(log).flags == [] and _served(log, t=101).flags == ["retry"]
    assert _served(log, t=200, source="replay").flags == [] and _served(log, t=200, source="call").flags == []
    assert _served(log, t=201, source="fixture").flags == [] and _served(log, t=201, source="emulator").flags == []
    assert _served(log, t=202).flags == []  # replays and calls left no trace: 100 s since the last served one
    refused = Log(10, retry_window_s=3.0)
    assert _served(refused, 401).flags == [] and _served(refused, 200, t=100.5).flags == []  # corrected token
    assert _served(refused, 200, t=101).flags == ["retry"]  # then the platform really sent it twice
    assert _served(refused, 403, t=110).flags == [] and _served(refused, 403, t=110.5).flags == []
    assert _served(refused, 200, t=111).flags == []  # after a 403 too


def test_two_users_asking_the_same_thing_are_not_a_retry():
    """Without a session or user id in the body, the same request is a retry only when the earlier one
    was still running, failed or ran past the deadline."""
    log = Log(10, retry_window_s=3.0, deadline_s=1.0)
    anonymous = b'{"sku": "CF-1003"}'
    assert _served(log, t=100, body=anonymous).flags == []
    assert _served(log, t=101, body=anonymous).flags == []  # another user, a moment later: no flag
    assert _served(log, t=102, body=anonymous, ms=3000).flags == []  # ran 3 s, past the deadline...
    assert _served(log, t=104.5, body=anonymous).flags == ["retry"]  # ...so the next one is a retry
    assert _served(log, t=110, body=anonymous, status=500).flags == []
    assert _served(log, t=111, body=anonymous).flags == ["retry"]  # after a failure
    assert _served(log, t=120, body=anonymous, ms=800).flags == []
    assert _served(log, t=120.5, body=anonymous).flags == ["retry"]  # the first was still running
    same_user = b'{"sku": "CF-1003", "user": {"id": "u-7"}}'
    assert _served(log, t=130, body=same_user).flags == [] and _served(log, t=131, body=same_user).flags == ["retry"]


def test_names_someone_finds_session_and_user_ids():
    assert names_someone(b'{"sessionId": "s"}') and names_someone(b'{"USER_ID": 3}')
    assert names_someone(b'{"internal": {"sessionId": "s"}}') and names_someone(b'{"sender": {"id": "x"}}')
    assert not names_someone(b'{"sessionId": ""}') and not names_someone(b'{"sku": "A"}')
    assert not names_someone(b"[1]") and not names_someone(b"not json {") and not names_someone(None)


def test_in_process_calls_and_the_test_client_are_never_retries(shop):
    for _ in range(3):
        shop.call("/orders", {"order_id": "A-1"})
    client = shop.test_client()
    for _ in range(3):
        assert client.post("/orders", json={"order_id": "A-1"}).status_code == 200
    with shop.test_client() as c:
        c.post("/orders", json={"order_id": "A-1"})
    assert [e.flags for e in shop.log] == [[]] * 7
    assert [e.source for e in shop.log][-4:] == ["http"] * 4  # still logged as served requests


def test_through_a_real_server_replays_and_corrected_credentials_are_not_retries(shop):
    shop.configure(auth_bearer="right-token")
    server = shop.serve(port=0)
    body = {"order_id": "A-7", "sessionId": "emulator-1"}  # the same user: the same body is a retry
    try:
        with requests.Session() as http:
            def post(token: str) -> int:
                return http.post(f"{server.url}/orders", json=body, timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}).status_code

            assert post("wrong-token") == 401
            assert post("right-token") == 200  # the same body with the right token: a correction
            replay(shop, shop.log.last())  # a replay of it: neither a retry nor remembered as served
            shop.call("/orders", body)
            assert post("right-token") == 200  # the platform sending it again: a retry
            for bad in ("", "x" * 5000, "right-token\u00e9"):  # bad credentials never break the server
                assert post(bad) == 401
            assert http.get(f"{server.url}/_toolkit/health", timeout=10).status_code == 200
    finally:
        server.stop()
    entries = shop.log.entries()
    assert [(e.status, e.source, e.flags) for e in entries[:5]] == [
        (401, "http", []), (200, "http", []), (200, "replay", []), (200, "call", []), (200, "http", ["retry"])]
    assert [e.flags for e in entries[5:]] == [[], [], []]  # refused: wrong credentials, not a retry
    assert len(shop.log.to_frame()) == 8  # the log still exports
