"""log_url: every worker writes its exchanges to SQLite or PostgreSQL; Log.attach follows them live."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from databases import BACKENDS, database
from helpers import request_json

import toolkit
from toolkit import testing
from toolkit.errors import ConfigError
from toolkit.log.dblog import AttachedLog, DbLogWriter


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path: Path):
    yield from database(request.param, tmp_path)


def shop(**settings) -> toolkit.App:
    app = toolkit.App("shop", **settings)

    @app.handler("/order")
    def order(order_id: str, password: str = "", note: str = ""):
        return f"Order {order_id} is shipped."

    @app.handler("/boom")
    def boom():
        raise RuntimeError("kaput")

    return app


def writer(app: toolkit.App) -> DbLogWriter:
    return next(s for s in app.log._subscribers if isinstance(s, DbLogWriter))


def wait_for(log: AttachedLog, count: int, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while len(log) < count and time.monotonic() < deadline:
        log.refresh()
    assert len(log) == count


def test_exchanges_are_stored_masked_and_cut_as_in_memory_and_an_attached_log_sees_them(url: str):
    app = shop(log_url=url, log_body_bytes=200)
    app.call("/order", {"order_id": "A-1", "password": "s3cret", "note": "x" * 500})
    app.call("/order", {"order_id": "A-2"}, headers={"Authorization": "Bearer tok-123"})
    app.call("/order", {"order_id": "A-3"}, query={"api_key": "qk-456", "page": "2"})
    with pytest.raises(RuntimeError):
        app.call("/boom")
    app.test_client().post("/order", json={})  # a 400
    assert writer(app).flush()
    attached = toolkit.Log.attach(url)
    try:
        wait_for(attached, 5)
        local = [e.to_dict() for e in app.log]
        remote = [e.to_dict() for e in attached]
        for mine, theirs in zip(local, remote, strict=True):
            assert {k: v for k, v in theirs.items() if k != "id"} == json.loads(
                json.dumps({k: v for k, v in mine.items() if k != "id"}, default=str))
        text = json.dumps(remote, ensure_ascii=False)
        assert "s3cret" not in text and "tok-123" not in text and "qk-456" not in text and "…[cut:" in text
        assert attached.entries()[2].query == {"api_key": "***", "page": "2"}  # the query is stored masked
        assert [e.status for e in attached] == [200, 200, 200, 500, 400]
        assert repr(attached) == "<Log attached to a database: 5 exchanges>"
    finally:
        attached.close()


def test_an_attached_log_drives_the_log_view_replay_and_fixtures(url: str, tmp_path: Path):
    service = shop(log_url=url)
    for n in range(3):
        service.call("/order", {"order_id": f"A-{n}"})
    writer(service).flush()
    notebook = shop()
    notebook.log = toolkit.Log.attach(url)
    try:
        wait_for(notebook.log, 3)
        seen: list[int] = []
        notebook.log.subscribe(lambda e: seen.append(e.id))
        service.call("/order", {"order_id": "A-9"})
        writer(service).flush()
        wait_for(notebook.log, 4)
        assert seen == [notebook.log.last().id]  # live: subscribers hear of new rows
        view = toolkit.LogView(notebook)
        try:
            view.set_filter(text="A-9")
            assert [e.body["order_id"] for e in view.shown] == ["A-9"]
            assert view.select(view.shown[0]) is not None and "A-9" in view.detail.value
        finally:
            view.close()
        paths = testing.save_fixtures(list(notebook.log), tmp_path / "fixtures", app=notebook)
        assert len(paths) == 4
        report = testing.check_folder(notebook, tmp_path / "fixtures")
        assert report and len(report.passed) == 4, str(report)
    finally:
        notebook.log.close()


def test_retention_keeps_the_newest_exchanges(url: str):
    app = shop(log_url=url, log_retention=20)
    for n in range(60):
        app.call("/order", {"order_id": f"A-{n}"})
        if n % 15 == 14:
            writer(app).flush()
    writer(app).flush()
    attached = AttachedLog(url, size=1000)
    try:
        assert [e.body["order_id"] for e in attached] == [f"A-{n}" for n in range(40, 60)]  # exactly 20
    finally:
        attached.close()


@pytest.mark.parametrize("bad, found", [
    ("nonsense", "is not a database URL"),
    ("mysql://u@h/db", "must be a SQLite or PostgreSQL URL"),
    ("postgresql://u:secret@h:port/db", "is not a database URL"),
])
def test_a_wrong_log_url_fails_at_app_with_the_fix(bad: str, found: str):
    with pytest.raises(ConfigError, match=found) as info:
        shop(log_url=bad)
    assert "sqlite:///" in info.value.hint and "secret" not in str(info.value)


def test_an_unreachable_log_database_never_breaks_answers(tmp_path: Path, caplog):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = shop(log_url=f"postgresql://u:secret@127.0.0.1:{port}/db")
    reply = app.call("/order", {"order_id": "A-1"})
    assert reply["messages"][0]["config"]["textMessages"][0]["text"] == "Order A-1 is shipped."
    assert writer(app).flush()
    assert "log_url: could not write 1 exchanges" in caplog.text and "secret" not in caplog.text
    assert app.test_client().get("/_toolkit/health").status_code == 200 and len(app.log.to_frame()) == 1


MODULE = """import toolkit
app = toolkit.App("leads")

@app.handler("/lead")
def lead(lead_id: str, password: str = ""):
    return f"thanks {lead_id}"
"""


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="gunicorn runs on Linux and macOS only")
def test_gunicorn_4_workers_log_200_requests_from_8_clients_into_one_database(url: str, tmp_path: Path):
    module = tmp_path / "leadbot.py"
    module.write_text(MODULE)
    env = {**os.environ, "TOOLKIT_LOG_URL": url}
    proc = subprocess.Popen([sys.executable, "-m", "toolkit", "serve", str(module), "--workers", "4", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                            start_new_session=True)
    attached = None
    try:
        line = proc.stdout.readline()
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        errors: list[str] = []

        def client(n: int) -> None:
            for i in range(25):
                try:
                    status, body = request_json("127.0.0.1", port, "POST", "/lead",
                                                {"lead_id": f"{n}-{i}", "password": "s3cret"})
                    if status != 200:
                        errors.append(f"{status} {body}")
                except Exception as exc:
                    errors.append(repr(exc))

        clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        assert not errors, errors[:3]
        attached = toolkit.Log.attach(url, size=2000)
        wait_for(attached, 200)
        assert {e.body["lead_id"] for e in attached} == {f"{n}-{i}" for n in range(8) for i in range(25)}
        assert all(e.body["password"] == "***" for e in attached)
        assert len({e.id for e in attached}) == 200
    finally:
        if attached is not None:
            attached.close()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        proc.stdout.close()
