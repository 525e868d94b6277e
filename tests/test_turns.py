"""Turn tracing (toolkit.log.turns): which turn a request to the app belongs to."""

from __future__ import annotations

import contextvars
import threading

import toolkit as tk
from toolkit.log.turns import current_turn, in_turn


class Log:
    """Stands for an app's log: only its identity matters."""


def test_the_context_links_exactly_and_threads_started_with_its_copy_inherit_it():
    log = Log()
    assert current_turn(log) is None
    with in_turn("c#1", log):
        assert current_turn(log) == current_turn() == "c#1"
        seen = []
        context = contextvars.copy_context()
        worker = threading.Thread(target=context.run, args=(lambda: seen.append(current_turn()),))
        worker.start()
        worker.join()
        assert seen == ["c#1"]
    assert current_turn(log) is None and current_turn() is None


def test_a_server_thread_gets_the_one_turn_in_flight_on_its_log_and_none_when_ambiguous():
    log, other = Log(), Log()
    seen = []

    def server_thread():  # no context: what a request served on another thread sees
        seen.append((current_turn(log), current_turn(other)))

    def run_in_fresh_thread():
        t = threading.Thread(target=server_thread)
        t.start()
        t.join()

    with in_turn("a#1", log):
        run_in_fresh_thread()
        with in_turn("b#1", log):  # two conversations at once on one app: ambiguous
            run_in_fresh_thread()
        run_in_fresh_thread()
    run_in_fresh_thread()
    assert seen == [("a#1", None), (None, None), ("a#1", None), (None, None)]


def test_an_apps_exchanges_carry_the_turn_in_flight():
    app = tk.App("turns")
    app.add_handler("/ping", lambda: "pong")
    app.call("/ping")
    with in_turn("chat#7", app.log):
        app.call("/ping")
    first, second = app.log.entries()
    assert first.turn is None and second.turn == "chat#7" and second.to_dict()["turn"] == "chat#7"
    assert "turn" in app.log.to_frame().columns  # the log view can filter on it
