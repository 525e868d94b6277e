"""Long-running handlers: answer at once, push later; the push never overtakes the answer; failures of
the later push are in the log."""

from __future__ import annotations

import re
import threading

import pytest
from helpers import wait_until

import toolkit as tk
from toolkit.chatlayer import background
from toolkit.v1emulator.api import V1Emulator


@pytest.fixture
def api():
    api = V1Emulator("bg-bot", token="bg-token").start()
    api.add_conversation("sess-1")
    yield api
    api.stop()


def test_the_answer_comes_now_and_the_result_is_pushed_later(api, client):
    app = tk.App("shop")
    jobs = tk.Background(app, client)

    def check_payment(amount):
        return [tk.text(f"Payment of {amount:.2f} EUR received."), tk.buttons("Next?", tk.postback("Receipt", "b1"))]

    @app.handler("/payment")
    def payment(sessionId: str, amount: float):  # noqa: N803 - Chatlayer's key
        jobs.run(sessionId, check_payment, amount)
        return "One moment, I'm checking your payment…"

    answer = app.call("/payment", {"sessionId": "sess-1", "amount": 12.5})
    assert answer["messages"] == [tk.text("One moment, I'm checking your payment…")]
    assert jobs.wait(5)
    assert api.pushed("sess-1") == [tk.text("Payment of 12.50 EUR received."),
                                    tk.buttons("Next?", tk.postback("Receipt", "b1"))]
    step, push = app.log.entries()
    assert (step.method, step.path, step.status) == ("POST", "/payment", 200)
    assert (push.method, push.path, push.status, push.source) == ("PUSH", "/check_payment", 200, "push")
    [call] = push.outbound
    assert call["status"] == 200 and call["url"].endswith("/conversations/sess-1/actions?version=DRAFT")
    assert call["headers"]["Authorization"] == "***"
    assert push.body["sendMessages"][0] == tk.text("Payment of 12.50 EUR received.")
    [job] = jobs.jobs
    assert job.status == "pushed" and job.exchange is push and repr(job) == "<Job check_payment: pushed>"


def test_the_push_waits_until_the_handler_has_answered(api, client, monkeypatch):
    """An ordering proof, not a pause: the handler holds until the job has either pushed (a wrong
    build) or is waiting for the answer (the right one), and every step writes down when it happens."""
    app = tk.App("order")
    jobs = tk.Background(app, client)
    order: list[str] = []  # list.append is atomic: the steps in the order they happened
    reached = threading.Event()  # the job is at the push: waiting for the answer, or pushing

    class Watched:
        """The job's "handler answered" event, telling when it is waited on and why the wait ends."""

        def __init__(self, event: threading.Event) -> None:
            self.event = event

        def wait(self, timeout: float | None = None) -> bool:
            reached.set()
            answered = self.event.wait(timeout)
            order.append("answer seen" if answered else "gave up waiting")
            return answered

    real_event, real_push = background._answered_event, client.push
    monkeypatch.setattr(background, "_answered_event",
                        lambda: None if (e := real_event()) is None else Watched(e))

    def push(*args, **kwargs):
        order.append("push")
        reached.set()
        return real_push(*args, **kwargs)

    monkeypatch.setattr(client, "push", push)

    @app.handler("/go")
    def go(sessionId: str):  # noqa: N803
        jobs.run(sessionId, lambda: "Done!")
        assert reached.wait(30)  # the slow part is done and the job is at the push...
        order.append("handler returns")  # ...yet nothing went out before this
        return "Working on it"

    app.call("/go", {"sessionId": "sess-1"})
    assert jobs.wait(30) and api.pushed("sess-1") == [tk.text("Done!")]
    assert order == ["handler returns", "answer seen", "push"]


def test_a_failed_push_is_recorded_in_the_log(api, client):
    app = tk.App("shop")
    jobs = tk.Background(app, client)
    job = jobs.run("no-such-session", lambda: "Paid!")
    assert job.wait(5) and job.status == "failed"
    entry = app.log.last()
    assert entry.status == 502 and entry.flags == ["push-failed"] and entry.source == "push"
    assert "Push of job '<lambda>' to session 'no-such-session' failed" in entry.error
    assert "Conversation 'no-such-session' not found" in entry.error
    assert entry.outbound[0]["status"] == 404
    assert app.notices[-1].startswith("Push of job '<lambda>' to session 'no-such-session' failed")


def test_a_failed_push_names_a_bad_token(api):
    app = tk.App("shop")
    with tk.ChatlayerClient("wrong", "bg-bot", base_url=api.url) as bad:
        job = tk.Background(app, bad).run("sess-1", lambda: "Paid!")
        assert job.wait(5)
    assert "Settings -> Access tokens" in app.log.last().error


