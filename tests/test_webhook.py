"""The webhook channel's wire formats: user messages in, the bot's Messenger-like messages out and back
into the transcript model (what LiveBot converts live replies with)."""

from __future__ import annotations

import json

import pytest

import toolkit as tk
from toolkit.wire import webhook as wh

SHOP = tk.carousel(tk.card("Bike A", subtitle="499 EUR", image_url="https://x.test/a.jpg", url="https://x.test/a",
                           buttons=[tk.postback("Choose", "b-choose", {"bike": "A"})]))


def ids():
    made = []

    def payload_id(item, card):
        made.append((item["title"], card))
        return f"pb-{len(made)}"

    return payload_id, made


@pytest.mark.parametrize("message", [
    tk.text("Hello!"),
    tk.buttons("Pick a plan", tk.postback("Basic", "b1"), tk.url_button("Compare", "https://x.test/p"),
               tk.phone_button("Call us", "+3220000000")),
    tk.quick_replies("Share your location?", tk.postback("Yes", "c3"), tk.location("Send location", "d4")),
    SHOP,
    tk.media("https://x.test/r.png"),
    tk.media("https://x.test/doc.pdf", "attachment"),
], ids=["text", "buttons", "quick-replies", "carousel", "image", "file"])
def test_every_kind_goes_out_and_comes_back_as_the_user_sees_it(message):
    payload_id, _ = ids()
    [out] = wh.to_outbound(message, payload_id)
    back = wh.from_outbound(out)
    assert tk.emulator.message_text(back) == tk.emulator.message_text(message)
    assert back["type"] == message["type"]


def test_postbacks_go_out_carrying_what_a_click_sends_back():
    [out] = wh.to_outbound(SHOP)  # the default payload: the JSON of the click (contract 8.4)
    button = out["attachment"]["payload"]["elements"][0]["buttons"][0]
    assert button["type"] == "postback" and button["title"] == "Choose"
    assert json.loads(button["payload"]) == {"nextDialogstateId": "b-choose",  # what Botium parses
                                             "parameters": [{"key": "bike", "value": "A"}]}
    card = wh.from_outbound(out)["config"]["elements"][0]
    assert card["buttons"][0]["payload"] == {"nextDialogstateId": "b-choose", "params": [{"key": "bike", "value": "A"}]}
    assert card["webUrl"] == "https://x.test/a" and out["attachment"]["payload"]["elements"][0]["item_url"] == card["webUrl"]
    click = wh.postback_message("Choose", button["payload"])
    assert click == {"postbackMessage": {"title": "Choose", "nextDialogstateId": "b-choose",
                                         "sessionDataToSet": [{"key": "bike", "value": "A"}]}}
    payload_id, made = ids()  # a channel may still choose opaque ids
    [opaque] = wh.to_outbound(SHOP, payload_id)
    assert opaque["attachment"]["payload"]["elements"][0]["buttons"][0]["payload"] == "pb-1"
    assert made == [("Choose", "Bike A")]
    assert wh.from_outbound(opaque)["config"]["elements"][0]["buttons"][0]["payload"] == {"id": "pb-1"}


def test_several_text_lines_are_several_messages_and_the_last_one_carries_the_buttons():
    payload_id, _ = ids()
    out = wh.to_outbound(tk.buttons(["Hi!", "Pick one"], tk.postback("A", "a")), payload_id)
    assert [o.get("text") for o in out[:1]] == ["Hi!"]
    assert out[1]["attachment"]["payload"]["text"] == "Pick one"
    assert wh.to_outbound(tk.text("one", "two"), payload_id) == [{"text": "one"}, {"text": "two"}]


def test_the_recipient_is_read_from_any_of_the_three_places():
    assert wh.recipient_of(wh.outbound_body("u1", "v", {"text": "x"})) == "u1"
    assert wh.recipient_of({"senderId": "u2"}) == "u2"
    assert wh.recipient_of({"sender": {"id": "u3"}}) == "u3"  # Botium's connector reads sender.id
    assert wh.recipient_of({"message": {}}) is None


@pytest.mark.parametrize("bad", [{"nothing": 1}, {"text": 3}, {"attachment": {"type": "template",
                                                                              "payload": {"template_type": "x"}}}])
def test_an_unknown_outbound_shape_is_a_value_error_naming_it(bad):
    with pytest.raises(ValueError, match="text|template_type"):
        wh.from_outbound(bad)


@pytest.mark.parametrize("bad", [None, {}, {"textMessage": "hi"}, {"textMessage": {}, "introMessage": {}},
                                 {"voiceMessage": {}}])
def test_inbound_messages_must_be_one_known_kind(bad):
    with pytest.raises(ValueError, match="must be one of introMessage"):
        wh.inbound_kind(bad)
    assert wh.inbound_kind(wh.location_message(50.8, 4.3)) == "locationMessage"
    assert wh.postback_message("Yes", "pb-1") == {"postbackMessage": {"title": "Yes"}}  # no payload member
    documented = wh.postback_message("Basic", next_dialogstate_id="b1", params=[{"key": "plan", "value": "basic"}])
    assert documented == {"postbackMessage": {"title": "Basic", "nextDialogstateId": "b1",
                                              "sessionDataToSet": [{"key": "plan", "value": "basic"}]}}
