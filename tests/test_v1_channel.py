"""The V1 emulator's webhook channel and NLP extract, over loopback: a user message injected with
``POST /v1/channels/webhook/{channelId}/messages`` runs the emulated flow, and the bot's answers are
POSTed to the channel's webhook URL in Chatlayer's outbound format, with the verify token."""

from __future__ import annotations

import json

import pytest
import requests

import toolkit as tk
from toolkit.demo import build_flow
from toolkit.emulator import message_text
from toolkit.v1emulator.api import V1Emulator
from toolkit.wire.webhook import intro_message, location_message, postback_message, text_message

TOKEN = "channel-access-token"
VERIFY = "verify-me-123"


@pytest.fixture
def receiver():
    """A real server that keeps what is POSTed to /hook (the channel's webhook URL)."""
    app = tk.App("hook-receiver")
    got: list[dict] = []

    @app.handler("/hook", methods="POST")
    def hook(request):
        got.append(dict(request.body))

    server = app.serve(port=0)
    yield server, got
    server.stop()


@pytest.fixture
def shop(demo_app):
    return demo_app, demo_app.server


@pytest.fixture
def api(shop, receiver):
    backend, server = shop
    api = V1Emulator("beanbox", token=TOKEN).start()
    api.webhook_channel("web-1", build_flow(), server, webhook_url=receiver[0].url + "/hook", verify_token=VERIFY)
    yield api
    api.stop()


def user(uid="user-1"):
    return {"id": uid, "firstName": "Ada"}


def test_an_injected_message_runs_the_flow_and_its_answers_are_posted_in_the_outbound_format(api, receiver):
    _, got = receiver
    with api.client() as client:
        assert client.webhook_message("web-1", intro_message(), user()) == {"message": "EVENT_RECEIVED"}
        assert api.wait(10)
        first = got[0]
        assert first["verifyToken"] == VERIFY and first["recipient"] == {"id": "user-1"}
        assert first["senderId"] == "user-1" and "Welcome to BeanBox" in first["message"]["text"]
        quick = got[-1]["message"]["quick_replies"]
        assert {"content_type": "location", "title": "Find a store"} in quick
        client.webhook_message("web-1", text_message("Where is my order?"), user())
        client.webhook_message("web-1", text_message("A-1042"), user())
        assert api.wait(10)
    channel = api.channels["web-1"]
    said = [message_text(m) for m in channel.answers("user-1")]
    assert any("Order A-1042 is shipped" in s for s in said)
    buttons = next(m["message"]["attachment"]["payload"] for m in got if "attachment" in m["message"])
    assert buttons["template_type"] == "button" and buttons["buttons"][0] == {
        "type": "web_url", "title": "Track parcel", "url": buttons["buttons"][0]["url"]}
    assert channel.conversation("user-1").session.get("order.status") == "shipped"  # the API step wrote it
    assert channel.errors == [] and len(channel.sent) == len(got)


def test_a_click_sends_what_the_payload_carries_and_reaches_the_right_card(api, receiver):
    _, got = receiver
    with api.client() as client:
        client.webhook_message("web-1", intro_message(), user())
        assert api.wait(10)
        browse = next(q for m in got for q in m["message"].get("quick_replies", []) if q["title"] == "Browse products")
        assert json.loads(browse["payload"]) == {"nextDialogstateId": "pick_category"}  # contract 8.4
        click = postback_message("Browse products", browse["payload"])
        assert click == {"postbackMessage": {"title": "Browse products", "nextDialogstateId": "pick_category"}}
        client.webhook_message("web-1", click, user())
        assert api.wait(10)
        coffee = next(q for q in got[-1]["message"]["quick_replies"] if q["title"] == "Coffee")
        client.webhook_message("web-1", postback_message("Coffee", coffee["payload"]), user())
        assert api.wait(10)
        cards = next(m["message"]["attachment"]["payload"] for m in reversed(got) if "attachment" in m["message"])
        assert cards["template_type"] == "generic" and cards["elements"][0]["buttons"][0]["title"] == "Choose"
        second = cards["elements"][1]
        client.webhook_message("web-1", postback_message("Choose", second["buttons"][0]["payload"]), user())
        assert api.wait(10)
    assert api.channels["web-1"].conversation("user-1").session.get("product.name") == second["title"]


