
import pandas as pd
import pytest
import requests

import toolkit as tk


def test_text_each_line_is_a_bubble():
    assert tk.text("Hi", "How can I help?") == {
        "type": "text",
        "config": {"textMessages": [{"text": "Hi"}, {"text": "How can I help?"}]},
    }


def test_buttons_exact_json():
    msg = tk.buttons(
        "Pick a plan",
        tk.postback("Basic", "b1", {"plan": "basic"}),
        tk.url_button("Compare plans", "https://example.com/plans"),
        tk.phone_button("Call us", "+3220000000"),
    )
    assert msg == {"type": "buttons", "config": {
        "textMessages": [{"text": "Pick a plan"}],
        "buttons": [
            {"type": "postback", "title": "Basic",
             "payload": {"nextDialogstateId": "b1", "params": [{"key": "plan", "value": "basic"}]}},
            {"type": "web_url", "title": "Compare plans", "url": "https://example.com/plans"},
            {"type": "phone_number", "title": "Call us", "payload": "+3220000000"},
        ]}}


def test_postback_without_params_has_no_params_key():
    assert tk.postback("Yes", "c3") == {"type": "postback", "title": "Yes",
                                        "payload": {"nextDialogstateId": "c3"}}


def test_quick_replies_exact_json():
    msg = tk.quick_replies(
        "Share your location?",
        tk.postback("Yes", "c3", image_url="https://example.com/y.png"),
        tk.location("Send location", "d4"),
    )
    assert msg == {"type": "quickReplies", "config": {
        "textMessages": [{"text": "Share your location?"}],
        "quickReplies": [
            {"type": "postback", "title": "Yes", "payload": {"nextDialogstateId": "c3"},
             "imageUrl": "https://example.com/y.png"},
            {"type": "location", "title": "Send location", "payload": {"nextDialogstateId": "d4"}},
        ]}}


def test_carousel_and_card_exact_json():
    msg = tk.carousel(tk.card("Bike A", "€499", image_url="https://example.com/a.jpg",
                              url="https://example.com/a",
                              buttons=[tk.postback("Choose", "e5", {"bike": "A"})]))
    assert msg == {"type": "carousel", "config": {"elements": [{
        "title": "Bike A", "subTitle": "€499", "imageUrl": "https://example.com/a.jpg",
        "webUrl": "https://example.com/a",
        "buttons": [{"type": "postback", "title": "Choose",
                     "payload": {"nextDialogstateId": "e5", "params": [{"key": "bike", "value": "A"}]}}],
    }]}}


def test_media_exact_json():
    assert tk.media("https://example.com/r.png") == {
        "type": "media", "config": {"media": {"type": "image", "url": "https://example.com/r.png"}}}
    assert tk.media("https://example.com/v.mp4", "video")["config"]["media"]["type"] == "video"


# --- issue 15 point 4 / issue 17 point 2: items one by one or as one iterable, wrong items named ----

B1, B2 = tk.postback("Basic", "b1"), tk.url_button("Compare", "https://e/plans")
C1, C2 = tk.card("Bike A", "€499"), tk.card("Bike B", "€599")


@pytest.mark.parametrize("build", [
    lambda items: tk.buttons("Pick a plan", *items),
    lambda items: tk.buttons("Pick a plan", items),
    lambda items: tk.buttons("Pick a plan", tuple(items)),
    lambda items: tk.buttons("Pick a plan", (b for b in items)),
])
def test_buttons_take_separate_items_or_one_iterable(build):
    assert build([B1, B2]) == {"type": "buttons", "config": {
        "textMessages": [{"text": "Pick a plan"}], "buttons": [B1, B2]}}


@pytest.mark.parametrize("build", [
    lambda: tk.carousel(C1, C2), lambda: tk.carousel([C1, C2]), lambda: tk.carousel((C1, C2)),
    lambda: tk.carousel(iter([C1, C2])), lambda: tk.carousel(c for c in (C1, C2)),
])
def test_carousel_of_a_list_is_those_cards_never_a_card_titled_buttons(build):
    msg = build()
    assert msg["config"]["elements"] == [C1, C2]
    assert all(card["title"] != "buttons" for card in msg["config"]["elements"])


@pytest.mark.parametrize("build", [
    lambda: tk.text("a", "b"), lambda: tk.text(["a", "b"]), lambda: tk.text(("a", "b")),
    lambda: tk.text(x for x in "ab"),
])
def test_text_of_a_list_is_one_bubble_a_line_never_its_repr(build):
    assert build() == {"type": "text", "config": {"textMessages": [{"text": "a"}, {"text": "b"}]}}


def test_quick_replies_list_message_and_card_buttons_take_iterables_too():
    q = [tk.postback("Yes", "y"), tk.location()]
    assert tk.quick_replies("Where?", q) == tk.quick_replies("Where?", *q)
    assert tk.list_message([C1, C2]) == tk.list_message(C1, C2)
    assert tk.card("A", buttons=(b for b in [B1])) == tk.card("A", buttons=[B1]) == tk.card("A", buttons=B1)
    assert tk.buttons(["Line 1", "Line 2"], B1)["config"]["textMessages"] == [{"text": "Line 1"},
                                                                              {"text": "Line 2"}]
    assert tk.text(3, 2.5, float("nan")) == tk.text("3", "2.5", "")


