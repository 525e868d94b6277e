"""Replay a logged request against the current handler, and the structured diff of the answers."""

from __future__ import annotations

import json

import pytest
import requests
from helpers import define_shop
from hostile import send, serving, still_fine

import toolkit as tk
from toolkit.log import Exchange, Sandbox, current_sandbox, outbound
from toolkit.server.engine import HTTPServer
from toolkit.testing.fixtures import check_folder, save_fixtures
from toolkit.testing.replay import (
    MISSING,
    Change,
    diff,
    replay,
    replay_all,
    short,
    side_by_side_html,
)
from toolkit.testing.rerun import recheck
from toolkit.v1emulator.api import V1Emulator

# --- diff --------------------------------------------------------------------------------------


def test_same_answers_have_no_diff():
    body = {"messages": [tk.text("hi")], "nextDialogstate": "b"}
    d = diff(body, dict(body), old_status=200, new_status=200)
    assert not d and d.parts == [] and str(d) == "no differences"


def test_session_change_is_named_by_its_path():
    old = {"session": {"namespace": "order", "data": {"status": "shipped", "eta": "Mon"}}}
    new = {"session": {"namespace": "order", "data": {"status": "late", "carrier": "bpost"}}}
    d = diff(old, new)
    assert d.parts == ["session"]
    assert [str(c) for c in d.changes] == [
        "session.data.status: 'shipped' -> 'late'",
        "session.data.eta: 'Mon' -> (none)",
        "session.data.carrier: (none) -> 'bpost'",
    ]
    assert [c.kind for c in d.changes] == ["changed", "removed", "added"]


def test_messages_changed_added_and_retyped():
    old = {"messages": [tk.text("a"), tk.text("b")]}
    new = {"messages": [tk.text("A"), tk.buttons("b", tk.postback("Go", "x")), tk.text("c")]}
    d = diff(old, new)
    paths = [c.path for c in d.changes]
    assert paths == ["messages[0].textMessages[0].text", "messages[1]", "messages[2]"]
    assert d.changes[1].old["type"] == "text" and d.changes[1].new["type"] == "buttons"
    assert d.changes[2].kind == "added"


def test_redirect_is_compared_by_target_whatever_the_form():
    both = {"nextDialogstate": "b1", "action": {"nextDialogstate": "b1"}}
    assert not diff(both, {"action": {"nextDialogstate": "b1"}})
    assert not diff(both, {"nextDialogstate": "b1"})
    d = diff(both, {"nextDialogstate": "b2", "action": {"nextDialogstate": "b2"}})
    assert d.parts == ["redirect"] and str(d) == "redirect: 'b1' -> 'b2'"
    assert str(diff({}, {"nextDialogstate": "b2"})) == "redirect: (none) -> 'b2'"


def test_status_error_and_other_members():
    ok = {"messages": [tk.text("hi")]}
    err = {"error": {"status": 500, "type": "handler_error", "message": "boom"}}
    d = diff(ok, err, old_status=200, new_status=500)
    assert d.parts == ["status", "messages", "error"]
    assert d.changes[0] == Change("status", "status", 200, 500)
    d = diff({"action": {"x": 1}}, {"action": {"x": 2}})
    assert d.parts == ["body"] and str(d) == "action.x: 1 -> 2"


def test_bodies_that_are_not_objects_compare_whole():
    d = diff("not json", {"a": 1})
    assert d.parts == ["body"] and d.changes[0].old == "not json"


def test_short_values_stay_on_one_line():
    assert short(MISSING) == "(none)"
    assert short("x" * 200).endswith("…") and len(short("x" * 200)) == 70
    assert short({"a": [1, 2]}) == '{"a": [1, 2]}'


# --- replay ------------------------------------------------------------------------------------


def test_replay_of_an_unchanged_handler_is_unchanged(app):
    app.call("/greet", {"name": "Ada"})
    result = replay(app, app.log.last())
    assert not result.changed
    assert repr(result) == "<Replayed POST /greet: unchanged>"
    assert result.new.source == "replay" and app.log.last() is result.new


