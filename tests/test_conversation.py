"""Conversations: a whole flow against a backend (say, click, share_location, transcript, session,
the error log and the error path), scripted conversation tests that pass and that fail with a
readable report, and messages pushed in from other threads."""

from __future__ import annotations

import threading

import pytest

import toolkit as tk
from toolkit.errors import ConversationError


@pytest.fixture
def shop() -> tk.App:
    app = tk.App("shop")
    orders = {"A-1042": "shipped", "A-1043": "processing"}

    @app.handler("/order-status")
    def order_status(order_id: str, found: str, missing: str):
        if order_id not in orders:
            return tk.Reply(messages=[f"No order {order_id}."], next_dialogstate=missing)
        return tk.Reply(session={"order": {"status": orders[order_id]}},
                        messages=["Order {order.id} is {order.status}."], next_dialogstate=found)

    @app.handler("/store")
    def store(lat: float, lon: float):
        return tk.Reply(session={"store": {"name": "Brussels" if lat > 50 else "Lille"}},
                        messages=[tk.text("Nearest: {store.name}."), tk.media("https://example.com/map.png")])

    @app.handler("/boom")
    def boom():
        raise RuntimeError("database down")

    return app


def make_flow() -> tk.Flow:
    flow = tk.Flow("shop", fallback="sorry")
    flow.message("welcome", "Hi {internal.user.firstName}!", tk.quick_replies(
        "What now?", tk.postback("Track", "ask_order"), tk.location("Find a store", "nearest"),
        tk.postback("Gold", "route", {"member.level": "gold"})))
    flow.input("ask_order", "Which order?", "order.id", next="lookup")
    flow.api("lookup", tk.ApiStep("POST", "/order-status", body=[
        ("order_id", "variable", "order.id"), ("found", "dialogstate", "shipped"),
        ("missing", "dialogstate", "ask_order")]), on_error="oops")
    flow.message("shipped", tk.buttons("Track it:", tk.url_button("Carrier", "https://example.com/t")), id="ds-77")
    flow.api("nearest", tk.ApiStep("POST", "/store", body=[("lat", "variable", "location.lat"),
                                                          ("lon", "variable", "location.lon")]), next="welcome")
    flow.goto("route", [("member.level == gold", "gold"), ("member.level exists", "silver")], default="welcome")
    flow.message("gold", "Gold member!")
    flow.message("silver", "Member.")
    flow.set("count", {"visits": "{visits|increment}"}, next="counted")
    flow.message("counted", "Visit {visits}.")
    flow.input("ask_age", "Your age?", "age", validate="number", next="count")
    flow.api("broken", tk.ApiStep("POST", "/boom"), on_error="oops")
    flow.message("oops", "Something went wrong, sorry.")
    flow.message("sorry", "Sorry, I did not get that.")
    flow.intent("track", keywords=["order", "track"], go="ask_order")
    flow.intent("count", keywords=["count"], go="count")
    flow.intent("age", keywords=["age"], go="ask_age")
    flow.intent("broken", keywords=["break"], go="broken")
    return flow


@pytest.fixture
def chat(shop) -> tk.Conversation:
    return tk.Conversation(make_flow(), backend=shop, user={"firstName": "Ada"})


def test_the_opening_and_intents(chat):
    assert [e.get("sender") for e in chat.transcript] == ["bot", "bot"]
    assert chat.transcript[0]["message"] == tk.text("Hi Ada!")
    assert chat.session.internal.messageType == "intro"
    turn = chat.say("Where is my order?")
    assert turn.text == "Which order?" and chat.current == "ask_order" and chat.waiting is not None
    internal = chat.session.internal
    assert internal.nlp["intent"] == {"name": "track", "score": 1.0}
    assert (internal.messageContent, internal.messageType) == ("Where is my order?", "text")
    assert internal.currentDialogstate == {"name": "ask_order", "id": "ask_order", "type": "INPUT_VALIDATION"}
    assert internal.previousDialogstate["name"] == "welcome"
    assert chat.say("A-1").text.splitlines() == ["No order A-1.", "Which order?"]  # captured, not matched


