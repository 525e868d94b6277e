"""The receiver (LiveBot's) and the emulator against bodies real Chatlayer clients send and read
(tests/real_bodies.py names each one's source in contract section 8), over HTTP on loopback."""

from __future__ import annotations

import pytest
import real_bodies as real
import requests

import toolkit as tk
from toolkit.chatlayer.client import ChatlayerClient
from toolkit.chatlayer.live import LiveBot
from toolkit.demo import build_flow
from toolkit.reply import JsonAnswer
from toolkit.v1emulator.api import V1Emulator

TOKEN = "real-bodies-token"


@pytest.fixture
def api(demo_app):
    api = V1Emulator("beanbox", token=TOKEN).start()
    api.webhook_channel("web-1", build_flow(), demo_app.server, verify_token=real.VERIFY)
    yield api
    api.stop()


@pytest.fixture
def bot(demo_app, api):
    channel = api.channels["web-1"]
    bot = LiveBot(demo_app, "web-1", TOKEN, verify_token=real.VERIFY, base_url=api.url, settled=channel.idle,
                  quiet_s=0.02, deadline_s=30)
    channel.webhook_url = bot.webhook_url()
    bot.expect("user-9", "discord-user-1")  # the bodies' users, as if a real chat had started them
    return bot


def post(bot, body):
    return requests.post(bot.webhook_url(), json=body, timeout=10)


@pytest.mark.parametrize("body", [real.EVENT_BODY, real.UNKNOWN_ATTACHMENT], ids=["event", "unknown-attachment"])
def test_the_receiver_answers_200_to_a_body_it_does_not_show(bot, body):
    answer = post(bot, body)
    assert answer.status_code == 200, answer.text  # a 4xx would make Chatlayer retry (8.1)
    assert bot.received[-1] == body and bot.skipped == 1
    assert bot.inbox("discord-user-1") == [] and bot.inbox("user-9") == []


def test_extra_members_and_unknown_button_types_are_accepted_and_what_shows_is_kept(bot):
    assert post(bot, real.TEXT_WITH_EXTRAS).status_code == 200
    assert post(bot, real.ELEMENT_SHARE_CARD).status_code == 200
    text, card = bot.inbox("user-9")
    assert text == tk.text("Your order is on its way.")
    [element] = card["config"]["elements"]
    assert element["webUrl"] == "https://example.com/a"  # item_url
    assert [b["title"] for b in element["buttons"]] == ["Choose"]  # element_share is not shown
    assert element["buttons"][0]["payload"] == {"nextDialogstateId": "b-choose"}
    assert bot.skipped == 0


def test_a_list_template_and_both_card_links_arrive_as_the_user_sees_them(bot):
    for body in (real.LIST_TEMPLATE, real.ITEM_URL_CARD, real.DEFAULT_ACTION_CARD):
        assert post(bot, body).status_code == 200
    listed, item_url, default_action = bot.inbox("user-9")
    assert listed["type"] == "list" and [e["title"] for e in listed["config"]["elements"]] == ["Classic T-Shirt",
                                                                                                 "Hoodie"]
    assert listed["config"]["button"]["title"] == "View more"
    assert listed["config"]["elements"][1]["buttons"][0]["payload"] == {
        "nextDialogstateId": "buy", "params": [{"key": "item", "value": "hoodie"}]}
    assert "(list message)" not in tk.emulator.message_text(listed)
    assert item_url["config"]["elements"][0]["webUrl"] == "https://example.com/a"
    assert default_action["config"]["elements"][0]["webUrl"] == "https://example.com/b"


@pytest.mark.parametrize(("body", "status", "words"), [
    ([1, 2], 400, "not an object"),
    ({"verifyToken": real.VERIFY, "message": "hi"}, 400, "needs a message object"),
    ({"verifyToken": real.VERIFY, "message": {"text": "hi"}}, 400, "needs recipient.id"),
    ({"verifyToken": real.VERIFY, "senderId": "u", "message": {"attachment": {"type": "template", "payload": {
        "template_type": "generic", "elements": "not a list"}}}}, 400, "malformed outbound message"),
    ({**real.EVENT_BODY, "verifyToken": "wrong"}, 401, "does not match"),
], ids=["array", "message-not-object", "no-recipient", "malformed-elements", "wrong-token"])
def test_only_a_wrong_token_is_refused_and_a_malformed_body_is_a_400_naming_it(bot, body, status, words):
    answer = post(bot, body)
    assert answer.status_code == status and words in answer.json()["error"]["message"]


