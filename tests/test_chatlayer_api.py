"""ChatlayerClient against the emulated V1 API on loopback: every call, auth, rate limits, timeouts."""

from __future__ import annotations

import socket

import pytest

import toolkit as tk
from toolkit.chatlayer.client import REGIONS, ChatlayerClient, retry_wait
from toolkit.errors import ChatlayerError, ChatlayerTimeout, ConfigError, ReplyError
from toolkit.v1emulator.api import V1Emulator

TOKEN = "tok-id:tok-secret"


@pytest.fixture
def api():
    api = V1Emulator("demo-bot", token=TOKEN).start()
    api.add_conversation("sess-1", {"order": {"id": "A-1042"}}, user={"firstName": "Ada"})
    yield api
    api.stop()


def test_push_sends_builders_as_v1_templates_and_they_arrive(api, client):
    answer = client.push("sess-1", "Paid!", tk.buttons("Next?", tk.postback("Receipt", "b-receipt")))
    assert answer == {"sessionId": "sess-1", "sent": 2}
    assert api.pushed("sess-1") == [tk.text("Paid!"), tk.buttons("Next?", tk.postback("Receipt", "b-receipt"))]
    sent = api.log.last()
    assert sent.method == "POST" and sent.path == "/v1/bots/demo-bot/conversations/sess-1/actions"
    assert sent.query == {"version": "DRAFT"} and sent.headers["Authorization"] == "***"
    assert sent.body["sendMessages"][0] == {"textMessageTemplate": {"textMessages": [{"text": "Paid!"}]}}


def test_session_data_is_read_and_deleted(client):
    assert client.session_data("sess-1") == {"order": {"id": "A-1042"}}
    assert client.delete_session_data("sess-1") is None
    assert client.session_data("sess-1") == {}


def test_conversations_and_their_messages_are_listed(client):
    client.push("sess-1", "one", "two")
    [conversation] = client.conversations()
    assert conversation["user"] == {"sessionId": "sess-1", "firstName": "Ada"}
    messages = client.messages("sess-1")
    assert [m["message"] for m in messages] == [tk.text("one"), tk.text("two")]
    assert {m["sender"] for m in messages} == {"bot"}


def test_a_wrong_token_says_it_is_wrong_and_where_to_create_one(api):
    with ChatlayerClient("tok-id:WRONG", "demo-bot", base_url=api.url) as bad, pytest.raises(ChatlayerError) as info:
        bad.push("sess-1", "hello")
    err = info.value
    assert err.api_status == 401 and err.status == 502  # raised in a handler: a bad gateway, not our 401
    assert "token is wrong, expired or revoked" in err.message
    assert "Settings -> Access tokens" in err.hint
    assert "WRONG" not in str(err) and api.pushed("sess-1") == []


def test_a_missing_token_says_so(api):
    with ChatlayerClient("", "demo-bot", base_url=api.url) as anonymous, pytest.raises(ChatlayerError) as info:
        anonymous.session_data("sess-1")
    assert "no token was given" in info.value.message and "Access tokens" in info.value.hint
    assert "Authorization" not in api.log.last().headers


class ScriptedClock:
    """The emulator's clock for a rate-limit test: frozen at ``start`` until ``tick()``, so a window
    never ends (or not) because the machine was slow or fast."""

    def __init__(self, start):
        self.now, self.readings = start, 0

    def __call__(self):
        self.readings += 1
        if self.readings == 4:  # rate_limit(), first push, second push (429), then the retry: reset passed
            self.now += 0.5
        return self.now


def test_a_rate_limit_answer_is_retried_after_the_reset(api, client, monkeypatch):
    import types

    from toolkit.chatlayer import client as client_module

    slept: list[float] = []  # the client's clock and sleep, injected: it waits exactly until the reset
    monkeypatch.setattr(client_module, "time", types.SimpleNamespace(time=lambda: 1_900_000_000.25,
                                                                     sleep=slept.append))
    api.clock = ScriptedClock(1_900_000_000.0)  # the window of 0.5 s ends at ...000.5: reset ...001
    api.rate_limit(1, window_s=0.5)
    client.push("sess-1", "first")
    client.push("sess-1", "second")  # 429 (x-ratelimit-reset: a Unix time), waits, then goes through
    assert [e.status for e in api.log][-3:] == [200, 429, 200]
    refused = api.log.entries()[-2]
    assert refused.response["error"]["type"] == "v1_error" and "at most 1 per 0.5 s" in refused.error
    assert client.stats["retries"] == 1 and client.stats["waited_s"] == slept[0] == 0.75 and len(slept) == 1
    assert api.pushed("sess-1") == [tk.text("first"), tk.text("second")]


def test_the_rate_limit_wait_is_bounded(api):
    api.rate_limit(1, window_s=60)
    with api.client(max_wait_s=2) as client:
        client.push("sess-1", "first")
        with pytest.raises(ChatlayerError) as info:
            client.push("sess-1", "second")
    assert info.value.api_status == 429 and client.stats["retries"] == 0
    assert "beyond max_wait_s=2" in info.value.message and "limit 1 calls" in info.value.message
    assert "max_wait_s" in info.value.hint


