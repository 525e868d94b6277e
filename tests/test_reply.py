import numpy as np
import pytest
import requests

import toolkit as tk
from toolkit.errors import ReplyError
from toolkit.reply import normalize


def raw(kind, *items):
    """A message built by hand, as a hand-written backend would (the builders refuse bad items)."""
    key = "buttons" if kind == "buttons" else "quickReplies"
    return {"type": kind, "config": {"textMessages": [{"text": "x"}], key: list(items)}}


def problems(wire):
    with pytest.raises(tk.ReplyError) as info:
        tk.validate(wire)
    return str(info.value)


def test_reply_to_wire_sends_the_redirect_as_action_by_default():
    wire = tk.Reply(session={"order": {"status": "shipped"}}, messages=["Hi"],
                    next_dialogstate="b1").to_wire()
    assert wire == {
        "session": {"namespace": "order", "data": {"status": "shipped"}},
        "messages": [tk.text("Hi")],
        "action": {"nextDialogstate": "b1"},
    }
    assert tk.App("d").settings.redirect_form == "action"


@pytest.mark.parametrize("handler_reply", [
    tk.Reply(next_dialogstate="b1"),
    {"nextDialogstate": "b1"},  # the prose form on input: still accepted, sent as action
    {"action": {"nextDialogstate": "b1"}},
    {"nextDialogstate": "b1", "action": {"nextDialogstate": "b1"}},
])
def test_default_app_sends_only_action_next_dialogstate_over_http(handler_reply):
    app = tk.App("default")
    app.add_handler("/go", lambda: handler_reply)
    with app.serve(port=0) as server:
        answer = requests.post(server.url + "/go", json={}, timeout=10)
    assert answer.status_code == 200 and answer.json() == {"action": {"nextDialogstate": "b1"}}
    assert app.log.last().flags == [] and len(app.log.to_frame()) == 1


@pytest.mark.parametrize("form,expected", [
    ("action", {"action": {"nextDialogstate": "b1"}}),
    ("top", {"nextDialogstate": "b1"}),
    ("both", {"nextDialogstate": "b1", "action": {"nextDialogstate": "b1"}}),
])
def test_redirect_form_setting(form, expected):
    app = tk.App("r", redirect_form=form)
    app.add_handler("/go", lambda: tk.Reply(next_dialogstate="b1"))
    assert app.call("/go") == expected
    app.add_handler("/dict", lambda: {"action": {"nextDialogstate": "b1"}})
    assert app.call("/dict") == expected


def test_normalize_accepted_forms():
    assert normalize(None, handler="h") == {}
    assert normalize("Hi", handler="h") == {"messages": [tk.text("Hi")]}
    assert normalize(tk.media("u"), handler="h") == {"messages": [tk.media("u")]}
    assert normalize(["a", tk.text("b")], handler="h") == {"messages": [tk.text("a"), tk.text("b")]}


def test_normalize_rejects_other_types_naming_handler_and_forms():
    with pytest.raises(tk.ReplyError) as info:
        normalize(42, handler="order_status")
    msg = str(info.value)
    assert "'order_status' returned an int" in msg and "toolkit.Reply" in msg and "None" in msg


def test_session_short_form_with_two_namespaces_is_rejected():
    with pytest.raises(tk.ReplyError, match="2 namespaces"):
        tk.Reply(session={"a": 1, "b": 2}).to_wire()