def test_input_then_api_step_then_redirect_by_id(chat, shop):
    chat.say("track")
    turn = chat.say("A-1042")
    assert turn.text.splitlines() == ["Order A-1042 is shipped.", "Track it: [Carrier ↗]"]
    assert chat.current == "shipped" and chat.session.get("order") == {"id": "A-1042", "status": "shipped"}
    assert chat.results[-1].request.body == {"order_id": "A-1042", "found": "ds-77", "missing": "ask_order"}
    assert shop.log.last().source == "emulator"
    again = chat.say("order").text  # not found: the backend sends the user back to ask_order
    assert again == "Which order?"
    assert chat.say("A-9").text.splitlines() == ["No order A-9.", "Which order?"]


def test_input_validation_asks_again(chat):
    chat.say("my age")
    assert "not a number" in chat.say("old").text
    assert chat.say("42").text == "Visit 1."
    assert chat.session.get("age") == 42


def test_postback_params_go_to_and_set_blocks(chat):
    turn = chat.click("Gold")
    assert turn.user == {"sender": "user", "type": "postback", "text": "Gold"}
    assert turn.text == "Gold member!" and chat.session.get("member.level") == "gold"
    assert chat.session.internal.messageType == "postback"
    chat.session.set("member.level", "bronze")
    chat.session._move_to({"name": "x", "id": "x", "type": "MESSAGE"})
    assert chat.click("Gold", card=None).text == "Gold member!"  # the params write gold again
    assert chat.say("count").text == "Visit 1." and chat.say("count please").text == "Visit 2."
    assert chat.session.get("visits") == 2  # {visits|increment} kept the number type


def test_share_location_goes_to_the_location_quick_reply(chat):
    turn = chat.share_location(50.85, 4.35)
    assert turn.user["type"] == "location"
    assert chat.session.get("location") == {"lat": 50.85, "lon": 4.35}
    assert turn.text.splitlines()[:2] == ["Nearest: Brussels.", "image: https://example.com/map.png"]
    assert chat.current == "welcome"  # the API block's next
    with pytest.raises(ConversationError, match="not on Earth"):
        chat.share_location(4.35, 250)


def test_a_location_without_a_location_quick_reply_is_kept_and_noted(shop):
    flow = tk.Flow("f")
    flow.message("start", "Hello")
    chat = tk.Conversation(flow, backend=shop, settings=tk.Settings(emulator_location_variable="where"))
    assert chat.share_location(1, 2).messages == []
    assert chat.session.get("where") == {"lat": 1.0, "lon": 2.0} and "no location quick reply" in chat.notices[-1]


def test_clicks_that_cannot_happen_say_what_can(chat):
    with pytest.raises(ConversationError, match="No button or quick reply titled 'Nope'") as caught:
        chat.click("Nope")
    assert "'Track', 'Find a store', 'Gold'" in caught.value.hint
    with pytest.raises(ConversationError, match="share_location"):
        chat.click("Find a store")
    chat.say("track")
    chat.say("A-1042")
    link = chat.click("carrier")  # any case
    assert link.user == {"sender": "user", "type": "link", "text": "Carrier", "url": "https://example.com/t"}
    assert link.messages == [] and chat.current == "shipped"


def test_same_titled_card_buttons_need_a_card(shop):
    flow = tk.Flow("cards")
    flow.message("start", tk.carousel(tk.card("A", buttons=[tk.postback("Choose", "a")]),
                                      tk.card("B", buttons=[tk.postback("Choose", "b")])))
    flow.message("a", "You chose A")
    flow.message("b", "You chose B")
    chat = tk.Conversation(flow, backend=shop)
    with pytest.raises(ConversationError, match="2 buttons are titled 'Choose'") as caught:
        chat.click("Choose")
    assert "card='A'" in caught.value.hint
    assert chat.click("Choose", card="B").text == "You chose B"


