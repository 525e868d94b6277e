"""Conversation coverage: which blocks, API-step outcomes, error paths, go-to branches, buttons and
intents of a flow the conversations exercised, as a table and a percentage for pytest."""

from __future__ import annotations

from pathlib import Path

import pytest

import toolkit as tk
from toolkit.emulator import Coverage, Step


@pytest.fixture
def shop() -> tk.App:
    app = tk.App("cov-shop")

    @app.handler("/order-status")
    def order_status(order_id: str, found: str, missing: str):
        if order_id != "A-1":
            return tk.Reply(messages=[f"No order {order_id}."], next_dialogstate=missing)
        return tk.Reply(messages=["Shipped."], next_dialogstate=found)

    @app.handler("/store")
    def store(lat: float, lon: float):
        if lat > 80:
            raise RuntimeError("no stores near the pole")
        return "Nearest: Brussels."

    return app


def make_flow() -> tk.Flow:
    flow = tk.Flow("shop", fallback="sorry")
    flow.message("welcome", tk.quick_replies(
        "What now?", tk.postback("Track", "ask_order"), tk.postback("Gold", "route", {"member.level": "gold"}),
        tk.location("Find a store", "nearest")))
    flow.input("ask_order", "Which order?", "order.id", next="lookup")
    flow.api("lookup", tk.ApiStep("POST", "/order-status", body=[
        ("order_id", "variable", "order.id"), ("found", "dialogstate", "shipped"),
        ("missing", "dialogstate", "ask_order")]), on_error="oops")
    flow.message("shipped", "Thanks!")
    flow.goto("route", [("member.level == gold", "gold")], default="welcome")
    flow.message("gold", "Gold member!")
    flow.api("nearest", tk.ApiStep("POST", "/store", body=[("lat", "variable", "location.lat"),
                                                          ("lon", "variable", "location.lon")]), next="welcome",
             on_error="oops")
    flow.message("oops", "Something went wrong.")
    flow.message("sorry", "Sorry?")
    flow.intent("track", keywords=["order"], go="ask_order")
    return flow


ITEMS = [
    ("block", "welcome", "", ""), ("button", "welcome", "Track", "ask_order"),
    ("button", "welcome", "Gold", "route"), ("button", "welcome", "Find a store", "nearest"),
    ("block", "ask_order", "", ""), ("block", "lookup", "", ""),
    ("api step", "lookup", "answered", "shipped"), ("api step", "lookup", "answered", "ask_order"),
    ("api step", "lookup", "answered", "(waits)"), ("error path", "lookup", "fails", "oops"), ("block", "shipped", "", ""), ("block", "route", "", ""),
    ("go-to branch", "route", "member.level == gold", "gold"), ("go-to branch", "route", "default", "welcome"),
    ("block", "gold", "", ""), ("block", "nearest", "", ""), ("api step", "nearest", "answered", "welcome"),
    ("error path", "nearest", "fails", "oops"), ("block", "oops", "", ""), ("block", "sorry", "", ""),
    ("intent", "track", "", "ask_order"), ("intent", "(fallback)", "not understood", "sorry"),
]


def test_the_items_of_a_flow():
    coverage = Coverage(make_flow())
    assert [(i.kind, i.block, i.branch, i.target) for i in coverage.items] == ITEMS
    assert coverage.percent == 0 and len(coverage.missing) == len(ITEMS)
    assert repr(coverage) == ("<Coverage of flow 'shop': 0 of 22 items (0.0%): blocks 0/9, api steps 0/4, "
                              "error paths 0/2, go-to branches 0/2, buttons 0/3, intents 0/2>")