@pytest.mark.parametrize("build,names", [
    (lambda: tk.buttons("Pick", B1, "Basic"), ["buttons()", "button 2 of 2", "a str ('Basic')", "postback"]),
    (lambda: tk.buttons("Pick", [B1, 42]), ["buttons()", "button 2 of 2", "an int (42)"]),
    (lambda: tk.buttons("Pick", [tk.location()]), ["buttons()", "button 1 of 1", "type 'location'"]),
    (lambda: tk.buttons("Pick", [tk.text("x")]), ["buttons()", "a 'text' message"]),
    (lambda: tk.buttons("Pick", [[B1]]), ["buttons()", "button 1 of 1", "a list"]),
    (lambda: tk.quick_replies("Q", [B2]), ["quick_replies()", "quick reply 1 of 1", "type 'web_url'",
                                            "toolkit.location(...)"]),
    (lambda: tk.carousel([C1, B1]), ["carousel()", "card 2 of 2", "type 'postback'", "toolkit.card(...)"]),
    (lambda: tk.carousel(C1, "Bike B"), ["carousel()", "card 2 of 2", "a str ('Bike B')"]),
    (lambda: tk.carousel([tk.carousel(C1)]), ["carousel()", "card 1 of 1", "a 'carousel' message"]),
    (lambda: tk.carousel({"name": "x"}), ["carousel()", "card 1 of 1", "without a type (keys: name)"]),
    (lambda: tk.list_message([C1], button=C2), ["list_message()", "button 1 of 1"]),
    (lambda: tk.list_message(["A"]), ["list_message()", "element 1 of 1", "a str"]),
    (lambda: tk.card("A", buttons=["Go"]), ["card()", "button 1 of 1", "a str ('Go')"]),
    (lambda: tk.text("a", ["b"]), ["text()", "text line 2 of 2", "a list"]),
    (lambda: tk.text({"text": "a"}), ["text()", "text line 1 of 1", "a dict"]),
    (lambda: tk.text(None), ["text()", "text line 1 of 1", "a NoneType"]),
    (lambda: tk.text(), ["text() needs at least one line"]),
    (lambda: tk.text([]), ["text() needs at least one line"]),
    (lambda: tk.carousel(pd.DataFrame({"title": ["A"]})), ["carousel() got a DataFrame", "carousel_from_frame"]),
    (lambda: tk.media("u", "gif"), ["media()", "'gif'", "image, video, audio"]),
    (lambda: tk.list_message([C1], size="huge"), ["list_message()", "'huge'"]),
])
def test_a_wrong_item_names_the_builder_the_position_and_the_accepted_kinds(build, names):
    with pytest.raises(tk.BuilderError) as info:
        build()
    assert all(name in str(info.value) for name in names), str(info.value)
    assert isinstance(info.value, TypeError) and isinstance(info.value, tk.ReplyError)


def test_builder_errors_in_a_handler_are_a_500_and_the_server_goes_on():
    app = tk.App("builders")
    app.add_handler("/bad", lambda: tk.carousel([C1, "oops"]))
    app.add_handler("/good", lambda: tk.carousel([C1, C2]))
    with app.serve(port=0) as server:
        bad = requests.post(server.url + "/bad", json={}, timeout=10)
        assert bad.status_code == 500 and "card 2 of 2" in bad.json()["error"]["message"]
        good = requests.post(server.url + "/good", json={}, timeout=10)
        assert good.status_code == 200 and good.json()["messages"][0]["config"]["elements"] == [C1, C2]
    assert len(app.log.to_frame()) == 2


# --- list messages and media isCache (issue 15 point 2) ------------------------------------------------


def test_list_message_exact_json_and_media_cache():
    msg = tk.list_message([C1, C2], button=B2, size="compact")
    assert msg == {"type": "list", "config": {"elements": [C1, C2], "button": B2, "size": "compact"}}
    assert tk.list_message(C1) == {"type": "list", "config": {"elements": [C1]}}
    assert tk.media("https://e/a.png", cache=True) == {
        "type": "media", "config": {"media": {"type": "image", "url": "https://e/a.png", "isCache": True}}}
    assert "isCache" not in tk.media("https://e/a.png")["config"]["media"]
    tk.validate({"messages": [msg, tk.media("u", "video", cache=True)]})


def test_numbers_from_numpy_and_decimal_are_text_lines_and_list_buttons_are_clickable():
    import decimal

    import numpy as np

    from toolkit.emulator.choices import message_choices
    assert tk.text(pd.Series([1, 2.5, np.nan])) == tk.text("1.0", "2.5", "")
    assert tk.text(np.int64(3), decimal.Decimal("1.50")) == tk.text("3", "1.50")
    listed = tk.list_message([tk.card("A", buttons=[B1])], button=B2)
    assert [(c.title, c.card) for c in message_choices(listed)] == [("Basic", "A"), ("Compare", None)]


def test_card_leaves_empty_values_out():
    nan = float("nan")
    assert tk.card("A", nan, image_url=nan, url=None) == {"title": "A", "buttons": []}
    assert tk.card(nan)["title"] == "" and tk.card("A", pd.NA)["title"] == "A"
    assert tk.card("A", 4.5)["subTitle"] == "4.5"