def test_session_data_and_a_location_reach_the_emulated_session(api):
    with api.client() as client:
        client.webhook_message("web-1", intro_message(), user("u-2"), session_data={"address.zipCode": "1000"})
        client.webhook_message("web-1", text_message("nearest store"), user("u-2"))
        client.webhook_message("web-1", location_message(50.8466, 4.3528), user("u-2"))
        assert api.wait(10)
    conv = api.channels["web-1"].conversation("u-2")
    assert conv.session.get("address.zipCode") == "1000" and conv.session.get("location.lat") == 50.8466
    assert any("BeanBox Brussels" in message_text(m) for m in api.channels["web-1"].answers("u-2"))


def test_the_legacy_form_reaches_the_channel_with_that_verify_token(api, receiver):
    with api.client() as client:
        answer = client.webhook_message("web-1", text_message("hello"), user("u-b"), endpoint="legacy",
                                        verify_token=VERIFY)
        assert answer == {"message": "EVENT_RECEIVED"} and api.wait(10)
        with pytest.raises(tk.ChatlayerError, match="403"):
            client.webhook_message("web-1", text_message("hi"), user("u-b"), endpoint="botium", verify_token="no")
    assert api.channels["web-1"].received[0]["message"] == {"textMessage": {"text": "hello"}}


@pytest.mark.parametrize(("path", "body", "status", "words"), [
    ("/v1/channels/webhook/web-1/messages", {"user": {"id": "u"}}, 400, "'message' must be one of introMessage"),
    ("/v1/channels/webhook/web-1/messages", {"message": {"audioMessage": {}}, "user": {"id": "u"}}, 400,
     "got {'audioMessage'"),
    ("/v1/channels/webhook/web-1/messages", {"message": {"textMessage": "hi"}, "user": {"id": "u"}}, 400,
     "(an object)"),
    ("/v1/channels/webhook/web-1/messages", {"message": {"introMessage": {}}}, 400, "'user' with an 'id'"),
    ("/v1/channels/webhook/web-1/messages", {"message": {"introMessage": {}}, "user": {"id": " "}}, 400,
     "'user' with an 'id'"),
    ("/v1/channels/webhook/web-1/messages", {"message": {"introMessage": {}}, "user": {"id": "u"},
                                             "sessionData": [1]}, 400, "'sessionData' must be an object"),
    ("/v1/channels/webhook/nope/messages", {"message": {"introMessage": {}}, "user": {"id": "u"}}, 404,
     "No webhook channel 'nope' (channels: web-1)"),
    ("/v1/bots/beanbox/nlp/extract", {"language": "en"}, 400, "must have an 'expression'"),
    ("/v1/bots/beanbox/nlp/extract", {"expression": ""}, 400, "must have an 'expression'"),
], ids=["no-message", "unknown-kind", "not-an-object", "no-user", "blank-user", "bad-session-data",
        "unknown-channel", "nlp-no-expression", "nlp-empty"])
def test_bad_injections_are_readable_errors_and_nothing_breaks(api, path, body, status, words):
    answer = requests.post(api.url + path, json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert answer.status_code == status and words in answer.json()["error"]["message"]
    assert api.channels["web-1"].received == []
    assert requests.get(api.url + "/v1/bots", headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=5).status_code == 200
    assert api.log.to_frame().shape[0] == len(api.log) >= 2


def test_nlp_extract_answers_the_intent_the_flow_matches(api):
    with api.client() as client:
        found = client.nlp_extract("where is my order?", language="en")
        none = client.nlp_extract("qwerty")
    assert found["intent"] and found["score"] == 1.0 and found["language"] == "en"  # contract 8.2
    assert found["query"] == "where is my order?" and found["intents"] == [{"intent": found["intent"], "score": 1.0}]
    assert (none["intent"], none["score"], none["intents"], none["entities"]) == (None, 0.0, [], [])


def test_a_failing_webhook_url_is_retried_then_recorded(api, receiver):
    server, got = receiver
    server.app.remove_handler("/hook")  # now 404: every delivery fails
    with api.client() as client:
        client.webhook_message("web-1", text_message("hello"), user("u-f"))
        assert api.wait(10)
    errors = api.channels["web-1"].errors
    assert errors and "failed after 3 retries: answered 404" in errors[0]
    hooks = [e for e in server.app.log if e.path == "/hook"]
    assert len(hooks) == 4 * len(api.channels["web-1"].sent)  # the first try and 3 retries, each
    assert requests.get(api.url + "/v1/bots", timeout=5).status_code == 401  # still answering
