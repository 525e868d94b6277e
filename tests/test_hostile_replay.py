"""Issue 23 §3: replays touch nothing real, from any thread. A handler that writes a CSV table and
calls a partner with requests from a ``threading.Thread`` or a ``ThreadPoolExecutor`` task: the live
call writes and calls for real; a replay, replay-all and the re-check after a redefinition write to
the throwaway copy and answer the call from the recording, and ``Replayed.kept`` lists both."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests
from helpers import http_partner
from hostile import send, serving

import toolkit as tk
from toolkit.testing.replay import replay, replay_all
from toolkit.testing.rerun import recheck

HITS: list[str] = []
POOL = ThreadPoolExecutor(2, thread_name_prefix="test-pool")  # its workers outlive any one request


class Crm(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        HITS.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "11")
        self.end_headers()
        self.wfile.write(b'{"ok": true}'[:11])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def crm() -> Iterator[str]:
    HITS.clear()
    with http_partner(Crm) as url:
        yield f"{url}/crm"


def lead_app(path: Path, crm: str, how: str) -> tuple[tk.App, tk.Table]:
    path.write_text("lead_id,email\n")
    leads = tk.Table(path, key="lead_id")
    app = tk.App("leads")

    def work(email: str) -> str:
        row = leads.append(lead_id=f"L-{len(leads) + 1}", email=email)
        requests.post(crm, json={"email": email}, timeout=10)
        return str(row["lead_id"])

    @app.handler("/capture-lead")
    def capture_lead(email: str):
        if how == "thread":
            out: list[str] = []
            worker = threading.Thread(target=lambda: out.append(work(email)))
            worker.start()
            worker.join()
            lead = out[0]
        elif how == "pool":
            lead = POOL.submit(work, email).result()
        else:
            with ThreadPoolExecutor(1) as pool:
                lead = next(pool.map(work, [email]))
        return tk.text(f"Thanks, lead {lead}.")

    return app, leads


KEPT = ["leads: append 'L-2' (written to a throwaway copy)", "HTTP POST {crm} (not sent: answered from the recording)"]


@pytest.mark.parametrize("how", ["thread", "pool", "fresh-pool"])
def test_a_handler_writing_and_calling_from_a_thread_is_sandboxed_in_every_replay(how, crm, tmp_path):
    path = tmp_path / "leads.csv"
    app, leads = lead_app(path, crm, how)
    with serving(app) as server:
        status, answer = send(server, "POST", "/capture-lead", b'{"email": "ada@example.com"}')
    assert status == 200 and answer["messages"] == [tk.text("Thanks, lead L-1.")]
    logged, captured = app.log.last(), path.read_text()
    assert captured == "lead_id,email\nL-1,ada@example.com\n" and len(HITS) == 1
    assert [c["url"] for c in logged.outbound] == [crm]  # the thread's call is in the recording

    expected = [k.format(crm=crm) for k in KEPT]
    one = replay(app, logged)
    assert one.new.response["messages"] == [tk.text("Thanks, lead L-2.")] and one.kept == expected
    every = replay_all(app, changed_only=False)
    assert [r.kept for r in every] == [expected]
    route = next(r for r in app.routes() if r.path == "/capture-lead")
    report = recheck(app, route, folder=tmp_path / "no-fixtures")
    assert [o.result.kept for o in report.outcomes] == [expected]
    assert path.read_text() == captured and len(leads) == 1 and len(HITS) == 1, "a replay acted for real"

    assert replay(app, logged, sandbox=False).kept == []  # opting out: both happen for real
    assert len(HITS) == 2 and path.read_text().count("\n") == 3


def test_threads_started_outside_a_replay_are_untouched(tmp_path):
    """A thread started by live code while a replay runs elsewhere writes for real: the copy is keyed on
    the starting context, not on a global flag."""
    path = tmp_path / "notes.csv"
    path.write_text("id,text\n")
    notes = tk.Table(path, key="id")
    started, go = threading.Event(), threading.Event()
    app = tk.App("x")

    @app.handler("/slow")
    def slow():
        started.set()
        go.wait(30)
        return "ok"

    go.set()
    app.call("/slow")  # a logged request to replay
    go.clear()
    done: list[object] = []
    replaying = threading.Thread(target=lambda: done.append(replay(app, app.log.last())))
    replaying.start()
    assert started.wait(30)
    writer = threading.Thread(target=lambda: notes.append(id="n-1", text="real"))
    writer.start()
    writer.join()
    go.set()
    replaying.join(30)
    assert done and "n-1,real" in path.read_text()
