"""Parity that tells the truth, over the emulated webhook channel (LiveBot on loopback): a flow
compared with itself shows no difference for every message type, planted differences are found
exactly, ``ignore=`` masks volatile values, and a turn that times out keeps its calls."""

from __future__ import annotations

import re

import pytest

import toolkit as tk
from toolkit.chatlayer.live import LiveBot
from toolkit.demo import SCRIPT, build_flow
from toolkit.emulator import Conversation, Flow
from toolkit.v1emulator.api import V1Emulator

TOKEN = "parity-token"
VERIFY = "parity-verify"

EVERY_TYPE_SCRIPT = [  # 10 turns: text, quick replies, list, API step, carousel, media, buttons, location, input
    ("", "Welcome to the shop"),
    ("click: Show list", "Hoodie"),
    ("click: Buy", "Hoodie costs 39.00 EUR"),
    ({"click": "Pick", "card": "Cap", "expect": "Anything else?"}),
    ("click: Menu", "What would you like?"),
    ("location: 50.85, 4.35", "Brussels"),
    ("help", "I can show products"),
    ("where is my order", "Your order number?"),
    ("A-1042", "Order A-1042 is shipped"),
    ("click: Show cards", "Mug"),
]


def shop_app():
    app = tk.App("every-type")

    @app.handler("/price")
    def price(sku: str, next: str) -> tk.Reply:
        return tk.Reply(session={"item": {"price": "39.00"}}, messages=[f"{sku.title()} costs {{item.price}} EUR."],
                        next_dialogstate=next)

    @app.handler("/order")
    def order(id: str, cards: str) -> tk.Reply:
        return tk.Reply(messages=[tk.text(f"Order {id} is shipped."),
                                  tk.quick_replies("More?", tk.postback("Show cards", cards))])

    return app


def every_type_flow(name="every-type"):
    f = Flow(name)
    f.message("welcome", tk.text("Welcome to the shop.", "Prices change daily."),
              tk.quick_replies("What would you like?", tk.postback("Show list", "list"),
                               tk.postback("Show cards", "cards"), tk.location("Nearest store", "store")))
    f.message("list", tk.list_message(
        tk.card("T-Shirt", "Cotton", image_url="https://x.test/t.png", buttons=[tk.url_button("View", "https://x.test/t")]),
        tk.card("Hoodie", "Warm", buttons=[tk.postback("Buy", "price", {"item.sku": "hoodie"})]),
        button=tk.postback("Back", "welcome"), size="large"))
    f.api("price", tk.ApiStep("POST", "/price", body=[("sku", "variable", "item.sku"), ("next", "dialogstate", "cards")]))
    f.message("cards", tk.carousel(
        tk.card("Mug", "9 EUR", image_url="https://x.test/mug.png", url="https://x.test/mug",
                buttons=[tk.postback("Pick", "picked", {"item.sku": "mug"})]),
        tk.card("Cap", "15 EUR", image_url="https://x.test/cap.png", url="https://x.test/cap",
                buttons=[tk.postback("Pick", "picked", {"item.sku": "cap"})])))
    f.message("picked", tk.media("https://x.test/{item.sku}.png"), tk.media("https://x.test/manual.pdf", "attachment"),
              tk.buttons("Anything else?", tk.postback("Menu", "welcome"), tk.url_button("Shop", "https://x.test"),
                         tk.phone_button("Call", "+3220000000")))
    f.message("store", tk.text("Nearest store: Brussels."))
    f.message("help", tk.text("I can show products.", "Ask about an order too."))
    f.input("ask_order", "Your order number?", "order.id", next="order")
    f.api("order", tk.ApiStep("POST", "/order", body=[("id", "variable", "order.id"), ("cards", "dialogstate", "cards")]))
    f.intent("help", go="help", keywords=["help"])
    f.intent("order", go="ask_order", keywords=["order"])
    return f


@pytest.fixture
def shop():
    app = shop_app()
    server = app.serve(port=0)
    yield app
    server.stop()


def channel_and_bot(app, flow, **options):
    api = V1Emulator("shop", token=TOKEN).start()
    channel = api.webhook_channel("web-1", flow, app.server, verify_token=VERIFY)
    options.setdefault("quiet_s", 0.02)
    options.setdefault("deadline_s", 30)
    bot = LiveBot(app, "web-1", TOKEN, verify_token=VERIFY, base_url=api.url, settled=channel.idle, **options)
    channel.webhook_url = bot.webhook_url()
    return api, bot