def test_replay_after_editing_the_handler_shows_what_changed():
    app = tk.App("shop")
    define_shop(app)
    app.call("/orders", {"order_id": "A-1"})
    logged = app.log.last()
    define_shop(app, status="late", block="sorry-block")  # the analyst edits the cell and re-runs it
    result = replay(app, logged)
    assert result.changed and result.diff.parts == ["session", "messages", "redirect"]
    assert repr(result) == "<Replayed POST /orders: changed (session, messages, redirect)>"
    assert "session.data.status: 'shipped' -> 'late'" in str(result.diff)
    assert "redirect: 'ok-block' -> 'sorry-block'" in str(result.diff)


def test_replay_sends_the_body_as_received_not_the_masked_copy():
    app = tk.App("shop")
    define_shop(app)
    app.call("/orders", {"order_id": "A-1", "password": "hunter2"})
    logged = app.log.last()
    assert logged.body["password"] == "***"  # the log masks it ...
    result = replay(app, logged)  # ... but the replay still sends the real value
    assert result.new.status == 200 and not result.changed


def test_replay_of_an_exchange_without_kept_bytes_sends_its_logged_body(app):
    entry = Exchange("POST", "/greet", 200)  # built by hand (e.g. from a saved log): no bytes kept
    assert entry.raw_body() is None
    result = replay(app, entry)
    assert result.new.response["messages"][0]["config"]["textMessages"][0]["text"] == "Hello there!"


def test_replay_skips_access_control_for_accepted_requests_only(app):
    app.configure(auth_bearer="s3cret-token")
    app.handle(tk.Incoming("POST", "/greet", headers={"Authorization": "Bearer s3cret-token"}, raw=b"{}"))
    accepted = app.log.last()
    assert accepted.status == 200 and accepted.headers["Authorization"] == "***"
    assert not replay(app, accepted).changed  # the masked header would fail the check
    app.handle(tk.Incoming("POST", "/greet", headers={"Authorization": "Bearer wrong"}, raw=b"{}"))
    refused = app.log.last()
    assert refused.status == 401
    result = replay(app, refused)
    assert result.new.status == 401 and result.diff.parts == ["error"]  # masked header: another reason
    assert replay_all(app) == []  # refused requests cannot be replayed faithfully: left out


def test_replay_all_lists_only_changed_answers_once_per_request():
    app = tk.App("shop")
    define_shop(app)

    @app.handler("/hello")
    def hello():
        return "hi"

    for order in ("A-1", "A-2", "A-1"):
        app.call("/orders", {"order_id": order})
    app.call("/hello")
    replay(app, app.log.last())  # a replay in the log is not replayed again
    assert replay_all(app) == []
    define_shop(app, status="late")
    changed = replay_all(app)
    assert sorted(r.old.body["order_id"] for r in changed) == ["A-1", "A-2"]
    assert all(r.diff.parts == ["session", "messages"] for r in changed)
    everything = replay_all(app, changed_only=False)
    assert len(everything) == 3  # and /hello: replays in the log are left out


def test_side_by_side_html_marks_the_changed_parts():
    app = tk.App("shop")
    define_shop(app)
    app.call("/orders", {"order_id": "A-1"})
    logged = app.log.last()
    define_shop(app, status="late")
    result = replay(app, logged)
    html = result._repr_html_()
    assert html == side_by_side_html(result)
    assert "Before" in html and "After" in html
    assert html.count(">changed<") == 2 * 2  # session and messages, marked in both columns
    assert "Order A-1 is shipped." in html and "Order A-1 is late." in html
    assert "<del" in html and "<ins" in html


# --- replays never touch your data ---------------------------------------------------------------


