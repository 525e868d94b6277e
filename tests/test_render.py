from helpers import icons_as_text

import toolkit as tk
from toolkit.html.render import message_html, messages_html, user_html


def test_every_message_type_renders_what_a_user_sees():
    html = icons_as_text(messages_html([
        tk.text("Hello <b>"),
        tk.buttons("Pick", tk.postback("Basic", "b1"), tk.url_button("Site", "https://e/x"),
                   tk.phone_button("Call", "+32")),
        tk.quick_replies("Where?", tk.location("Send location", "d4")),
        tk.carousel(tk.card("Bike A", "€499", image_url="https://e/a.jpg", buttons=[tk.postback("Choose", "e5")])),
        tk.media("https://e/r.png"), tk.media("https://e/v.mp4", "video"),
    ]))
    assert "Hello &lt;b&gt;" in html  # escaped
    for part in ("Basic", "↗ Site", "☎ Call", "⚑ Send location", "<b>Bike A</b>", "€499",
                 'src="https://e/a.jpg"', 'src="https://e/r.png"', "<video controls"):
        assert part in html
    assert 'title="postback → b1"' in html


def test_unknown_type_and_user_bubble():
    assert "<code>webview</code>" in message_html({"type": "webview", "config": {}})
    assert "text-align:right" in user_html("hi") and ">hi<" in user_html("hi")


def test_a_carousel_scrolls_inside_its_own_row():
    """Its cards never widen what holds them (the chat stays 420 px): width 0, then the whole row."""
    html = message_html(tk.carousel(*[tk.card(f"Card {n}", "x") for n in range(6)]))
    assert html.startswith('<div class="tk-carousel" style="width:0;min-width:100%;')
    assert "overflow-x:auto" in html and html.count('class="tk-card"') == 6


def test_bubbles_and_chips_carry_classes_for_the_browser_test():
    html = messages_html([tk.text("Hi"), tk.quick_replies("Q", tk.postback("Yes", "b"))])
    assert '<span class="tk-bubble" style="' in html and '<span class="tk-chip" style="' in html
    assert 'class="tk-bubble tk-user-bubble"' in user_html("me")


def test_list_renders_its_rows_images_buttons_and_the_button_below():
    html = icons_as_text(message_html(tk.list_message(
        [tk.card("Bike <A>", "€499", image_url="https://e/a.jpg", buttons=[tk.postback("Choose", "e5")]),
         tk.card("Bike B")], button=tk.url_button("All bikes", "https://e/all"))))
    for part in ("<b>Bike &lt;A&gt;</b>", "€499", 'src="https://e/a.jpg"', "Choose", "<b>Bike B</b>",
                 "↗ All bikes", "best-guess"):
        assert part in html
    assert html.index("Bike B") < html.index("All bikes")
    bare = message_html({"type": "list", "config": {"elements": ["junk", {"title": "Only"}]}})
    assert "<b>Only</b>" in bare and "junk" not in bare


def test_reply_text_fills_templates_from_the_session_the_reply_wrote():
    """What the user reads, not the template: Chatlayer fills {order.status} from the session."""
    from toolkit.html.render import reply_text

    app = tk.App("shop")

    @app.handler("/orders")
    def orders(order_id: str):
        return tk.Reply(session={"order": {"id": order_id, "status": "shipped", "items": [{"n": 2.0}]}},
                        messages=[tk.text("Your order {order.status}."),
                                  tk.text("{order.id}: {order.items[0].n} item(s), {order.eta} {user.name}")])

    assert reply_text(app.call("/orders", {"order_id": "A-1"})) == (
        "Your order shipped.\nA-1: 2 item(s), {order.eta} {user.name}")  # unknown ones stay as written
    assert app.log.to_frame()["reply_text"].iloc[-1].startswith("Your order shipped.")
    assert reply_text({"messages": [tk.text("Hi {name}")]}) == "Hi {name}"
