import pytest

import toolkit as tk
from toolkit.reply import normalize


def problems(wire):
    with pytest.raises(tk.ReplyError) as info:
        tk.validate(wire)
    return str(info.value)


def test_reply_to_wire_both_forms_by_default():
    wire = tk.Reply(session={"order": {"status": "shipped"}}, messages=["Hi"],
                    next_dialogstate="b1").to_wire()
    assert wire == {
        "session": {"namespace": "order", "data": {"status": "shipped"}},
        "messages": [tk.text("Hi")],
        "nextDialogstate": "b1",
        "action": {"nextDialogstate": "b1"},
    }


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
    assert "'order_status' returned a int" in msg and "toolkit.Reply" in msg and "None" in msg


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
    ({"messages": [tk.buttons("x", {"type": "email", "title": "Mail"})]}, "unknown button type 'email'"),
    ({"messages": [tk.buttons("x")]}, "config.buttons must be a non-empty list"),
    ({"messages": [tk.quick_replies("x", {"type": "postback", "title": "Yes"})]}, "postback 'Yes' has no target"),
    ({"messages": [tk.quick_replies("x", {"type": "sticker", "title": "S"})]}, "unknown quick reply type"),
    ({"messages": [tk.carousel({"subTitle": "no title"})]}, "a carousel card needs a title"),
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
    ({"status": "ok"}, "unknown key 'status'"),
    ([], "must be a JSON object"),
])
def test_validator_rejects_each_malformed_variant(wire, expected):
    assert expected in problems(wire)


def test_validator_reports_every_problem_at_once():
    msg = problems({"messages": [{"type": "gif", "config": {}}], "status": 1})
    assert "unknown key 'status'" in msg and "messages[0]: unknown message type" in msg


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