@pytest.fixture
def crm():
    """A stand-in CRM on loopback that counts the leads posted to it."""
    hits: list[bytes] = []

    def api(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        hits.append(environ["wsgi.input"].read(length))
        start_response("201 Created", [("Content-Type", "application/json")])
        return [json.dumps({"lead": len(hits)}).encode()]

    server = HTTPServer(api, "127.0.0.1", 0, name="crm")
    server.start()
    yield f"http://127.0.0.1:{server.port}", hits
    server.stop()


def _lead_app(url: str, seen: list) -> tk.App:
    app = tk.App("leads")

    @app.handler("/capture-lead")
    def capture_lead(email: str):
        seen.append(current_sandbox())  # where table writes would go right now
        lead = requests.post(f"{url}/leads", json={"email": email}, timeout=10).json()["lead"]
        return tk.Reply(session={"lead": {"id": lead}}, messages=[tk.text(f"Thanks, lead #{lead}.")])

    return app


def test_a_replay_runs_in_the_sandbox_with_outbound_answered_from_the_recording(crm):
    url, hits = crm
    seen: list = []
    app = _lead_app(url, seen)
    app.call("/capture-lead", {"email": "ada@example.com"})
    logged = app.log.last()
    assert len(hits) == 1 and seen == [None]  # the real call: real writes, the CRM reached
    result = replay(app, logged)
    assert len(hits) == 1, "a replay posted a lead to the CRM again"
    assert isinstance(seen[1], Sandbox) and current_sandbox() is None  # only while the handler ran
    assert not result.changed and result.new.outbound[0]["replayed"] is True
    assert [r.changed for r in replay_all(app, changed_only=False)] == [False] and len(hits) == 1
    assert isinstance(seen[2], Sandbox) and seen[2] is not seen[1]  # a fresh throwaway copy each time
    real = replay(app, logged, sandbox=False)  # opting out: the handler's effects are real
    assert len(hits) == 2 and seen[3] is None and real.diff.parts == ["session", "messages"]


def test_a_replay_of_a_handler_that_now_calls_something_else_never_reaches_the_network(crm):
    url, hits = crm
    app = _lead_app(url, [])
    app.call("/capture-lead", {"email": "ada@example.com"})
    logged = app.log.last()

    @app.handler("/capture-lead")
    def capture_lead(email: str):
        requests.post(f"{url}/v2/leads", json={"email": email}, timeout=10)
        return "ok"

    result = replay(app, logged)
    assert len(hits) == 1 and result.new.status == 500
    assert "the recording lacks: POST" in result.new.error and "/v2/leads" in result.new.error
    assert app.call("/capture-lead", {"email": "bo@example.com"})["messages"] and len(hits) == 2  # still serves


def test_a_replay_without_recordings_never_reaches_the_network_nor_pushes(crm):
    url, hits = crm
    api = V1Emulator("bot", token="t").start()
    try:
        api.add_conversation("sess-1")
        with api.client() as client:
            app = tk.App("later")
            jobs = tk.Background(app, client)
            app.add_handler("/go", lambda sessionId: "ok")
            app.call("/go", {"sessionId": "sess-1"})  # no outbound call: nothing recorded
            logged = app.log.last()

            @app.handler("/go")
            def go(sessionId: str):  # noqa: N803 - the edited handler now posts a lead and pushes later
                jobs.run(sessionId, lambda: "Done!")
                requests.post(f"{url}/leads", json={"from": sessionId}, timeout=10)
                return "ok"

            result = replay(app, logged)
            assert result.new.status == 500 and "the recording lacks: POST" in result.new.error
            assert hits == [] and [j.status for j in jobs.jobs] == ["skipped (offline replay)"]
            assert api.pushed("sess-1") == []
            assert replay(app, logged, sandbox=False).new.status == 200 and len(hits) == 1  # opted out: real
            assert jobs.wait(10) and api.pushed("sess-1") == [tk.text("Done!")]
    finally:
        api.stop()


def test_requests_served_during_a_replay_are_not_answered_from_its_recording(crm):
    url, hits = crm
    app = _lead_app(url, [])
    server = app.serve(port=0)
    try:
        with outbound.replay([]):  # a replay running in this thread (the kernel's) ...
            live = requests.post(f"{server.url}/capture-lead", json={"email": "bo@example.com"}, timeout=10)
            assert outbound.replaying()
    finally:
        server.stop()
    assert live.status_code == 200 and len(hits) == 1  # ... while the server thread reached the real CRM
    assert app.log.last().outbound[0].get("replayed") is None and not outbound.replaying()


def test_fixture_checks_run_in_the_sandbox(crm, tmp_path):
    url, hits = crm
    seen: list = []
    app = _lead_app(url, seen)
    app.call("/capture-lead", {"email": "ada@example.com"})
    save_fixtures(app.log.last(), tmp_path, app=app)
    assert check_folder(app, tmp_path) and isinstance(seen[1], Sandbox) and len(hits) == 1
    assert check_folder(app, tmp_path, sandbox=False) and seen[2] is None and len(hits) == 1  # recorded HTTP


def test_replaying_a_capture_lead_request_leaves_the_csv_unchanged(tmp_path):
    """End to end with a real CSV table: manual replay, replay-all, a fixture check and a re-check all
    append to a throwaway copy; the file holds the one real lead until a replay opts out."""
    path = tmp_path / "leads.csv"
    path.write_text("lead_id,email\n")
    leads = tk.Table(path, key="lead_id")
    app = tk.App("leads")

    @app.handler("/capture-lead")
    def capture_lead(email: str):
        row = leads.append(lead_id=f"L-{len(leads) + 1}", email=email)
        return tk.text(f"Thanks, lead {row['lead_id']}.")

    assert app.call("/capture-lead", {"email": "ada@example.com"})["messages"] == [tk.text("Thanks, lead L-1.")]
    logged, captured = app.log.last(), path.read_text()
    assert captured == "lead_id,email\nL-1,ada@example.com\n"
    sandboxed = replay(app, logged)
    assert sandboxed.new.response["messages"] == [tk.text("Thanks, lead L-2.")]  # appended to the copy
    assert sandboxed.kept == ["leads: append 'L-2' (written to a throwaway copy)"]
    assert "Kept away from your data:<ul" in sandboxed._repr_html_() and "leads: append &#x27;L-2&#x27;" in \
        sandboxed._repr_html_()
    replay_all(app, changed_only=False)
    save_fixtures(logged, tmp_path / "fixtures", app=app)
    check_folder(app, tmp_path / "fixtures")
    recheck(app, next(r for r in app.routes() if r.path == "/capture-lead"), folder=tmp_path / "fixtures")
    assert path.read_text() == captured and len(leads) == 1, "a replay appended a lead to the real file"
    assert replay(app, logged, sandbox=False).kept == []  # opting out: the lead is written for real
    assert path.read_text() == captured + "L-2,ada@example.com\n"
    assert app.call("/capture-lead", {"email": "bo@example.com"})["messages"] == [tk.text("Thanks, lead L-3.")]
# --- access control: replays skip it only for requests that passed it -------------------------------

TOKEN = "s3cret-token-7"


def _guarded(**settings) -> tk.App:
    app = tk.App("guarded", auth_bearer=TOKEN, max_body_bytes=200, **settings)
    runs: list[str] = []

    @app.handler("/orders")
    def orders(order_id: str = ""):
        runs.append(order_id)
        return f"order {order_id}"

    app.runs = runs  # type: ignore[attr-defined]
    return app


GOOD = {"Authorization": f"Bearer {TOKEN}"}
NOT_PASSED = {  # requests that never passed access control: (headers, raw body, status, access)
    "too large, no token": ({}, json.dumps({"order_id": "X-" + "9" * 300}).encode(), 413, "not reached"),
    "too large, good token": (GOOD, json.dumps({"order_id": "X-" + "9" * 300}).encode(), 413, "not reached"),
    "bad JSON, no token": ({}, b'{"order_id": "X-1",', 400, "not reached"),
    "too deep, no token": ({}, b'{"order_id": "X-2", "a": ' + b"[" * 80 + b"]" * 80 + b"}", 400,
                           "not reached"),
    "refused: no token": ({}, b'{"order_id": "X-3"}', 401, "refused"),
    "refused: wrong token": ({"Authorization": "Bearer nope"}, b'{"order_id": "X-4"}', 401, "refused"),
}


@pytest.mark.parametrize("case", list(NOT_PASSED), ids=list(NOT_PASSED))
def test_an_exchange_records_whether_it_passed_access_control(case, tmp_path):
    headers, raw, status, access = NOT_PASSED[case]
    app = _guarded()
    with serving(app) as server:
        assert send(server, "POST", "/orders", raw, headers)[0] == status
        assert app.log.last().access == access
        assert send(server, "POST", "/orders", b'{"order_id": "A-1"}', GOOD)[0] == 200
        assert app.log.last().access == "passed"
        assert list(app.log.to_frame()["access"]) == [access, "passed"]
        assert app.runs == ["A-1"]
        still_fine(app, server, tmp_path, secrets=[TOKEN])
    app.call("/orders", {"order_id": "C-1"})
    assert app.log.last().access == "skipped"  # in-process: access control not asked for


@pytest.mark.parametrize("case", list(NOT_PASSED), ids=list(NOT_PASSED))
def test_replay_checks_access_for_a_request_that_never_passed_it(case):
    headers, raw, status, _access = NOT_PASSED[case]
    app = _guarded()
    with serving(app) as server:
        send(server, "POST", "/orders", raw, headers)
    logged = app.log.last()
    app.configure(max_body_bytes=1_000_000)  # even with the size limit gone, the handler never runs
    result = replay(app, logged)
    assert result.new.status == (400 if status == 400 else 401) and app.runs == []  # bad body: 400 again
    assert not result.skipped_access and result.access.startswith("access control checked: #1 ")
    assert "never passed access control" in result.access


def test_replay_skips_access_only_for_a_request_that_passed_it_and_says_so():
    app = _guarded()
    with serving(app) as server:
        send(server, "POST", "/orders", b'{"order_id": "A-1"}', GOOD)
    result = replay(app, app.log.last())
    assert result.new.status == 200 and not result.changed and app.runs == ["A-1", "A-1"]
    assert result.skipped_access
    assert result.access == "access control skipped: #1 passed access control when it was received"
    app.call("/orders", {"order_id": "C-1"})
    result = replay(app, app.log.last())
    assert result.skipped_access and "in-process app.call" in result.access


def test_a_request_that_came_over_http_without_credentials_is_checked_again_when_replayed_or_edited():
    from toolkit.testing.edit import replay_edited

    app = _guarded()
    hook = app.add_handler("/hook", lambda order_id="": app.runs.append(f"hook {order_id}") or "ok", public=True)
    with serving(app) as server:  # a public path: no credentials sent, none asked for
        assert send(server, "POST", "/hook", b'{"order_id": "H-1"}')[0] == 200
    came = app.log.last()
    assert came.access == "skipped" and came.source != "call"
    replayed = replay(app, came).new  # still public: it runs again, and the replay skipped access too
    assert replayed.status == 200 and replayed.access == "skipped"
    app.add_handler("/hook", hook)  # no longer public: none of these ever showed credentials
    for old in (came, replayed):
        result = replay(app, old)
        assert result.new.status == 401 and not result.skipped_access
        assert f"#{old.id} ran without access control (source {old.source!r})" in result.access
    edited = replay_edited(app, came, body={"order_id": "H-2"})
    assert edited.new.status == 401 and not edited.skipped_access
    assert app.runs == ["hook H-1", "hook H-1"]  # the guarded handler never ran for them


def test_replay_all_leaves_out_what_never_passed_and_says_why():
    app = _guarded()
    with serving(app) as server:
        for headers, raw, _status, _access in NOT_PASSED.values():
            send(server, "POST", "/orders", raw, headers)
        send(server, "POST", "/orders", b'{"order_id": "A-1"}', GOOD)
    app.configure(max_body_bytes=1_000_000)
    results = replay_all(app, changed_only=False)
    assert [r.old.body["order_id"] for r in results] == ["A-1"] and results[0].skipped_access
    assert app.runs == ["A-1", "A-1"]  # only the accepted request ran again
    assert [e.exchange.id for e in results.left_out] == [1, 2, 3, 4, 5, 6]
    reasons = [e.reason for e in results.left_out]
    assert all(r.startswith("access control is on and #") for r in reasons)
    assert "failed (413) before access control checked it" in reasons[0]
    assert "was refused by access control (401)" in reasons[4]
    assert str(results.left_out[0]).startswith("#1 POST /orders (413): access control is on")
    replay(app, app.log.entries()[-1])
    again = replay_all(app, changed_only=False)
    assert "a replay itself" in str(again.left_out[-1])


def test_with_access_control_off_every_request_is_replayed_through_the_check():
    app = tk.App("open")
    app.add_handler("/orders", lambda order_id="": f"order {order_id}")
    app.handle(tk.Incoming("POST", "/orders", raw=b'{"order_id": "X-1",'))  # bad JSON: never reached the check
    results = replay_all(app, changed_only=False)
    assert len(results) == 1 and results.left_out == []
    assert results[0].access.startswith("access control checked") and results[0].new.status == 400


def test_the_log_views_replay_all_says_what_it_left_out_and_why():
    app = _guarded()
    app.handle(tk.Incoming("POST", "/orders", raw=b'{"order_id": "X-3"}'))  # refused: no token
    app.handle(tk.Incoming("POST", "/orders", headers=GOOD, raw=b'{"order_id": "A-1"}'))
    view = app.log_view()
    try:
        assert view.replay_all() == []
        html = view.comparison.value
        assert "Replayed 1 request(s): 0 answer(s) changed. Left out 1 (see why below)." in html
        assert "#1 POST /orders (401): access control is on and #1 was refused by access control" in html
    finally:
        view.close()


def test_a_fixture_of_a_request_that_never_passed_access_control_is_checked_again(tmp_path):
    from toolkit.testing import check, load_fixture, save_fixtures

    app = _guarded()
    app.configure(max_body_bytes=60)
    app.handle(tk.Incoming("POST", "/orders", raw=json.dumps({"order_id": "X-" + "9" * 60}).encode()))  # 413, no token
    app.handle(tk.Incoming("POST", "/orders", headers=GOOD, raw=b'{"order_id": "A-1"}'))
    too_large, accepted = (load_fixture(p) for p in save_fixtures(app.log.entries(), tmp_path, app=app))
    assert too_large["request"]["access"] == "not reached" and accepted["request"]["access"] == "passed"
    app.configure(max_body_bytes=1_000_000)  # the size limit gone: the token is still missing
    assert check(app, too_large).status == 401 and app.runs == ["A-1"]
    assert check(app, accepted).passed and app.runs == ["A-1", "A-1"]


def test_replay_all_leaves_out_the_pushes_of_background_jobs():
    app = tk.App("pushy")
    app.add_handler("/orders", lambda order_id="": f"order {order_id}")
    app.call("/orders", {"order_id": "A-1"})
    push = Exchange("PUSH", "/check_payment", 200, source="push")
    app.log.record(push)
    results = replay_all(app, changed_only=False)
    assert [r.old.path for r in results] == ["/orders"]
    assert [str(e) for e in results.left_out] == [
        "#2 PUSH /check_payment (200): a push of a background job, not a request that came in"]
