"""ChatView, driven as objects: bubbles, real buttons for what the bot offers, carousels with images,
the text box, the location button, pushed messages, errors, sitting beside the log view, closing."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

import toolkit as tk


@pytest.fixture
def app() -> tk.App:
    app = tk.App("cafe")

    @app.handler("/menu")
    def menu(kind: str, chosen: str):
        return tk.Reply(messages=[tk.text("Our {kind}s:"), tk.carousel(
            tk.card("Latte", "3.20 EUR", image_url="https://example.com/latte.jpg",
                    buttons=[tk.postback("Choose", chosen, {"pick": "latte"})]),
            tk.card("Mocha", "3.60 EUR", image_url="https://example.com/mocha.jpg",
                    buttons=[tk.postback("Choose", chosen, {"pick": "mocha"})]))])

    return app


@pytest.fixture
def conversation(app) -> tk.Conversation:
    flow = tk.Flow("cafe")
    flow.message("welcome", tk.quick_replies("Hi! What would you like?", tk.postback("Coffee", "menu", {"kind": "coffee"}),
                                             tk.location("Nearest café", "near")))
    flow.api("menu", tk.ApiStep("POST", "/menu", body=[("kind", "variable", "kind"), ("chosen", "dialogstate", "picked")]))
    flow.message("picked", tk.buttons("One {pick}, coming up.", tk.url_button("Pay online", "https://example.com/pay")))
    flow.message("near", "You are at {location.lat}, {location.lon}.")
    flow.message("echo", "You said: {internal.messageContent}")
    flow.fallback = "echo"
    return tk.Conversation(flow, backend=app)


@pytest.fixture
def view(conversation):
    v = tk.ChatView(conversation)
    yield v
    v.close()


def test_importing_the_emulator_never_imports_ipywidgets():
    code = ("import sys, toolkit, toolkit.emulator, toolkit.demo; assert 'ipywidgets' not in sys.modules; "
            "toolkit.ChatView; assert 'ipywidgets' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_repr_is_short_and_deterministic(view):
    assert repr(view) == "ChatView(flow='cafe')"
    assert view._repr_mimebundle_()["text/plain"] == "ChatView(flow='cafe')"


def test_bubbles_and_a_button_per_quick_reply(view):
    assert "Hi! What would you like?" in view._bubbles.value
    assert "flex-direction:column-reverse" in view._bubbles.value  # stays scrolled to the newest
    assert [b.description for b in view.buttons] == ["Coffee", "📍 Nearest café"]


def test_clicking_buttons_drives_the_conversation_and_shows_carousel_images(view, conversation):
    view.buttons[0].click()
    assert conversation.session.get("kind") == "coffee"
    html = view._bubbles.value
    assert '<img src="https://example.com/latte.jpg"' in html and "Our coffees:" in html
    assert [b.description for b in view.buttons] == ["Latte › Choose", "Mocha › Choose"]
    view.buttons[1].click()
    assert conversation.session.get("pick") == "mocha" and "One mocha, coming up." in view._bubbles.value
    assert [b.description for b in view.buttons] == ["Pay online ↗"]
    view.buttons[0].click()  # a link: recorded, nothing else happens
    assert conversation.transcript[-1] == {"sender": "user", "type": "link", "text": "Pay online",
                                           "url": "https://example.com/pay"}


def test_the_location_button_shares_the_view_location(conversation):
    view = tk.ChatView(conversation, location=(51.05, 3.72))
    view.buttons[1].click()
    assert "You are at 51.05, 3.72." in view._bubbles.value
    view.close()


def test_the_text_box_and_the_send_button(view):
    view._text.value = "hello there"  # what pressing Enter sends (continuous_update is off)
    assert view._text.value == ""
    assert "You said: hello there" in view._bubbles.value
    view._text.value = "   "
    view._send_button.click()
    assert view.conversation.transcript[-1]["message"] == tk.text("You said: hello there")
    assert view.send("again").text == "You said: again"


def test_errors_show_in_the_view_not_as_tracebacks(view):
    assert view.press("Nope") is None
    assert "No button or quick reply titled" in view._status.value
    view.press("Coffee")
    assert view._status.value == ""


def test_pushed_messages_from_another_thread_appear(view, conversation):
    before = view.redraws
    pusher = threading.Thread(target=conversation.receive, args=([tk.media("https://example.com/receipt.png")],))
    pusher.start()
    pusher.join(5)
    assert view.redraws == before + 1 and "https://example.com/receipt.png" in view._bubbles.value


def test_it_sits_beside_the_log_view(view, app):
    import ipywidgets as w

    log = app.log_view()
    try:
        row = w.HBox([view, log])
        view.press("Coffee")
        assert row.children == (view, log) and app.log.last().path == "/menu"
    finally:
        log.close()


def test_close_unsubscribes_and_a_new_view_replaces_the_old(conversation):
    first = tk.ChatView(conversation)
    second = tk.ChatView(conversation)  # a re-run cell
    assert first._closed and not second._closed
    redraws = first.redraws
    conversation.say("hi")
    assert first.redraws == redraws and second.redraws > 1
    second.close()
    second.close()  # twice is fine: the frozen picture stays
    assert conversation._listeners == [] and second.comm is not None and len(second.children) == 1
    with pytest.raises(TypeError, match="needs a toolkit.Conversation"):
        tk.ChatView("not a conversation")


def test_a_closed_chat_keeps_its_bubbles_on_the_page(conversation):
    view = tk.ChatView(conversation)
    conversation.say("hi")
    bubbles = view._bubbles.value
    replacement = tk.ChatView(conversation)
    (frozen,) = view.children
    assert bubbles in frozen.value and "Replaced by a newer view" in frozen.value and view.comm is not None
    replacement.close()
    assert "Stopped" in replacement.children[0].value and conversation._listeners == []


def test_stopping_the_server_the_chat_talks_to_freezes_it(app, conversation):
    served = app.serve(port=0)
    chat = tk.Conversation(conversation.flow, backend=served)
    view = tk.ChatView(chat)
    chat.click("Coffee")
    bubbles = view._bubbles.value
    assert "Our coffees:" in bubbles
    served.stop()
    (frozen,) = view.children
    assert bubbles in frozen.value and view._closed and chat._listeners == []
    assert "Stopped with its server: this chat no longer follows the conversation" in frozen.value
    view.close()  # a notebook's clean-up cell closing it afterwards
    assert view.children == (frozen,) and view.comm is not None


def test_a_chat_with_the_app_in_process_outlives_its_server(app, conversation):
    view = tk.ChatView(conversation)  # backend=app: no server in between
    try:
        app.serve(port=0).stop()
        assert not view._closed and conversation.say("hi").text == "You said: hi"
    finally:
        view.close(keep=False)
