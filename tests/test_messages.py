import pandas as pd

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


def test_carousel_from_frame_columns_templates_buttons_and_limit():
    df = pd.DataFrame({"name": [f"P{i}" for i in range(12)], "price": [i + 0.5 for i in range(12)],
                       "img": [f"https://x/{i}.png" for i in range(12)]})
    msg = tk.carousel_from_frame(df, title="name", subtitle="{price:.2f} EUR", image_url="img",
                                 button=lambda row: tk.postback("Buy", "buy", {"sku": row["name"]}))
    cards = msg["config"]["elements"]
    assert len(cards) == 10
    assert cards[1] == {"title": "P1", "subTitle": "1.50 EUR", "imageUrl": "https://x/1.png",
                        "buttons": [{"type": "postback", "title": "Buy", "payload": {
                            "nextDialogstateId": "buy", "params": [{"key": "sku", "value": "P1"}]}}]}
    tk.validate({"messages": [msg]})