def test_a_conversation_covers_what_it_took(shop):
    chat = tk.Conversation(make_flow(), backend=shop)
    chat.click("Track")
    chat.say("A-2")  # not found: the API step redirects back to ask_order
    chat.say("A-1")  # found: on to shipped
    coverage = Coverage(chat.flow).add(chat)
    frame = coverage.to_frame()
    assert list(frame.columns) == ["kind", "block", "branch", "target", "hits", "covered"]
    covered = frame[frame.covered]
    assert [tuple(r) for r in covered[["kind", "block", "branch", "target", "hits"]].itertuples(index=False)] == [
        ("block", "welcome", "", "", 1), ("button", "welcome", "Track", "ask_order", 1),
        ("block", "ask_order", "", "", 2), ("block", "lookup", "", "", 2),
        ("api step", "lookup", "answered", "shipped", 1), ("api step", "lookup", "answered", "ask_order", 1),
        ("block", "shipped", "", "", 1)]
    assert coverage.percent == pytest.approx(100 * 7 / 22)
    assert "error path 'lookup' 'fails' -> oops" in coverage.missing
    assert "go-to branch 'route' 'default' -> welcome" in coverage.missing
    with pytest.raises(AssertionError, match=r"below 80%. Not exercised:\n  button 'welcome' 'Gold' -> route"):
        coverage.check(80)


def test_every_kind_of_branch_can_be_covered(shop):
    chat = tk.Conversation(make_flow(), backend=shop)
    coverage = Coverage(chat.flow)
    script = [("", "What now?"), ("click: Track", "Which order?"), ("A-2", "No order A-2"), ("A-1", "Shipped."),
              ("hello?", "Sorry?"), ("my order", "Which order?")]
    assert chat.run(script)
    coverage.add(chat)
    assert chat.run([("", "What now?"), ("click: Gold", "Gold member!")])  # the go-to's rule
    chat.restart()
    coverage.add(chat)
    chat.run([("", "What now?"), ("location: 50.85, 4.35", "Nearest: Brussels.")], restart=False)
    chat.run([("location: 89.9, 4.35", "Something went wrong.")], restart=False)  # the error path
    chat.run([("click: Track", "Which order?"), ("A-1", "Shipped.")], restart=False)
    coverage.add(chat)
    missing = ["api step 'lookup' 'answered' -> (waits)", "error path 'lookup' 'fails' -> oops",
               "go-to branch 'route' 'default' -> welcome"]
    assert coverage.missing == missing
    assert coverage.percent == pytest.approx(100 * 19 / 22)
    assert coverage.check(85) is coverage


def test_adding_a_conversation_again_counts_only_its_new_steps(shop):
    chat = tk.Conversation(make_flow(), backend=shop)
    coverage = Coverage(chat.flow)
    coverage.add(chat).add(chat)
    assert coverage.hits[("block", "welcome", "")] == 1
    chat.restart()  # the path is kept across restarts; only the new steps count
    coverage.add(chat)
    assert coverage.hits[("block", "welcome", "")] == 2
    assert [s for s in chat.path if s.kind == "block"] == [Step("block", "welcome"), Step("block", "welcome")]


def test_several_conversations_and_plain_step_lists_add_up(shop):
    flow = make_flow()
    one, two = tk.Conversation(flow, backend=shop), tk.Conversation(flow, backend=shop)
    one.click("Track")
    two.click("Gold")
    coverage = Coverage(flow).add(one, two, [Step("intent", "track"), ("goto", "route", "default")])
    assert coverage.hits[("button", "welcome", "Track")] == 1 and coverage.hits[("goto", "route", "1")] == 1
    assert coverage.hits[("goto", "route", "default")] == 1 and coverage.hits[("intent", "track", "")] == 1


def test_a_conversation_known_only_by_its_transcript_counts_its_blocks_and_buttons(shop):
    """A live bot has no engine path: its messages are matched to the flow's blocks (templates filled
    with anything), and the buttons the user clicked are counted for the block that offered them."""
    chat = tk.Conversation(make_flow(), backend=shop)
    chat.click("Track")
    chat.say("A-2")
    chat.restart()
    chat.share_location(50.85, 4.35)

    class LiveTranscript:  # what a live conversation has: messages, without their blocks
        transcript = [{**e, "block": None} if e.get("sender") == "bot" else e for e in chat.transcript]

    coverage = Coverage(chat.flow).add(LiveTranscript())
    # the opening, the location request, then back to welcome after the API step's own message
    assert {k: n for k, n in coverage.hits.items() if n} == {
        ("block", "welcome", ""): 2, ("button", "welcome", "Find a store"): 1}
    chat.restart()
    chat.click("Track")
    chat.say("A-2")

    class Earlier:
        transcript = [{**e, "block": None} if e.get("sender") == "bot" else e for e in chat.transcript]

    coverage.add(Earlier())
    assert coverage.hits[("block", "ask_order", "")] == 2  # "Which order?" asked twice (A-2 not found)
    assert coverage.hits[("button", "welcome", "Track")] == 1 and coverage.hits[("block", "welcome", "")] == 3


