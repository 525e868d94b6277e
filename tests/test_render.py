import toolkit as tk
from toolkit.render import message_html, messages_html, user_html


def test_every_message_type_renders_what_a_user_sees():
    html = messages_html([
        tk.text("Hello <b>"),
        tk.buttons("Pick", tk.postback("Basic", "b1"), tk.url_button("Site", "https://e/x"),
                   tk.phone_button("Call", "+32")),
        tk.quick_replies("Where?", tk.location("Send location", "d4")),
        tk.carousel(tk.card("Bike A", "€499", image_url="https://e/a.jpg", buttons=[tk.postback("Choose", "e5")])),
        tk.media("https://e/r.png"), tk.media("https://e/v.mp4", "video"),
    ])
    assert "Hello &lt;b&gt;" in html  # escaped
    for part in ("Basic", "↗ Site", "☎ Call", "📍 Send location", "<b>Bike A</b>", "€499",
                 'src="https://e/a.jpg"', 'src="https://e/r.png"', "<video controls"):
        assert part in html
    assert 'title="postback → b1"' in html


def test_unknown_type_and_user_bubble():
    assert "<code>webview</code>" in message_html({"type": "webview", "config": {}})
    assert "text-align:right" in user_html("hi") and ">hi<" in user_html("hi")


def test_list_renders_its_rows_images_buttons_and_the_button_below():
    html = message_html(tk.list_message(
        [tk.card("Bike <A>", "€499", image_url="https://e/a.jpg", buttons=[tk.postback("Choose", "e5")]),
         tk.card("Bike B")], button=tk.url_button("All bikes", "https://e/all")))
    for part in ("<b>Bike &lt;A&gt;</b>", "€499", 'src="https://e/a.jpg"', "Choose", "<b>Bike B</b>",
                 "↗ All bikes", "best-guess"):
        assert part in html
    assert html.index("Bike B") < html.index("All bikes")
    bare = message_html({"type": "list", "config": {"elements": ["junk", {"title": "Only"}]}})
    assert "<b>Only</b>" in bare and "junk" not in bare
