"""LiveBot over loopback: the demo's scripted conversation (13 turns: text, buttons, quick replies, a
carousel, a location, API steps that write the session and redirect) runs unchanged against the
emulated flow and against the "live" bot -- the V1 emulator's webhook channel, reached through the V1
API, answering through the receiver route on the app's own server. Then parity, the verify token, the
deadline, and turn tracing."""

from __future__ import annotations

import time

import pytest
import requests
from livebots import TOKEN, VERIFY, emulated_api, live_bot

import toolkit as tk
from toolkit.chatlayer import live as live_module
from toolkit.chatlayer.live import LiveBot
from toolkit.demo import SCRIPT, build_flow
from toolkit.emulator import Conversation
from toolkit.errors import LiveBotTimeout


@pytest.fixture
def app(demo_app):
    return demo_app


@pytest.fixture
def api(app):
    yield from emulated_api(app)




def test_the_script_passes_against_the_flow_and_unchanged_against_the_live_bot(app, api):
    assert len(SCRIPT) >= 8
    emulated = Conversation(build_flow(), app).check(SCRIPT)
    live = Conversation(live_bot(app, api))
    report = live.check(SCRIPT)
    assert report.passed and len(report) == len(emulated) == len(SCRIPT)
    kinds = {e["message"]["type"] for e in live.transcript if e.get("sender") == "bot"}
    assert kinds == {"text", "buttons", "quickReplies", "carousel", "media"}
    assert {e["source"] for e in live.transcript if e.get("sender") == "bot"} == {"live"}
    assert repr(live).startswith("<Conversation with live bot 'web-1': ")
    assert "Order A-1042 is shipped" in live.text()


def test_a_chat_view_of_the_live_bot_shows_its_bubbles_and_freezes_when_the_server_stops(app, api):
    chat = Conversation(live_bot(app, api))
    view = tk.ChatView(chat)
    chat.say("Where is my order?")
    assert "order number" in view._bubbles.value  # renders like an emulated chat
    app.server.stop()
    (frozen,) = view.children
    assert "order number" in frozen.value and "Stopped with its server" in frozen.value


def test_parity_shows_no_difference_then_exactly_the_three_planted_ones(app, api):
    bot = live_bot(app, api)
    same = tk.parity(SCRIPT, Conversation(build_flow(), app), Conversation(bot))
    assert same and same.differences == [] and len(same.turns) == len(SCRIPT)
    assert same.check() is same and "no difference in 13 turns" in str(same)

    changed = build_flow()  # the "live" flow, changed in three places
    del changed.blocks["welcome"].messages[0]  # the greeting
    line = changed.blocks["ask_order"].prompt[0]["config"]["textMessages"][0]
    line["text"] = line["text"].replace("A-1042", "A-0001")
    changed.blocks["pick_category"].messages[0]["config"]["quickReplies"][2]["title"] = "Gear"
    api.channels["web-1"].flow = changed
    report = tk.parity(SCRIPT, Conversation(build_flow(), app), Conversation(bot))
    assert [(d.turn, d.kind) for d in report.differences] == [(1, "missing"), (2, "text"), (4, "button")]
    missing, text, button = report.differences
    assert "Welcome to BeanBox" in missing.emulated and missing.live == ""
    assert "A-0001" in text.live and "A-1042" in text.emulated
    assert "[Equipment]" in button.emulated and "[Gear]" in button.live
    with pytest.raises(AssertionError, match="3 differences in 13 turns"):
        report.check()
    text, html = str(report), report._repr_html_()
    assert text.count("  ✗ ") == 3 and html.count("#fee2e2") == 3 and "<table>" in html


def test_turn_tracing_links_each_api_step_exchange_to_its_turn(app, api):
    for conversation in (Conversation(build_flow(), app), Conversation(live_bot(app, api))):
        conversation.restart()
        conversation.say("Where is my order?")
        turn = conversation.say("A-1042")
        [call] = turn.calls
        assert (call["path"], call["status"]) == ("/order-status", 200)
        assert turn.id.startswith(conversation.session_id + "#")
        exchange = next(e for e in reversed(app.log.entries()) if e.path == "/order-status")
        assert exchange.turn == turn.id
        assert "↳ called /order-status → 200, " in conversation.text()
        quiet = conversation.say("Where is my order?")
        assert quiet.calls == []
        linked = {e.path for e in app.log if e.turn == quiet.id}  # live: only the answers' deliveries
        assert linked == ({"/chatlayer-webhook"} if conversation.live else set())


