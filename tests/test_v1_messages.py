"""The V1 ``*Template`` format: what ChatlayerClient.push sends, and back (what the emulator shows)."""

from __future__ import annotations

import pytest

import toolkit as tk
from toolkit.errors import ReplyError
from toolkit.wire.v1format import flatten, from_v1, is_v1, to_v1

BUILT = [
    tk.text("Hello", "How can I help?"),
    tk.buttons("Pick a plan", tk.postback("Basic", "b1", {"plan": "basic"}),
               tk.url_button("Compare", "https://example.com/plans"), tk.phone_button("Call us", "+3220000000")),
    tk.quick_replies("Share your location?", tk.postback("Yes", "c3", image_url="https://example.com/y.png"),
                     tk.location("Send location", "d4")),
    tk.carousel(tk.card("Bike A", "€499", image_url="https://example.com/a.jpg", url="https://example.com/a",
                        buttons=[tk.postback("Choose", "e5", {"bike": "A"})])),
    tk.media("https://example.com/receipt.png"),
]


def test_builders_become_the_v1_templates_of_chatlayers_example():
    assert to_v1(tk.text("Hi")) == {"textMessageTemplate": {"textMessages": [{"text": "Hi"}]}}
    assert to_v1(BUILT[1]) == {"buttonTemplate": {
        "textMessages": [{"text": "Pick a plan"}],
        "buttons": [
            {"postBackButton": {"title": "Basic", "payload": {
                "nextDialogstateId": "b1", "sessionDataToSet": [{"key": "plan", "value": "basic"}]}}},
            {"urlButton": {"title": "Compare", "url": "https://example.com/plans"}},
            {"phoneNumberButton": {"title": "Call us", "phoneNumber": "+3220000000"}},
        ]}}
    quick = to_v1(BUILT[2])["quickReplyTemplate"]["quickReplies"]
    assert quick[0] == {"title": "Yes", "imageUrl": "https://example.com/y.png",
                        "payload": {"nextDialogstateId": "c3"}}
    card = to_v1(BUILT[3])["carouselTemplate"]["elements"][0]
    assert card["subTitle"] == "€499" and card["buttons"][0]["postBackButton"]["title"] == "Choose"
    assert to_v1(BUILT[4]) == {"attachmentTemplate": {"media": {"url": "https://example.com/receipt.png",
                                                                  "type": "image"}}}


@pytest.mark.parametrize("message", BUILT, ids=[m["type"] for m in BUILT])
def test_every_builder_survives_the_round_trip(message):
    assert from_v1(to_v1(message)) == message


def test_strings_lists_replies_and_v1_templates_are_accepted():
    v1 = {"textMessageTemplate": {"textMessages": [{"text": "raw"}]}}
    items = flatten(["a", [tk.text("b"), v1], tk.Reply(messages=["c"])])
    assert [to_v1(m) for m in items][-2:] == [v1, {"textMessageTemplate": {"textMessages": [{"text": "c"}]}}]
    assert is_v1(v1) and not is_v1(tk.text("x"))


def test_a_bad_message_names_the_problem_and_the_builders():
    with pytest.raises(ReplyError) as info:
        to_v1({"type": "video", "config": {}})
    assert "unknown message type 'video'" in str(info.value) and "toolkit.text(...)" in info.value.hint


def test_a_malformed_template_is_a_readable_value_error():
    with pytest.raises(ValueError, match="one V1 template object"):
        from_v1({"type": "text"})
    with pytest.raises(ValueError, match="attachmentTemplate is missing or has a malformed member 'media'"):
        from_v1({"attachmentTemplate": {}})
