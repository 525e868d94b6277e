"""The emulated V1 API on loopback: paths, Bearer auth, ?version=, knobs, and pushes reaching chats."""

from __future__ import annotations

import threading

import pytest
import requests
from helpers import listening_here

import toolkit as tk
from toolkit.v1emulator.api import V1Emulator

TOKEN = "emulator-secret"


@pytest.fixture
def api():
    api = V1Emulator("demo-bot", token=TOKEN).start()
    api.add_conversation("sess-1", {"order": {"id": "A-1042"}})
    yield api
    api.stop()


def call(api, method, path, *, token=TOKEN, version="DRAFT", json=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {"version": version} if version else {}
    with requests.Session() as s:
        return s.request(method, api.url + path, headers=headers, params=params, json=json, timeout=5)


PUSH = "/v1/bots/demo-bot/conversations/sess-1/actions"
TEXT = {"textMessageTemplate": {"textMessages": [{"text": "hi"}]}}


def test_bearer_auth_is_required(api):
    missing = call(api, "POST", PUSH, token=None, json={"sendMessages": [TEXT]})
    wrong = call(api, "POST", PUSH, token="nope", json={"sendMessages": [TEXT]})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert "Bearer" in missing.json()["error"]["message"] and api.pushed("sess-1") == []
    assert call(api, "POST", PUSH, json={"sendMessages": [TEXT]}).json() == {"sessionId": "sess-1", "sent": 1}


@pytest.mark.parametrize(("method", "path", "version", "body", "status", "words"), [
    ("POST", PUSH, "", {"sendMessages": [TEXT]}, 400, "version must be DRAFT or LIVE"),
    ("POST", PUSH, "DRAFT", {"sendMessages": []}, 400, "at least one message"),
    ("POST", PUSH, "DRAFT", {"sendMessages": [TEXT], "goTo": "b1"}, 400, "only knows sendMessages; got goTo"),
    ("POST", PUSH, "DRAFT", {"sendMessages": [{"type": "text"}]}, 400, "one V1 template object"),
    ("POST", "/v1/bots/other-bot/conversations/sess-1/actions", "DRAFT", {}, 404, "Bot 'other-bot' not found"),
    ("POST", "/v1/bots/demo-bot/conversations/nope/actions", "DRAFT", {}, 404, "(known: sess-1)"),
    ("GET", PUSH, "DRAFT", None, 405, "answers POST only, not GET"),
    ("GET", "/v1/nothing", "DRAFT", None, 404, "No handler for '/v1/nothing' (registered: /api/webhookMessage"),
], ids=["no-version", "no-messages", "unknown-action", "bad-template", "other-bot", "unknown-session",
        "wrong-method", "unknown-path"])
def test_bad_calls_get_readable_errors(api, method, path, version, body, status, words):
    answer = call(api, method, path, version=version, json=body)
    error = answer.json()["error"]
    assert answer.status_code == status and words in error["message"]
    assert set(error) == {"status", "type", "message", "handler", "hint"} and error["hint"]  # the one shape
    assert call(api, "GET", "/v1/bots", version="").status_code == 200  # still answering
    assert api.log.last().status == 200 and api.log.to_frame().shape[0] == len(api.log)  # the log exports


def test_every_endpoint_answers(api):
    assert call(api, "GET", "/v1/bots", version="").json() == [{"id": "demo-bot", "name": "demo-bot"}]  # bare
    call(api, "POST", PUSH, json={"sendMessages": [TEXT]})
    base = "/v1/bots/demo-bot/conversations"
    assert call(api, "GET", base).json()["data"][0]["user"]["sessionId"] == "sess-1"
    assert call(api, "GET", base, version="LIVE").json() == {"data": []}
    assert call(api, "GET", f"{base}/sess-1/messages").json()["data"][0]["message"] == tk.text("hi")
    assert call(api, "GET", f"{base}/sess-1/session-data").json() == {"order": {"id": "A-1042"}}
    assert call(api, "DELETE", f"{base}/sess-1/session-data").status_code == 200
    assert call(api, "GET", f"{base}/sess-1/session-data").json() == {}


def test_rate_limit_headers_and_429(api):
    api.clock = lambda: 1_900_000_000.25  # injected: the window starts now and resets 60 s later
    api.rate_limit(2, window_s=60)
    first = call(api, "GET", "/v1/bots", version="")
    assert first.headers["x-ratelimit-limit"] == "2" and first.headers["x-ratelimit-remaining"] == "1"
    call(api, "GET", "/v1/bots", version="")
    limited = call(api, "GET", "/v1/bots", version="")
    reset = int(limited.headers["x-ratelimit-reset"])  # a Unix time, as Chatlayer's docs give it
    assert limited.status_code == 429 and reset == 1_900_000_061  # the window's end, rounded up
    assert limited.json()["error"]["type"] == "v1_error" and limited.headers["x-ratelimit-remaining"] == "0"
    api.rate_limit(None)
    assert "x-ratelimit-limit" not in call(api, "GET", "/v1/bots", version="").headers


def test_fail_next_answers_the_next_calls_only(api):
    api.fail_next(503, times=2, message="maintenance", headers={"Retry-After": "7"})
    statuses = [call(api, "GET", "/v1/bots", version="") for _ in range(3)]
    assert [r.status_code for r in statuses] == [503, 503, 200]
    assert statuses[0].headers["Retry-After"] == "7"


def test_the_log_records_every_call_with_the_token_masked(api):
    call(api, "POST", PUSH, json={"sendMessages": [TEXT]})
    call(api, "POST", PUSH, token="nope", json={"sendMessages": [TEXT]})
    ok, refused = api.log.entries()[-2:]
    assert (ok.status, ok.handler, ok.source) == (200, "actions", "http")
    assert ok.headers["Authorization"] == "***" and ok.body == {"sendMessages": [TEXT]}
    assert refused.status == 401 and refused.error.startswith("The Bearer token does not match.")
    assert TOKEN not in str([e.to_dict() for e in api.log])


def test_the_emulator_is_an_app_and_its_traffic_lands_in_its_log(api):
    assert isinstance(api, tk.App) and api.server is not None and api.url == api.server.url
    assert set(api.handlers) >= {"/v1/bots", "/v1/bots/<bot>/conversations/<sid>/actions"}
    before = len(api.log)
    with api.client() as client:
        client.push("sess-1", "hi")
        client.session_data("sess-1")
        with pytest.raises(tk.ChatlayerError):
            client.session_data("nobody")
    entries = api.log.entries()[before:]
    assert [(e.method, e.handler, e.status) for e in entries] == [
        ("POST", "actions", 200), ("GET", "session_data", 200), ("GET", "session_data", 404)]
    assert entries[0].response == {"sessionId": "sess-1", "sent": 1}
    frame = api.log.to_frame()
    assert list(frame["path"])[-1] == "/v1/bots/demo-bot/conversations/nobody/session-data"


class FakeChat:
    """What the emulator needs from an emulator conversation."""

    def __init__(self):
        self.session_id, self.received, self.lock = "chat-7", [], threading.Lock()

    def receive(self, messages, source="push"):
        with self.lock:
            self.received.append((source, messages))


def test_pushes_reach_an_attached_conversation(api):
    chat = FakeChat()
    assert api.attach(chat) is None  # nothing to print; pushes to "chat-7" arrive below
    with api.client() as client:
        client.push("chat-7", tk.text("Paid!"), tk.media("https://example.com/r.png"))
    assert api.wait(5)
    assert chat.received == [("push", [tk.text("Paid!"), tk.media("https://example.com/r.png")])]


def test_restarting_replaces_the_running_emulator_of_the_same_bot(api):
    url = api.url
    again = V1Emulator("demo-bot", token=TOKEN).start()  # a re-run notebook cell
    try:
        assert not api.running and again.running and again.url != url
        assert not listening_here(int(url.rsplit(":", 1)[1]))  # (asking the freed port raced with other programs)
    finally:
        again.stop()
    assert not again.running
    again.stop()  # twice is fine


def test_client_starts_the_emulator_and_reprs_are_short():
    api = V1Emulator("repr-bot", token=TOKEN)
    assert repr(api) == "<V1Emulator bot 'repr-bot': 0 conversations, stopped>"
    with pytest.raises(RuntimeError, match=r"api.start\(\)"):  # noqa: RUF043
        _ = api.url
    with api.client() as client:
        assert api.running and client.base_url == api.url
        assert repr(client) == "<ChatlayerClient bot 'repr-bot', custom base_url, DRAFT, token ***>"
    api.stop()
    with V1Emulator("ctx-bot") as ctx:
        assert ctx.running
    assert not ctx.running
    with pytest.raises(tk.ConfigError, match="needs a token"):
        V1Emulator("no-token-bot", token="")


def test_reset_forgets_conversations_and_knobs(api):
    api.rate_limit(1)
    api.delay_s = 1.0
    api.reset()
    assert len(api.store) == 0 and len(api.log) == 0 and api.delay_s == 0
    assert call(api, "GET", "/v1/bots", version="").status_code == 200
    assert call(api, "GET", "/v1/bots", version="").status_code == 200


def test_session_data_and_messages_of_an_attached_conversation(api):
    from toolkit.emulator import Conversation, Flow

    flow = Flow("hello")
    flow.message("hi", "Hello {name}!")
    chat = Conversation(flow, session={"name": "Ada"}, session_id="emulator-chat-1")
    assert api.attach(chat) is None
    with api.client() as client:
        data = client.session_data("emulator-chat-1")
        assert data["name"] == "Ada" and data["internal"]["sessionId"] == "emulator-chat-1"
        assert [m["message"] for m in client.messages("emulator-chat-1")] == [tk.text("Hello Ada!")]
        client.delete_session_data("emulator-chat-1")
        assert chat.session.data == {}
        with api.client(version="LIVE") as live, pytest.raises(tk.ChatlayerError, match="not found in LIVE"):
            live.session_data("emulator-chat-1")


def test_a_log_view_shows_the_emulators_calls_like_any_apps(api):
    from helpers import wait_until

    view = api.log_view()
    try:
        assert repr(view) == "LogView(app='v1-emulator-demo-bot')"
        with api.client() as client:
            client.push("sess-1", "hi")
        shown = wait_until(lambda: view.shown, what="the push in the log view")
        assert (shown[0].path, shown[0].handler, shown[0].status) == (PUSH, "actions", 200)
    finally:
        view.close()