def test_a_conversation_whose_engine_ran_no_block_is_read_from_its_transcript(shop):
    chat = tk.Conversation(make_flow(), backend=shop)
    chat.click("Track")
    chat.path.clear()  # as for a live bot: the flow ran on the platform, not in the engine
    coverage = Coverage(chat.flow).add(chat)
    assert coverage.hits[("block", "welcome", "")] == 1 and coverage.hits[("block", "ask_order", "")] == 1


@pytest.mark.parametrize("bad", ["a string", 42, {"kind": "block"}])
def test_add_refuses_what_it_cannot_read(bad):
    with pytest.raises(TypeError, match="Coverage.add takes conversations"):
        Coverage(make_flow()).add(bad)


def test_an_empty_flow_is_fully_covered_and_html_shows_the_table(shop):
    assert Coverage(tk.Flow("empty")).percent == 100.0
    chat = tk.Conversation(make_flow(), backend=shop)
    html = Coverage(chat.flow).add(chat)._repr_html_()
    assert "Coverage of flow &#x27;shop&#x27;: 1 of 22" in html and html.count("<tr>") == 23


def test_the_demo_flow_and_script(tmp_path):
    """The demo bot's scripted conversation, from a CSV, measured."""
    from toolkit.demo import build_app, build_flow

    flow = build_flow()
    leads = tmp_path / "leads.csv"
    leads.write_bytes((Path(__file__).resolve().parents[1] / "data" / "leads.csv").read_bytes())
    app = build_app(leads=leads)
    chat = tk.Conversation(flow, backend=app)
    script = tmp_path / "script.csv"
    script.write_text("user,expect\n,Welcome\nWhere is my order?,order number\nA-1042,A-1042\n")
    assert chat.run(script)
    coverage = Coverage(flow).add(chat)
    assert coverage.hits[("intent", "track_order", "")] == 1
    assert coverage.hits[("block", "lookup_order", "")] == 1
    assert 0 < coverage.percent < 50


# --- a live conversation (the V1 emulator's webhook channel on loopback, as in test_live.py) ----------



def test_the_demo_script_live_covers_the_blocks_and_buttons_the_emulated_run_shows(demo_app):
    from toolkit.chatlayer.live import LiveBot
    from toolkit.demo import SCRIPT, build_flow
    from toolkit.v1emulator.api import V1Emulator

    api = V1Emulator("beanbox", token="live-token").start()
    try:
        channel = api.webhook_channel("web-1", build_flow(), demo_app.server, verify_token="verify-0123456789")
        bot = LiveBot(demo_app, "web-1", "live-token", verify_token="verify-0123456789", base_url=api.url,
                      settled=channel.idle, deadline_s=30, quiet_s=0.02)
        channel.webhook_url = bot.webhook_url()
        flow = build_flow()
        emulated = tk.Conversation(flow, demo_app)
        emulated.check(SCRIPT)
        live = tk.Conversation(bot)
        live.check(SCRIPT)
    finally:
        api.stop()
    seen = Coverage(flow).add(emulated)
    read = Coverage(flow).add(live)  # from the transcript: messages matched to blocks, clicks to buttons
    messaging = {b.name for b in flow.blocks.values() if isinstance(b, (tk.emulator.MessageBlock,
                                                                         tk.emulator.InputBlock))}

    def covered(coverage, kinds):
        return {i.key for i in coverage.items if coverage.covered(i) and i.key[0] in kinds}

    assert {k for k in covered(seen, {"block"}) if k[1] in messaging} == covered(read, {"block"})
    assert covered(read, {"button"}) == covered(seen, {"button"}) != set()
    assert 0 < read.percent < seen.percent