@pytest.mark.parametrize("token", [None, "", "wrong", VERIFY.upper(), VERIFY + " "],
                         ids=["missing", "empty", "wrong", "other-case", "trailing-space"])
def test_a_wrong_verify_token_is_refused(app, api, token):
    bot = live_bot(app, api)
    body = {"recipient": {"id": "u1"}, "message": {"text": "hi"}}
    if token is not None:
        body["verifyToken"] = token
    answer = requests.post(bot.webhook_url(), json=body, timeout=5)
    assert answer.status_code == 401 and "verifyToken" in answer.json()["error"]["message"]
    assert VERIFY not in answer.text and bot.received == [] and bot.refused == 1
    assert requests.post(app.server.url + "/_toolkit/health", timeout=5).status_code == 200
    assert app.log.last().path == "/chatlayer-webhook" and app.log.last().body.get("verifyToken") in ("***", None)
    assert app.log.to_frame().shape[0] == len(app.log)


def test_the_receiver_skips_the_apps_bearer_check_but_not_its_own(app, api):
    app.configure(auth_bearer="app-secret")  # e.g. set by server.expose()
    try:
        bot = live_bot(app, api)
        report = Conversation(bot).check(SCRIPT[:2])  # no API step: those would need the Bearer
        assert report.passed
        assert requests.post(app.server.url + "/order-status", json={}, timeout=5).status_code == 401
    finally:
        app.configure(auth_bearer="")


class SteppedClock:
    """``time`` for toolkit.chatlayer.live: every reading is STEP seconds after the one before."""

    STEP = 0.125  # exact in binary: readings add up without rounding

    def __init__(self) -> None:
        self.first, self.now = 1024.0 + self.STEP, 1024.0

    def monotonic(self) -> float:
        self.now += self.STEP
        assert self.now < 2048, "the turn never reached its deadline"
        return self.now


def test_a_bot_that_never_answers_fails_the_turn_at_its_deadline_with_a_clear_message(app, api, monkeypatch):
    bot = live_bot(app, api, deadline_s=0.5)
    api.channels["web-1"].webhook_url = None  # the bot answers nobody
    conversation = Conversation(bot, start=False)
    clock = SteppedClock()
    monkeypatch.setattr(live_module, "time", clock)  # the bot's clock: a busy machine cannot stretch it
    with pytest.raises(LiveBotTimeout) as info:
        conversation.say("hello")
    monkeypatch.undo()
    err = info.value
    assert 0.5 <= clock.now - clock.first <= 0.5 + 2 * clock.STEP  # it failed when the deadline came, not before
    assert err.arrived == [] and err.turn == "turn 1: say 'hello'"
    assert "did not complete turn 1: say 'hello' within 0.5 s (livebot_deadline_s): nothing arrived" in err.message
    assert "/chatlayer-webhook" in err.hint and "Verify token" in err.hint
    assert conversation.transcript[-1]["sender"] == "system"
    report = conversation.run([("hello", "Hi")], restart=False)
    assert not report and "could not say: The live bot did not complete" in str(report)


class ClockUntil:
    """``time`` for toolkit.chatlayer.live: stands still until ``ready()``, then is an hour later. A
    turn's deadline passes once what the test waits for has happened, never before, whatever the load
    (the bot polls every ``deadline_s`` of real time meanwhile)."""

    def __init__(self, ready) -> None:
        self.ready, self.now, self.guard = ready, 1024.0, time.monotonic() + 120

    def monotonic(self) -> float:
        if self.now == 1024.0 and self.ready():
            self.now += 3600
        assert time.monotonic() < self.guard, "what the test waits for never happened"
        return self.now


def test_a_wrong_token_in_the_channel_shows_in_the_timeout(app, api, monkeypatch):
    bot = live_bot(app, api, deadline_s=0.05)
    api.channels["web-1"].verify_token = "not-the-bots"
    monkeypatch.setattr(live_module, "time", ClockUntil(lambda: bot.refused >= 1))  # the delivery was refused
    with pytest.raises(LiveBotTimeout, match=r"call\(s\) to the receiver were refused for a wrong verify token"):
        Conversation(bot)