@pytest.mark.parametrize("wire,expected", [
    ({"messages": [{"type": "gif", "config": {}}]}, "unknown message type 'gif'"),
    ({"messages": [{"type": "text"}]}, "text message is missing its config"),
    ({"messages": [{"type": "text", "config": {"textMessages": []}}]}, "textMessages must be a non-empty"),
    ({"messages": [{"type": "text", "config": {"textMessages": [{"txt": "x"}]}}]}, "needs a text string"),
    ({"messages": [tk.buttons("x", {"type": "postback", "title": "Go", "payload": {}})]},
     "postback 'Go' has no target"),
    ({"messages": [tk.buttons("x", {"type": "web_url", "title": "Site"})]}, "web_url button 'Site' needs a url"),
    ({"messages": [tk.buttons("x", {"type": "phone_number", "title": "Call"})]}, "needs the number"),
    ({"messages": [raw("buttons", {"type": "email", "title": "Mail"})]}, "unknown button type 'email'"),
    ({"messages": [tk.buttons("x")]}, "config.buttons must be a non-empty list"),
    ({"messages": [tk.quick_replies("x", {"type": "postback", "title": "Yes"})]}, "postback 'Yes' has no target"),
    ({"messages": [raw("quickReplies", {"type": "sticker", "title": "S"})]}, "unknown quick reply type"),
    ({"messages": [{"type": "carousel", "config": {"elements": [{"subTitle": "no title"}]}}]},
     "a carousel card needs a title"),
    ({"messages": [{"type": "media", "config": {"media": {"type": "image"}}}]}, "needs config.media with a url"),
    ({"messages": [{"type": "media", "config": {"media": {"type": "gif", "url": "u"}}}]}, "media type 'gif'"),
    ({"messages": "hello"}, "messages must be a list"),
    ({"session": [{"namespace": "a", "data": {}}, {"namespace": "b", "data": {}}]}, "2 namespaces"),
    ({"session": {"namespace": "a", "data": {}, "other": {}}}, "extra keys other"),
    ({"session": {"namespace": "a"}}, "session is missing data"),
    ({"session": {"namespace": "internal", "data": {}}}, "'internal' is read-only"),
    ({"session": {"namespace": "", "data": {}}}, "non-empty string"),
    ({"nextDialogstate": 5}, "nextDialogstate must be a block id string"),
    ({"action": "b1"}, "action must be an object"),
    ({"nextDialogstate": "a", "action": {"nextDialogstate": "b"}}, "differ"),
    ({"type": "text", "messages": []}, "key 'type' at the top of the reply: a message goes inside"),
    ([], "must be a JSON object"),
])
def test_validator_rejects_each_malformed_variant(wire, expected):
    assert expected in problems(wire)


def test_validator_reports_every_problem_at_once():
    msg = problems({"messages": [{"type": "gif", "config": {}}], "config": 1, "session": 2})
    assert "key 'config' at the top" in msg and "messages[0]: unknown message type" in msg
    assert "session must be an object" in msg


def test_reply_over_size_limit_says_what_to_change():
    app = tk.App("big", max_reply_bytes=1000)
    app.add_handler("/big", lambda: "x" * 2000)
    with pytest.raises(tk.ReplyError) as info:
        app.call("/big")
    assert "over the max_reply_bytes limit of 1,000" in str(info.value)
    assert "fewer" in str(info.value)
    assert app.test_client().post("/big").status_code == 500


@pytest.mark.parametrize("wire", [
    # shapes published by real backends (contract §2): nested redirect, top-level alias, all types
    {"session": {"namespace": "order", "data": {"status": "shipped"}},
     "messages": [{"type": "text", "config": {"textMessages": [{"text": "Your order {order.status}."}]}}],
     "action": {"nextDialogstate": "7b1e0c9a-5d7e-4c3e-9a55-1d2a3b4c5d6e"}},
    {"nextDialogstate": "3050"},
    {"session": {"namespace": "radio", "data": [{"id": 1}, {"id": 2}]}},
    {"messages": [tk.media("https://e/x.mp3", "audio")]},
    {},
])
def test_validator_accepts_real_backend_shapes(wire):
    assert tk.validate(wire) == wire


def test_validate_bounds_the_size_with_the_same_message():
    with pytest.raises(tk.ReplyError, match="The reply is [0-9,]+ bytes, over the max_reply_bytes limit of 100"):
        tk.validate({"messages": [tk.text("x" * 200)]}, max_bytes=100)


# --- issue 15 point 3: what Chatlayer cannot use is dropped, said, never a 500 -------------------------