def test_a_failing_api_step_is_logged_and_takes_the_error_path(chat):
    turn = chat.say("break it")
    assert turn.text == "Something went wrong, sorry." and chat.current == "oops"
    # the answer names the exception's type; its text stays in app.log (expose_errors=True sends it)
    assert turn.errors == ["API step 'broken' failed: POST /boom answered 500: Handler 'boom' raised "
                           "RuntimeError (its message is in app.log; expose_errors=True sends it)."]
    (error,) = chat.errors
    assert (error.kind, error.status, error.block) == ("status", 500, "broken")
    assert error.to_dict()["request"]["url"] == "/boom"


def test_without_an_error_path_the_user_sees_nothing(shop):
    flow = tk.Flow("f")
    flow.message("start", "Hi")
    flow.api("broken", tk.ApiStep("POST", "/boom"), next="start")
    flow.intent("b", keywords=["break"], go="broken")
    chat = tk.Conversation(flow, backend=shop)
    turn = chat.say("break")
    assert turn.messages == [] and len(chat.errors) == 1 and chat.current == "broken"
    flow.on_error = "start"  # the flow-wide error block
    assert chat.say("break").text == "Hi"


def test_a_redirect_to_an_unknown_block_is_an_error_entry():
    app = tk.App("r")
    app.add_handler("/go", lambda: tk.Reply(messages=["Moving on"], next_dialogstate="nowhere"))
    flow = tk.Flow("f")
    flow.api("start", tk.ApiStep("POST", "/go"))
    chat = tk.Conversation(flow, backend=app)
    assert chat.transcript[0]["message"] == tk.text("Moving on")  # messages first, then the jump
    assert chat.errors[0].kind == "unknown_block" and "'nowhere', which is no block" in chat.errors[0].message


def test_fallback_loop_guard_and_missing_variable_notices(shop):
    chat = tk.Conversation(make_flow(), backend=shop)
    assert chat.say("qwerty").text == "Sorry, I did not get that."
    plain = tk.Flow("plain")
    plain.message("start", "Hi {nobody}!")
    plain.goto("loop", [("x missing", "loop")])
    plain.intent("l", keywords=["loop"], go="loop")
    chat = tk.Conversation(plain, backend=shop)
    assert chat.transcript[0]["message"] == tk.text("Hi !")
    assert "{nobody} was not set (in 'start')" in chat.notices[0]
    assert "Could you put it differently" in chat.say("hello").text
    assert "a loop?" in chat.say("loop").errors[0]


def test_over_real_http(shop):
    with shop.serve(port=0) as server:
        chat = tk.Conversation(make_flow(), backend=server.url)
        chat.say("track")
        assert chat.say("A-1043").text.splitlines()[0] == "Order A-1043 is processing."
        assert chat.results[-1].request.url == server.url + "/order-status"
    assert shop.log.last().source == "http"


def test_restart_and_reprs(chat):
    chat.click("Gold")
    chat.restart()
    assert chat.session.get("member") is None and len(chat.transcript) == 2
    assert repr(chat) == "<Conversation with flow 'shop': 2 entries, at 'welcome'>"
    assert repr(chat.say("track")) == "you: track\nbot: Which order?"
    assert "Which order?" in chat.say("order")._repr_html_()
    assert chat.text().splitlines()[0] == "bot: Hi Ada!"
    assert 'style="' in chat._repr_html_()


# --- scripted conversation tests ---------------------------------------------------------------

SCRIPT = [
    ("", "Hi Ada!"),
    ("where is my order", "Which order?"),
    ("A-1042", ["Order A-1042 is shipped", "re:Carrier ↗"]),
    ("click: Carrier", "not:Sorry"),
    {"location": [50.85, 4.35], "expect": "Nearest: Brussels"},
    {"click": "Gold", "expect": "Gold member!"},
]


def test_a_scripted_conversation_that_passes(chat):
    report = chat.run(SCRIPT)
    assert report.passed and bool(report) and len(report) == 6
    assert str(report).splitlines()[0] == "Conversation test of flow 'shop': all 6 turns passed."
    assert chat.check(SCRIPT) and "✓" in report._repr_html_()