def test_the_emulator_accepts_botiums_conversation_id_bodies_and_its_postback(api):
    url = api.url + "/v1/channels/webhook/web-1/messages"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for body in (real.CONVERSATION_ID_INTRO, real.CONVERSATION_ID_TEXT, real.BOTIUM_POSTBACK):
        answer = requests.post(url, json=body, headers=headers, timeout=10)
        assert (answer.status_code, answer.json()) == (200, {"message": "EVENT_RECEIVED"})
        assert api.wait(10)
    channel = api.channels["web-1"]
    conv = channel.conversation("botium-conv-1")
    assert conv.session.get("address.zipCode") == "2000" and channel.errors == []
    assert "What are you looking for?" in tk.emulator.message_text(channel.answers("botium-conv-1")[-1])
    assert requests.post(url, json=real.DISCORD_TEXT, headers=headers, timeout=10).status_code == 200
    assert api.wait(10) and channel.conversation("discord-user-1").session.get("email") == "support@chatlayer.ai"


def test_the_client_sends_a_conversation_id_or_only_the_four_user_fields(api):
    with api.client() as client:
        client.webhook_message("web-1", {"introMessage": {}}, conversation_id="c-7")
        client.webhook_message("web-1", {"introMessage": {}}, {"id": "u-8", "firstName": "Ada", "fullName": "Ada L",
                                                              "email": "ada@example.com"})
        assert api.wait(10)
    first, second = api.channels["web-1"].received
    assert first == {"message": {"introMessage": {}}, "conversationId": "c-7"}
    assert second["user"] == {"id": "u-8", "firstName": "Ada"}  # the Redoc's fields only (8.11)


def test_nlp_extract_is_read_in_both_real_shapes_and_the_emulator_answers_the_current_one(api):
    fake = tk.App("real-nlp")
    answers = [real.NLP_EXTRACT, real.NLP_EXTRACT_LEGACY, real.BOTS_BARE, real.BOTS_WRAPPED]

    @fake.handler("/v1/bots/<bot>/nlp/extract", methods="POST")
    def extract(request, bot):
        return JsonAnswer(answers.pop(0))

    @fake.handler("/v1/bots", methods="GET")
    def bots(request):
        return JsonAnswer(answers.pop(0))

    server = fake.serve(port=0)
    try:
        client = ChatlayerClient("t", "bot-1", base_url=server.url)
        assert client.nlp_extract("I want a large pizza") == real.NLP_EXTRACT["extract"]
        assert client.nlp_extract("I want a large pizza") == real.NLP_EXTRACT["extract"]  # legacy data.extract
        assert client.bots() == client.bots() == real.BOTS_BARE
    finally:
        server.stop()
    raw = requests.post(api.url + "/v1/bots/beanbox/nlp/extract", json={"expression": "where is my order?"},
                        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
    assert set(raw) == {"extract"} and raw["extract"]["intents"][0] == {"intent": raw["extract"]["intent"],
                                                                        "score": 1.0}
    bare = requests.get(api.url + "/v1/bots", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
    assert bare == [{"id": "beanbox", "name": "beanbox"}]


def test_the_v1_list_template_of_chatlayers_example_is_accepted_and_emitted_in_that_form(api):
    api.add_conversation("s-1")
    with api.client() as client:
        client.send_actions("s-1", {"sendMessages": [real.V1_LIST_TEMPLATE]})
    assert api.wait(10)
    [listed] = api.pushed("s-1")
    assert listed["type"] == "list" and listed["config"]["size"] == "large"
    assert listed["config"]["button"]["title"] == "Visit the docs"
    assert [e["buttons"][0]["title"] for e in listed["config"]["elements"]] == ["Visit the docs", "Visit the website"]
    again = tk.wire.v1format.to_v1(listed)
    assert again["listTemplate"]["size"] == "LARGE" and "button" in again["listTemplate"]["elements"][0]
    assert again == real.V1_LIST_TEMPLATE


def test_staging_is_the_host_public_code_calls():
    assert ChatlayerClient("t", "b", region="staging").base_url == "https://api.staging.europe-west1.gc.chatlayer.ai"