@pytest.mark.parametrize("reply,sent,said", [
    ({"success": True, "messages": [{"type": "text", "config": {"textMessages": [{"text": "Done"}]}}]},
     {"messages": [{"type": "text", "config": {"textMessages": [{"text": "Done"}]}}]},
     ["'success' (a boolean)"]),
    ({"status": "ok", "code": 200}, {}, ["'status' (a string)", "'code' (a number)"]),
    ({"sessions": {"namespace": "order", "data": {}}}, {}, ["'sessions' (an object)", "Did you mean 'session'?"]),
    ({"token": "s3cr3t-v4lue", "action": {"nextDialogstate": "b1"}}, {"action": {"nextDialogstate": "b1"}},
     ["'token' (a string)"]),
    (tk.Reply(messages=["Hi"], next_dialogstate=""), {"messages": [tk.text("Hi")]},
     ["empty redirect (action.nextDialogstate '')"]),
    ({"nextDialogstate": "", "messages": [tk.text("x")]}, {"messages": [tk.text("x")]}, ["empty redirect"]),
    ({"action": {"nextDialogstate": "  "}}, {}, ["empty redirect (action.nextDialogstate '  ')"]),
    ({"nextDialogstate": "", "extra": [1]}, {}, ["'extra' (an array)", "empty redirect"]),
    ({"action": {"nextDialogstate": "\u00a0\u2003"}}, {}, ["empty redirect"]),  # blank in Unicode too
])
def test_unknown_keys_and_empty_redirects_are_dropped_flagged_and_explained(reply, sent, said):
    app = tk.App("lenient")
    app.add_handler("/h", lambda: reply)
    with app.serve(port=0) as server:
        answer = requests.post(server.url + "/h", json={}, timeout=10)
        assert answer.status_code == 200 and answer.json() == sent
        entry = app.log.last()
        assert "dropped" in entry.flags and entry.error is None
        text = " ".join(entry.warnings)
        assert all(part in text for part in said), text
        assert "s3cr3t" not in text and "sent without" in text
        assert requests.get(server.url + "/_toolkit/health", timeout=10).status_code == 200
    frame = app.log.to_frame()
    assert frame["warnings"].iloc[-1] == entry.warnings
    from toolkit.widgets.logtable import summary_html
    assert "sent without" in summary_html(entry) and "dropped" in summary_html(entry)


@pytest.mark.parametrize("reply", [tk.Reply(messages=["Hi"]), tk.Reply(next_dialogstate=None),
                                   {"nextDialogstate": None}, {"action": {"nextDialogstate": None}}, None])
def test_none_is_no_redirect_without_a_warning(reply):
    app = tk.App("none")
    app.add_handler("/h", lambda: reply)
    wire = app.call("/h")
    assert "nextDialogstate" not in wire and "nextDialogstate" not in (wire.get("action") or {})
    assert app.log.last().flags == [] and app.log.last().warnings == []


def test_a_reply_that_contains_itself_is_a_clear_error_and_the_app_keeps_answering():
    app = tk.App("loop")

    @app.handler("/loop")
    def loop():
        data: dict = {"id": 1, "price": np.float64(2.5)}  # not plain JSON: the converting path too
        data["self"] = data
        return tk.Reply(session={"order": data}, messages=["Hi"])

    app.add_handler("/fine", lambda: "ok")
    with pytest.raises(ReplyError, match="contains itself") as caught:
        app.call("/loop")
    assert caught.value.handler == "loop" and "dict(row)" in caught.value.hint
    assert app.call("/loop", raise_errors=False)["error"]["type"] == "invalid_reply"
    assert app.call("/fine") == {"messages": [tk.text("ok")]}


def test_tidy_never_changes_the_handlers_dict_and_validate_reports_through_a_list():
    original = {"success": True, "action": {"nextDialogstate": "", "other": 1}}
    warnings: list[str] = []
    assert tk.validate(original, warnings=warnings) == {"action": {"other": 1}}
    assert original == {"success": True, "action": {"nextDialogstate": "", "other": 1}}
    assert len(warnings) == 2
    assert tk.validate({"success": True}) == {}  # no list given: dropped quietly