def test_a_scripted_conversation_that_fails_reads_well(chat):
    script = [("where is my order", "Which order?"), ("A-1042", "delivered"), ("click: Nope", "x"),
              ("hello", "not:did not get")]
    with pytest.raises(AssertionError) as caught:
        chat.check(script)
    assert str(caught.value) == "\n".join([
        "Conversation test of flow 'shop' FAILED: 3 of 4 turns failed.",
        "  ok    1  say 'where is my order'",
        "  FAIL  2  say 'A-1042'",
        "          expected 'delivered'",
        "          bot said: bot: Order A-1042 is shipped.",
        "                    bot [buttons]: Track it: [Carrier ↗]",
        "  FAIL  3  click 'Nope'",
        "          could not click: No button or quick reply titled 'Nope'. Offered so far: 'Carrier', 'Track', "
        "'Find a store', 'Gold'.",
        "          expected 'x'",
        "          bot said: (nothing)",
        "  FAIL  4  say 'hello'",
        "          expected 'not:did not get'",
        "          bot said: bot: Sorry, I did not get that.",
    ])


def test_a_script_from_csv(chat, tmp_path):
    path = tmp_path / "script.csv"
    path.write_text("user,expect,action\n,Hi Ada!,\ntrack,Which order?,\nA-1042,\"shipped\nCarrier\",\n"
                    "Gold,Gold member!,click\n\"50.85, 4.35\",Brussels,location\n", encoding="utf-8")
    report = chat.run(path)
    assert report.passed, str(report)
    assert [c.turn.action for c in report.checks] == ["start", "say", "say", "click", "location"]
    (tmp_path / "bad.csv").write_text("said,expect\nhi,x\n")
    with pytest.raises(tk.ToolkitError, match="no 'user' column"):
        chat.run(tmp_path / "bad.csv")
    with pytest.raises(tk.ToolkitError, match="Only the first turn"):
        chat.run([("hi", "x"), ("", "y")])


# --- pushed messages ----------------------------------------------------------------------------


def test_receive_is_thread_safe_and_notifies(chat):
    seen = []
    unsubscribe = chat.subscribe(lambda: seen.append(1))
    threads = [threading.Thread(target=chat.receive, args=([tk.text(f"push {i} for {{internal.user.firstName}}")],))
               for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    pushed = [e for e in chat.transcript if e.get("source") == "push"]
    assert len(pushed) == 20 and len(seen) == 20
    assert {e["message"]["config"]["textMessages"][0]["text"] for e in pushed} == {f"push {i} for Ada" for i in range(20)}
    unsubscribe()
    chat.receive([tk.text("late")])
    assert len(seen) == 20


def test_pushes_through_the_v1_emulator_arrive_in_the_transcript(chat):
    with tk.V1Emulator("bot-1", token="t0ken") as api:
        assert api.attach(chat) is None  # nothing to print in a cell; pushes to its session id arrive
        with api.client() as client:
            client.push(chat.session_id, tk.text("Your payment went through."))
        assert api.wait(5)
    assert chat.transcript[-1]["message"] == tk.text("Your payment went through.")
    assert chat.transcript[-1]["source"] == "push"


def test_settings_follow_the_backend_app_and_a_pasted_real_url_works(shop):
    flow = tk.Flow("s")
    flow.message("start", "Hi {nobody}")
    flow.api("call", tk.ApiStep("POST", "https://bot.example.com/order-status?x=1", body=[
        ("order_id", "text", "A-1042"), ("found", "dialogstate", "start"), ("missing", "dialogstate", "start")]))
    flow.intent("c", keywords=["call"], go="call")
    chat = tk.Conversation(flow, backend=shop)
    assert chat.settings is shop.settings
    shop.configure(missing_variable="keep")
    turn = chat.say("call")  # in-process: the path of the pasted URL goes to the App
    assert turn.text.splitlines() == ["Order {order.id} is shipped.", "Hi {nobody}"]  # keep, now
    assert shop.log.last().query == {"x": "1"}
    own = tk.Settings(missing_variable="empty")
    assert tk.Conversation(flow, backend=shop, session=tk.Session(settings=own)).settings is own