def test_ten_turns_of_every_message_type_pass_both_ways_with_no_parity_difference(shop):
    api, bot = channel_and_bot(shop, every_type_flow())
    try:
        emulated = Conversation(every_type_flow(), shop)
        assert emulated.check(EVERY_TYPE_SCRIPT).passed
        live = Conversation(bot)
        assert live.check(EVERY_TYPE_SCRIPT).passed
        kinds = {e["message"]["type"] for e in live.transcript if e.get("sender") == "bot"}
        assert kinds == {"text", "quickReplies", "list", "carousel", "media", "buttons"}
        report = tk.parity(EVERY_TYPE_SCRIPT, Conversation(every_type_flow(), shop), Conversation(bot))
        assert report.differences == [] and len(report.turns) == 10, str(report)
        shown = str(report)
        assert "called /price → 200" in shown and "called /order → 200" in shown
        assert api.channels["web-1"].errors == [] and bot.skipped == 0
    finally:
        api.stop()


def test_the_demo_script_shows_no_difference_live_over_the_emulated_channel(demo_app):
    api, bot = channel_and_bot(demo_app, build_flow())
    try:
        report = tk.parity(SCRIPT, Conversation(build_flow(), demo_app), Conversation(bot))
        assert report and report.differences == [], str(report)
    finally:
        api.stop()


def test_an_ignore_pattern_removes_a_planted_id_difference_and_shows_it_masked(shop):
    def with_store_id(store_id):
        flow = every_type_flow()
        flow.blocks["store"].messages[0]["config"]["textMessages"][0]["text"] = f"Nearest store: Brussels (#{store_id})."
        return flow

    api, bot = channel_and_bot(shop, with_store_id("B-0042"))
    try:
        def emulated():
            return Conversation(with_store_id("B-0001"), shop)

        seen = tk.parity(EVERY_TYPE_SCRIPT, emulated(), Conversation(bot))
        assert [(d.turn, d.kind) for d in seen.differences] == [(6, "text")]  # the store's id only
        masked = tk.parity(EVERY_TYPE_SCRIPT, emulated(), Conversation(bot), ignore=r"B-\d{4}")
        assert masked.differences == [] and str(masked).count("Nearest store: Brussels (#‹masked›).") == 2  # both sides
        assert "‹masked›" in masked._repr_html_()
        by_callable = tk.parity(EVERY_TYPE_SCRIPT, emulated(), Conversation(bot),
                                ignore=[re.compile("Welcome"), lambda text: re.sub(r"#\S+\)", "#id)", text)])
        assert by_callable.differences == [] and "‹masked› to the shop" in str(by_callable)
        with pytest.raises(ValueError, match="not a regular expression"):
            tk.parity(EVERY_TYPE_SCRIPT, emulated(), Conversation(bot), ignore="(")
    finally:
        api.stop()


def test_three_planted_differences_are_found_exactly(shop):
    changed = every_type_flow()
    changed.blocks["picked"].messages.pop(1)  # a message missing (the manual)
    changed.blocks["help"].messages[0]["config"]["textMessages"][0]["text"] = "I can show products!"  # a text
    changed.blocks["list"].messages[0]["config"]["elements"][0]["subTitle"] = "Linen"  # a list row
    api, bot = channel_and_bot(shop, changed)
    try:
        report = tk.parity(EVERY_TYPE_SCRIPT, Conversation(every_type_flow(), shop), Conversation(bot))
        assert [(d.turn, d.kind) for d in report.differences] == [(2, "card"), (4, "missing"), (7, "text")], str(report)
        row, missing, text = report.differences
        assert "manual.pdf" in missing.emulated and missing.live == "" and "T-Shirt (Linen)" in row.live
        assert text.live == "bot: I can show products!"
    finally:
        api.stop()


def test_a_live_turn_that_times_out_keeps_its_calls(shop):
    flow = every_type_flow()
    api, bot = channel_and_bot(shop, flow, deadline_s=6)  # ample for a turn that completes, even loaded
    channel = api.channels["web-1"]
    bot.settled = lambda: channel.idle() and channel.received[-1]["message"] != {"textMessage": {"text": "A-1042"}}
    try:
        script = [("", "Welcome"), ("where is my order", "order number"), ("A-1042", "shipped")]
        report = tk.parity(script, Conversation(every_type_flow(), shop), Conversation(bot))
        third = report.turns[2]
        assert "calls" not in {d.kind for d in report.differences}, str(report)
        assert any(ln.live == "↳ called /order → 200" for ln in third.lines), str(report)
    finally:
        api.stop()