# --- issue 15 point 2: list messages (best guess) and media isCache ------------------------------------


def test_list_message_is_accepted_and_noted_once_as_unconfirmed(caplog):
    app = tk.App("lists")
    items = [tk.card("Bike A", "€499", buttons=[tk.postback("Choose", "b1")]), tk.card("Bike B")]
    app.add_handler("/l", lambda: tk.list_message(items, button=tk.url_button("All", "https://e/all")))
    with caplog.at_level("INFO", logger="toolkit"):
        first, second = app.call("/l"), app.call("/l")
    assert first == second == {"messages": [{"type": "list", "config": {
        "elements": items, "button": {"type": "web_url", "title": "All", "url": "https://e/all"}}}]}
    unconfirmed = [n for n in app.notices if "never published" in n]
    assert len(unconfirmed) == 1 and "listTemplate" in unconfirmed[0]
    assert sum("never published" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize("config,expected", [
    ({}, "config.elements must be a non-empty list"),
    ({"elements": []}, "config.elements must be a non-empty list"),
    ({"elements": [{"subTitle": "x"}]}, "elements[0]: a carousel card needs a title"),
    ({"elements": [{"title": "A"}], "button": {"type": "web_url", "title": "All"}}, "list button: web_url"),
    ({"elements": [{"title": "A"}], "button": "All"}, "list button: a button must be an object"),
    ({"elements": [{"title": "A"}], "size": "huge"}, "list size 'huge'"),
    ({"elements": [{"title": "A", "buttons": [{"type": "fax", "title": "F"}]}]}, "unknown button type 'fax'"),
])
def test_list_config_is_checked_structurally(config, expected):
    assert expected in problems({"messages": [{"type": "list", "config": config}]})


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_media_is_cache_must_be_a_boolean(value):
    wire = {"messages": [{"type": "media", "config": {"media": {"type": "image", "url": "u", "isCache": value}}}]}
    assert "isCache must be true or false" in problems(wire)
    ok = {"messages": [tk.media("u", cache=True)]}
    assert tk.validate(ok) == ok


# --- the reply shapes real backends send (contract §2.1 update; sources S24, S25, S26, S33) ------------

REAL_BACKENDS = {
    "radio-connector-array-data": {"session": {"namespace": "broadcasts", "data": [
        {"id": 1, "title": "Morning show"}, {"id": 2, "title": "Drive time"}]},
        "action": {"nextDialogstate": "0f6c2b1e-ok"}},
    "radio-connector-no-redirect": {"action": {}},
    "radio-connector-not-found": {"action": {"nextDialogstate": "c02d55e1-notfound"}},
    "csharp-plugin-service": {"session": {"namespace": "namespace", "data": {"variable": "testVa"}},
                              "messages": [{"type": "text", "config": {"textMessages": [{"text": "Sales"}]}}],
                              "action": {"nextDialogstate": "d6868da1-3908-4cd5-a9ef-3d57510fc811"}},
    "node-demo-redirect-by-id": {"action": {"nextDialogstate": "7b1e0c9a-5d7e"},
                                 "session": {"namespace": "order", "data": {"price": "41.37"}}},
    "node-demo-early-block-name": {"action": {"nextDialogstate": "order found"}},
    "nextjs-text-only": {"session": {"namespace": "order", "data": {"status": "shipped"}},
                         "messages": [{"type": "text", "config": {"textMessages": [{"text": "It is {order.status}"}]}}]},
}


@pytest.mark.parametrize("name", list(REAL_BACKENDS))
def test_real_backend_replies_pass_unchanged_through_a_served_app(name):
    wire = REAL_BACKENDS[name]
    assert tk.validate(wire) == wire
    app = tk.App("real")
    app.add_handler("/real", lambda: wire)
    with app.serve(port=0) as server:
        answer = requests.post(server.url + "/real", json={}, timeout=10)
    assert answer.status_code == 200 and answer.json() == wire
    assert app.log.last().warnings == []
