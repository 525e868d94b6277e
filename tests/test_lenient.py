"""Replies real backends send outside the contract (contract 8.12, tests/real_bodies.py), over HTTP:
the app answers them (200, never its own 500) with a warning on the log entry naming the fix, and the
emulator applies them the most likely way with the warning in its error log. ``strict_replies=True``
refuses them."""

from __future__ import annotations

import json

import pytest
import real_bodies as real
import requests

import toolkit as tk
from toolkit.emulator import Conversation, Flow

CASES = {  # name: (reply, what the emulator applies, words of the warning or None)
    "empty-action": (real.REPLY_EMPTY_ACTION, {"messages": [], "session": {}, "next": "after"}, None),
    "null-session": (real.REPLY_NULL_SESSION, {"messages": ["Hi"], "session": {}, "next": "after"}, None),
    "session-without-namespace": (real.REPLY_SESSION_NO_NAMESPACE,
                                  {"messages": [], "session": {"status": "shipped"}, "next": "after"},
                                  "session has no namespace"),
    "null-text": (real.REPLY_NULL_TEXT, {"messages": [], "session": {}, "next": "after"}, '"text": null'),
    "call-button": (real.REPLY_CALL_BUTTON, {"messages": ["Need help? [Call us ☎]"], "session": {}, "next": "after"},
                    "type 'call'"),
    "block-name-redirect": (real.REPLY_BLOCK_NAME, {"messages": [], "session": {}, "next": "Order found"},
                            "block name 'Order found'"),
}


def backend(reply):
    app = tk.App("real-backend")
    app.add_handler("/step", lambda: json.loads(json.dumps(reply)))
    return app


def flow():
    f = Flow("lenient")
    f.api("call", tk.ApiStep("POST", "/step"), next="after")
    f.message("after", "after")
    f.message("Order found", "found", id="7b1e0c9a-5d7e-4c3e-9a55-1d2a3b4c5d6e")
    return f


@pytest.mark.parametrize("name", list(CASES))
def test_a_real_backends_reply_is_answered_applied_and_flagged(name):
    reply, applied, words = CASES[name]
    app = backend(reply)
    server = app.serve(port=0)
    try:
        conv = Conversation(flow(), server)  # over HTTP to the served app
        entry = app.log.last()
        assert entry.status == 200  # never the app's own 500
        [result] = conv.results
        assert result.ok and result.status == 200
        shown = [tk.emulator.message_text(e["message"]) for e in conv.transcript
                 if e.get("sender") == "bot" and e.get("block") == "call"]
        assert shown == applied["messages"]
        assert {k: v for k, v in conv.session.data.items()} == applied["session"]
        last = conv.transcript[-1]
        assert (last["block"], tk.emulator.message_text(last["message"])) == (
            applied["next"], "found" if applied["next"] == "Order found" else "after")
        warnings = [e.message for e in conv.errors if e.kind == "warning"]
        assert [e for e in conv.errors if e.kind != "warning"] == []
        if words is None:
            assert warnings == [] and entry.warnings == []
        else:
            assert len(warnings) == 1 and words in warnings[0]
            assert "strict_replies" in warnings[0] or "dialogstate" in warnings[0]  # names the fix
            if name != "block-name-redirect":  # the app cannot know a name from an id; the emulator can
                assert len(entry.warnings) == 1 and words in entry.warnings[0]
    finally:
        server.stop()


def test_an_empty_200_body_is_nothing_to_apply():
    foreign = tk.App("empty")

    @foreign.flask.route("/empty", methods=["POST"])  # a user's own Flask route: a real empty 200
    def empty():
        return ""

    server = foreign.serve(port=0)
    try:
        step = tk.ApiStep("POST", server.url + "/empty")
        session = tk.Session({"order": {"id": "A-1"}})
        result = step.call(session)
        assert result.ok and result.status == 200 and result.messages == [] and result.next_dialogstate is None
        assert session.data == {"order": {"id": "A-1"}}
        strict = step.call(tk.Session(), settings=tk.Settings(strict_replies=True))
        assert strict.error.kind == "empty" and "strict_replies=False" in strict.error.message
    finally:
        server.stop()


@pytest.mark.parametrize("name", ["null-session", "session-without-namespace", "null-text", "call-button"])
def test_strict_replies_refuses_them(name):
    reply, _, _ = CASES[name]
    app = backend(reply)
    app.configure(strict_replies=True)
    server = app.serve(port=0)
    try:
        answer = requests.post(server.url + "/step", json={}, timeout=10)
        assert answer.status_code == 500 and "invalid reply" in answer.json()["error"]["message"]
    finally:
        server.stop()
    result = tk.ApiStep("POST", "/step").call(tk.Session(), backend(reply), settings=tk.Settings(strict_replies=True))
    assert not result.ok


def test_a_block_name_redirect_is_refused_when_strict():
    app = backend(real.REPLY_BLOCK_NAME)
    conv = Conversation(flow(), app, settings=tk.Settings(strict_replies=True))
    assert [e.kind for e in conv.errors] == ["unknown_block"] and "block name" in conv.errors[0].message


def test_reading_a_reply_leniently_never_edits_the_handlers_own_objects():
    """tolerate() runs on every reply: it rebuilds what it changes instead of editing in place (or
    copying the whole reply), so a handler's module-level reply stays as written."""
    import copy

    from toolkit.wire.lenient import tolerate

    reply = {"session": {"data": {"a": 1}}, "action": {},
             "messages": [{"type": "text", "config": {"textMessages": [{"text": None}, {"text": "x"}]}},
                          {"type": "buttons", "config": {"textMessages": [{"text": "t"}],
                                                         "buttons": [{"type": "call", "title": "c", "payload": "1"}]}}]}
    before = copy.deepcopy(reply)
    out, warnings = tolerate(reply)
    assert reply == before and len(warnings) == 3
    assert out["messages"][1]["config"]["buttons"] == [{"type": "phone_number", "title": "c", "payload": "1"}]