def test_a_failing_slow_part_is_logged_and_the_user_is_told(api, client):
    app = tk.App("shop")
    jobs = tk.Background(app, client, on_error="Sorry, the payment check failed.")

    def check_payment():
        raise TimeoutError("bank did not answer")

    job = jobs.run("sess-1", check_payment)
    assert job.wait(5) and job.status == "failed"
    entry = app.log.last()
    assert entry.status == 500 and "raised TimeoutError: bank did not answer" in entry.error
    assert "TimeoutError" in entry.traceback
    assert api.pushed("sess-1") == [tk.text("Sorry, the payment check failed.")]


def test_a_job_may_push_only_messages(api, client):
    app = tk.App("shop")
    job = tk.Background(app, client).run("sess-1", lambda: tk.Reply(session={"paid": True}, messages=["ok"]))
    assert job.wait(5) and job.status == "failed"
    assert "returned session, but a push can only carry messages" in app.log.last().error
    assert api.pushed("sess-1") == []


def test_nothing_to_push_and_jobs_started_from_a_cell(api, client):
    app = tk.App("shop")
    jobs = tk.Background(app, client)
    quiet = jobs.run("sess-1", lambda: None)
    loud = jobs.run("sess-1", lambda: "from a cell")  # no handler running: pushed when ready
    assert jobs.wait(5) and quiet.status == "nothing to push" and loud.status == "pushed"
    assert api.pushed("sess-1") == [tk.text("from a cell")]
    assert jobs.pending == 0 and repr(jobs) == "<Background 'shop': 0 running, 2 done, 0 failed>"
    with pytest.raises(ValueError, match="internal.sessionId"):
        jobs.run("", lambda: "x")


def test_fixture_replays_skip_background_jobs(api, client):
    from toolkit.log.outbound import replay

    app = tk.App("shop")
    jobs = tk.Background(app, client)

    @app.handler("/go")
    def go(sessionId: str):  # noqa: N803
        jobs.run(sessionId, lambda: "Done!")
        return "Working on it"

    with replay([]):
        assert app.call("/go", {"sessionId": "sess-1"})["messages"] == [tk.text("Working on it")]
    [job] = jobs.jobs
    assert job.status == "skipped (offline replay)" and api.pushed("sess-1") == [] and len(api.log) == 0


def test_a_conversation_shows_the_answer_then_the_later_push_in_order(api, client):
    from toolkit.emulator import ApiStep, Conversation, Flow

    app = tk.App("shop")
    jobs = tk.Background(app, client)
    release = threading.Event()

    def check_payment(amount):
        assert release.wait(5)  # the slow part: done only once the test says so
        return tk.text(f"Payment of {amount:.2f} EUR received.")

    @app.handler("/payment")
    def payment(sessionId: str, amount: float):  # noqa: N803
        jobs.run(sessionId, check_payment, amount)
        return "One moment, I'm checking your payment…"

    flow = Flow("shop")
    flow.message("welcome", "Hi! Type 'pay' to pay.")
    flow.api("pay", ApiStep("POST", "/payment", body=[("sessionId", "variable", "internal.sessionId"),
                                                      ("amount", "text", "12.5")]))
    flow.intent("pay", go="pay", keywords=["pay"])
    chat = Conversation(flow, backend=app)
    assert api.attach(chat) is None  # nothing to print in a cell; pushes to its session id arrive
    turn = chat.say("pay")
    assert turn.text == "One moment, I'm checking your payment…"  # the step's answer, at once
    release.set()
    assert jobs.wait(5) and api.wait(5)
    assert wait_until(lambda: len(chat.transcript) == 4)
    lines = chat.text().splitlines()
    assert lines[:2] == ["bot: Hi! Type 'pay' to pay.", "you: pay"]
    assert re.fullmatch(r"  ↳ called /payment → 200, \d+ ms", lines[2])  # the turn's trace
    assert lines[3:] == ["bot: One moment, I'm checking your payment…", "bot: Payment of 12.50 EUR received."]
    assert [e.get("source") for e in chat.transcript] == ["flow", None, "api", "push"]


def test_a_push_made_inside_the_step_waits_for_the_steps_answer(api, client):
    from toolkit.emulator import ApiStep, Conversation, Flow

    app = tk.App("sync")

    @app.handler("/now")
    def now(sessionId: str):  # noqa: N803
        client.push(sessionId, "pushed during the step")  # answered at once, delivered after the step
        return "the step's answer"

    flow = Flow("sync")
    flow.api("now", ApiStep("POST", "/now", body=[("sessionId", "variable", "internal.sessionId")]))
    chat = Conversation(flow, backend=app, start=False)
    api.attach(chat)
    assert chat.start().text == "the step's answer"
    assert api.wait(5) and wait_until(lambda: len(chat.transcript) == 2)
    assert chat.text().splitlines() == ["bot: the step's answer", "bot: pushed during the step"]
    assert client.messages(chat.session_id)[-1]["message"] == tk.text("pushed during the step")