def test_retries_stop_after_max_retries(api):
    api.fail_next(429, times=5, headers={"Retry-After": "0"})
    with api.client(max_retries=2) as client, pytest.raises(ChatlayerError, match="after 2 retries"):
        client.session_data("sess-1")
    assert client.stats["retries"] == 2


def test_retry_wait_reads_retry_after_then_the_reset_header():
    now = 1_700_000_000.0
    assert retry_wait({"Retry-After": "3"}, 0, now) == 3
    assert retry_wait({"x-ratelimit-reset": "2.5"}, 0, now) == 2.5
    assert retry_wait({"x-ratelimit-reset": str(now + 4)}, 0, now) == 4  # a Unix time
    assert retry_wait({"x-ratelimit-reset": str((now + 5) * 1000)}, 0, now) == pytest.approx(5)
    assert retry_wait({"Retry-After": "Tue, 14 Nov 2023 22:13:26 GMT"}, 0, now) == pytest.approx(6)
    assert retry_wait({"x-ratelimit-reset": str(now - 10)}, 0, now) == 0
    assert [retry_wait({}, attempt, now) for attempt in range(3)] == [1, 2, 4]


def test_a_slow_answer_times_out_with_a_clear_error(api):
    api.delay_s = 2.0
    with api.client(timeout=0.2) as client, pytest.raises(ChatlayerTimeout) as info:
        client.push("sess-1", "hello")
    assert info.value.status == 504 and "within timeout=0.2 s" in info.value.message
    assert "may still have been delivered" in info.value.hint


def test_unknown_conversations_and_wrong_versions_are_404s_with_the_fix(api):
    with api.client(version="live") as live, pytest.raises(ChatlayerError) as info:
        live.push("sess-1", "hello")
    assert info.value.api_status == 404 and "not found in LIVE" in info.value.message
    assert "{internal.sessionId}" in info.value.hint and "DRAFT" in info.value.hint


def test_an_unreachable_host_is_a_readable_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with ChatlayerClient(TOKEN, "demo-bot", base_url=f"http://127.0.0.1:{port}") as client, \
            pytest.raises(ChatlayerError, match="Could not reach Chatlayer") as info:
        client.conversations()
    assert info.value.api_status is None and "V1Emulator" in info.value.hint


def test_server_errors_are_not_retried(api, client):
    api.fail_next(503, message="maintenance")
    with pytest.raises(ChatlayerError) as info:
        client.push("sess-1", "hello")
    assert info.value.api_status == 503 and "maintenance" in info.value.message
    assert client.stats["calls"] == 1 and api.pushed("sess-1") == []


def test_regions_versions_and_a_masked_repr():
    assert ChatlayerClient(TOKEN, "b").base_url == "https://api.chatlayer.ai"
    assert ChatlayerClient(TOKEN, "b", region="US").base_url == REGIONS["us"]
    assert ChatlayerClient(TOKEN, "b", "asia", "live").version == "LIVE"
    assert ChatlayerClient("Bearer " + TOKEN, "b")._token == TOKEN
    assert repr(ChatlayerClient(TOKEN, "b")) == "<ChatlayerClient bot 'b', eu, DRAFT, token ***>"
    assert "secret" not in repr(ChatlayerClient(TOKEN, "b", base_url="http://127.0.0.1:1"))
    with pytest.raises(ConfigError, match="Unknown Chatlayer region 'mars'"):
        ChatlayerClient(TOKEN, "b", region="mars")
    with pytest.raises(ConfigError, match="Unknown bot version 'PROD'"):
        ChatlayerClient(TOKEN, "b", version="PROD")
    with pytest.raises(ConfigError, match="needs a bot_id"):
        ChatlayerClient(TOKEN, "")


def test_bad_messages_and_missing_ids_fail_before_any_call(api, client):
    with pytest.raises(ReplyError, match="unknown message type"):
        client.push("sess-1", {"type": "video", "config": {}})
    with pytest.raises(ValueError, match="at least one message"):
        client.push("sess-1")
    with pytest.raises(ValueError, match="internal.sessionId"):
        client.push("", "hello")
    assert client.stats["calls"] == 0 and len(api.log) == 0


def test_nlp_extract_and_webhook_messages_check_their_arguments_before_any_call(api, client):
    from toolkit.wire.webhook import text_message

    with pytest.raises(ValueError, match="needs the text to understand"):
        client.nlp_extract("  ")
    for user in ({}, {"id": ""}, {"firstName": "Ada"}):
        with pytest.raises(ValueError, match=r"needs user=\{'id'"):
            client.webhook_message("web-1", text_message("hi"), user)
    assert client.stats["calls"] == 0 and len(api.log) == 0
    with pytest.raises(ChatlayerError, match="No webhook channel 'web-1'") as info:
        client.webhook_message("web-1", text_message("hi"), {"id": "u1"})
    assert info.value.api_status == 404 and api.log.last().handler == "webhook_message"
