"""What the user sees in the detail pane: the reply's messages rendered with the session the same reply
wrote (as the emulator renders them), and the placeholders it leaves unset marked."""

from __future__ import annotations

import pytest
from helpers import icons_as_text

import toolkit as tk
from toolkit.emulator.apistep import apply
from toolkit.widgets.seen import as_seen, mark_unset, seen_html, session_written

REPLY = tk.Reply(
    session={"order": {"id": "A-1", "status": "shipped", "items": [{"name": "tea"}], "count": 2}},
    messages=[tk.text("Order {order.id} is {order.status|toUpperCase}, ETA {order.eta}."),
              tk.quick_replies("First item: {order.items[0].name}, {order.count|increment} in all",
                               tk.postback("Track {order.id}", "track", {"ref": "{order.ref}"})),
              tk.carousel(tk.card("Hi {internal.user.firstName}", "{ order.status }", image_url="{order.img}"))],
    next_dialogstate="done")


def _call(reply: tk.Reply) -> dict:
    app = tk.App("seen")
    app.add_handler("/r", lambda: reply)
    return app.call("/r")


def test_messages_render_with_the_session_the_reply_wrote_as_the_emulator_does():
    wire = _call(REPLY)
    seen = as_seen(wire)
    texts = [m["config"]["textMessages"][0]["text"] for m in seen.messages[:2]]
    assert texts[0] == "Order A-1 is SHIPPED, ETA \ue000{order.eta}\ue001."
    assert texts[1] == "First item: tea, 3 in all"
    assert seen.messages[1]["config"]["quickReplies"][0]["title"] == "Track A-1"
    assert seen.unset == ("order.eta", "order.ref", "internal.user.firstName", "order.img")
    session = tk.Session()
    emulated, _target = apply(wire, session)  # what the emulator shows, for the placeholders that are set
    assert emulated[0]["config"]["textMessages"][0]["text"] == "Order A-1 is SHIPPED, ETA ."
    assert emulated[1]["config"]["textMessages"][0]["text"] == texts[1]


def test_unset_placeholders_are_marked_in_text_and_plain_in_attributes():
    html = icons_as_text(seen_html(_call(REPLY)))
    assert "Order A-1 is SHIPPED, ETA <mark class=\"tk-unset\"" in html and ">{order.eta}</mark>." in html
    assert "Hi <mark" in html and ">{internal.user.firstName}</mark>" in html
    assert 'src="{order.img}"' in html  # inside an attribute: no mark, no broken tag
    assert "\ue000" not in html and "\ue001" not in html
    assert "⚠ Not set by this reply: <code>{order.eta}</code>, <code>{order.ref}</code>" in html
    assert "{order.id}" not in html and "{order.status" not in html


@pytest.mark.parametrize("session, expected", [
    (None, {}), ("not an object", {}), ({"namespace": "internal", "data": {"x": 1}}, {}),
    ({"namespace": 3, "data": {}}, {}), ({"namespace": "cart", "data": [1, 2]}, {"cart": [1, 2]}),
])
def test_odd_session_writes_never_break_the_pane(session, expected):
    response = {"session": session, "messages": [tk.text("{cart[1]} {x|noSuchModifier} {}")]}
    assert session_written(response) == expected
    seen = as_seen(response)
    text = seen.messages[0]["config"]["textMessages"][0]["text"]
    assert text.endswith(" {x|noSuchModifier} {}")  # an unknown modifier and an empty brace stay as written
    assert ("2" if expected.get("cart") else "\ue000{cart[1]}\ue001") == text.split(" ")[0]


def test_the_detail_pane_shows_it(app):
    app.add_handler("/r", lambda: REPLY)
    app.call("/r")
    view = tk.LogView(app)
    try:
        view.select(app.log.last())
        html = view.detail.value
        assert "Order A-1 is SHIPPED, ETA <mark" in html and "Track A-1" in html
        assert '"Order {order.id} is {order.status|toUpperCase}' in html.replace("&quot;", '"')  # raw JSON kept
    finally:
        view.close()


def test_text_without_marks_is_unchanged():
    assert mark_unset('<span title="a">b</span>') == '<span title="a">b</span>'