def test_the_display_says_what_to_paste(app, api):
    bot = live_bot(app, api)
    assert repr(bot) == "<LiveBot channel 'web-1': receiver /chatlayer-webhook, v1 endpoint>"
    guide = bot.guide()
    assert f"Webhook URL:  {app.server.url}/chatlayer-webhook" in guide and f"Verify token: {VERIFY}" in guide
    assert f"POST {api.url}/v1/channels/webhook/web-1/messages" in guide and "Not public yet" in guide
    bot.public_url = "https://abc.ngrok.app"
    assert "https://abc.ngrok.app/chatlayer-webhook" in bot._repr_html_() and "Not public" not in bot.guide()
    legacy = LiveBot(app, "web-1", TOKEN, bot_id="beanbox", endpoint="botium", region="us", path="/hook-2")
    assert legacy.endpoint == "legacy"  # 'botium' is its old name
    assert legacy.send_url() == "https://api.prod.us-east4.gcp.chatlayer.ai/api/webhookMessage/beanbox"
    with pytest.raises(tk.ConfigError, match="Use 'v1' .* or 'legacy'"):
        LiveBot(app, "web-1", TOKEN, endpoint="graphql")


def test_a_turn_still_arriving_at_its_deadline_fails_naming_what_did_arrive(app, api, monkeypatch):
    bot = live_bot(app, api, deadline_s=0.05)
    monkeypatch.setattr(live_module, "time", ClockUntil(lambda: len(bot.received) >= 2))  # both delivered
    bot.settled = lambda: False  # Chatlayer's side never says it is done: the turn cannot complete
    with pytest.raises(LiveBotTimeout) as info:
        Conversation(bot)
    err = info.value
    assert err.turn == "the opening" and len(err.arrived) == 2
    assert "2 message(s) arrived, still coming: Hi Test! Welcome to BeanBox" in err.message
    assert "What can I do for you? [Track an order]" in err.message


def test_a_scripted_run_uses_one_user_and_its_turn_ids_are_the_reports_turn_numbers(app, api):
    for conversation in (Conversation(build_flow(), app), Conversation(live_bot(app, api))):
        assert conversation.run(SCRIPT).passed
        number = next(i for i, turn in enumerate(SCRIPT, 1) if turn[0] == "A-1042")  # the API step's turn
        exchange = next(e for e in reversed(app.log.entries()) if e.path == "/order-status")
        assert exchange.turn == f"{conversation.session_id}#{number}"
        assert conversation.run(SCRIPT).passed  # a second run: a new user, same numbers
        again = next(e for e in reversed(app.log.entries()) if e.path == "/order-status")
        assert again.turn == exchange.turn and again.id > exchange.id
    channel = api.channels["web-1"]
    assert sorted(channel.conversations) == sorted({conversation.session_id, conversation.live_user_id})
    assert len(channel.conversations) == 2  # one user per run, not two


def test_add_conversation_takes_a_toolkit_session(api):
    session = tk.Session({"order": {"id": "A-1"}}, user={"firstName": "Ada"})
    conv = api.add_conversation("s-9", session)  # was a TypeError
    with api.client() as client:
        assert client.session_data("s-9") == {"order": {"id": "A-1"}}
    assert conv.user["firstName"] == "Ada"


def test_the_guide_says_whether_the_verify_token_is_chatlayers_or_a_generated_fallback(app, api):
    given = live_bot(app, api)
    assert f"Verify token: {VERIFY}  (Chatlayer's, as given" in given.guide() and not given.generated_token
    made = LiveBot(app, "web-1", TOKEN, path="/hook-3")
    assert made.generated_token and len(made.verify_token) >= 20
    assert "(generated here, the fallback" in made.guide() and "LiveBot(verify_token=...)" in made.guide()
    # the notebook display says the same beside the token
    assert "(Chatlayer&#x27;s, as given" in given._repr_html_() and "generated here, the fallback" in made._repr_html_()


def test_a_turn_while_the_app_is_not_served_fails_at_once_with_the_fix(app, api):
    """Not a wait of livebot_deadline_s for answers that cannot arrive: NotServing names the way out."""
    from toolkit.errors import NotServing

    bot = live_bot(app, api)
    app.server.stop()
    with pytest.raises(NotServing, match="server, which is not running") as raised:
        Conversation(bot)
    assert "server = app.serve(port=0)" in str(raised.value) and bot.refused == 0
