"""A handler's outbound ``requests`` calls: nested in its log entry, masked and cut, saved in fixtures,
replayed offline, and a call missing from the recording failing readably."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys

import pytest
import requests

import toolkit as tk
from toolkit.errors import MissingRecording
from toolkit.log import outbound
from toolkit.log.outbound import mask_url, replay
from toolkit.server.engine import HTTPServer
from toolkit.testing.fixtures import check, load_fixture, save_fixtures


def partner_api(environ, start_response):
    """A stand-in for a partner's API: echoes what it got, with a token in its answer."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    sent = environ["wsgi.input"].read(length) if length else b""
    if environ["PATH_INFO"] == "/big":
        body = {"rows": ["x" * 100] * 50}
    else:
        body = {"rate": 1.08, "token": "partner-session-token", "got": json.loads(sent) if sent else None}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


@pytest.fixture
def partner():
    server = HTTPServer(partner_api, "127.0.0.1", 0, name="partner")
    server.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture
def app(partner):
    app = tk.App("rates")

    @app.handler("/quote")
    def quote(amount: float, day: str = "mon"):
        r = requests.post(f"{partner}/rates?day={day}&api_key=KEY-123", json={"amount": amount, "password": "pw"},
                          headers={"Authorization": "Bearer SECRET-BEARER"}, timeout=5)
        return f"{amount} EUR is {amount * r.json()['rate']:.2f} USD"

    return app


def test_outbound_calls_are_nested_in_the_log_entry(app, partner):
    assert app.call("/quote", {"amount": 10})["messages"][0] == tk.text("10.0 EUR is 10.80 USD")
    [call] = app.log.last().outbound
    assert call["method"] == "POST" and call["status"] == 200 and call["error"] is None
    assert call["url"] == f"{partner}/rates?day=mon&api_key=***"
    assert call["ms"] > 0 and call["response"]["rate"] == 1.08
    assert outbound.installed()


def test_the_log_view_shows_them_nested_under_the_exchange(app, partner):
    from toolkit.widgets.logtable import detail_html

    app.call("/quote", {"amount": 10})
    html = detail_html(app.log.last())
    assert "Outbound calls (1)" in html and f"POST {partner}/rates?day=mon&amp;api_key=***" in html
    assert "SECRET-BEARER" not in html and "partner-session-token" not in html


def test_outbound_calls_are_masked(app):
    app.call("/quote", {"amount": 10})
    [call] = app.log.last().outbound
    assert call["headers"]["Authorization"] == "***" and call["request"] == {"amount": 10.0, "password": "***"}
    assert call["response"]["token"] == "***"
    assert call["response"]["got"] == {"amount": 10.0, "password": "***"}
    text = json.dumps(app.log.last().to_dict())
    assert "SECRET-BEARER" not in text and "partner-session-token" not in text and '"pw"' not in text


def test_outbound_bodies_are_cut_at_log_body_bytes(partner):
    app = tk.App("big", log_body_bytes=200)

    @app.handler("/big")
    def big():
        return f"{len(requests.get(f'{partner}/big', timeout=5).json()['rows'])} rows"

    assert app.call("/big")["messages"][0] == tk.text("50 rows")  # the handler got everything
    [call] = app.log.last().outbound
    assert isinstance(call["response"], str) and "…[cut:" in call["response"]


def test_calls_outside_a_handler_are_not_recorded(app, partner):
    app.call("/quote", {"amount": 1})  # installs the wrapper
    before = len(app.log)
    assert requests.get(f"{partner}/rates", timeout=5).json()["rate"] == 1.08
    assert len(app.log) == before and app.log.last().outbound[0]["url"].endswith("api_key=***")


def test_a_failed_call_is_recorded_with_its_error(partner):
    app = tk.App("down")
    closed = socket.socket()  # bound, never listening, held: refused at once, and no one else takes the port
    closed.bind(("127.0.0.1", 0))
    gone = f"http://127.0.0.1:{closed.getsockname()[1]}"

    @app.handler("/down")
    def down():
        requests.get(f"{gone}/rates", timeout=2)

    with closed:
        assert app.call("/down", raise_errors=False)["error"]["type"] == "handler_error"
    [call] = app.log.last().outbound
    assert call["status"] is None and call["error"].startswith("ConnectionError")


def test_saved_fixtures_include_the_masked_outbound_calls(app, tmp_path):
    app.call("/quote", {"amount": 10})
    [path] = save_fixtures(app.log.last(), tmp_path, app=app)
    text = path.read_text()
    assert "SECRET-BEARER" not in text and "KEY-123" not in text and "partner-session-token" not in text
    fixture = load_fixture(path)
    assert fixture["outbound"][0]["method"] == "POST" and fixture["outbound"][0]["response"]["rate"] == 1.08


def test_a_fixture_replays_offline_with_the_recorded_answers(app, tmp_path, monkeypatch):
    app.call("/quote", {"amount": 10})
    [path] = save_fixtures(app.log.last(), tmp_path, app=app)

    def no_network(*args, **kwargs):
        raise AssertionError("the replay went to the network")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", no_network)
    result = check(app, load_fixture(path))
    assert result.passed, result.message()
    [call] = app.log.last().outbound
    assert call.get("replayed") is True and call["status"] == 200


def test_a_call_missing_from_the_recording_fails_readably(app, partner):
    app.call("/quote", {"amount": 10, "day": "mon"})
    recording = app.log.last().outbound
    with pytest.raises(MissingRecording) as info, replay(recording):
        app.call("/quote", {"amount": 10, "day": "tue"})
    message = str(info.value)
    assert f"recording lacks: POST {partner}/rates?day=tue&api_key=***" in message
    assert f"recorded: POST {partner}/rates?day=mon&api_key=***" in message
    assert "save the fixture again" in info.value.hint


def test_a_missing_call_fails_the_fixture_even_when_the_handler_swallows_it(app, partner):
    app.call("/quote", {"amount": 10})
    fixture = {"name": "quote", "request": {"method": "POST", "path": "/quote", "query": {}, "headers": {},
                                           "body": {"amount": 10}},
               "response": {"status": 200, "body": app.log.last().response}, "outbound": []}

    @app.handler("/quote")
    def quote(amount: float):
        try:
            requests.get(f"{partner}/rates", timeout=5)
        except Exception:
            pass
        return "no rate today"

    with pytest.raises(MissingRecording, match=f"During this replay a handler made an HTTP call the "
                                               f"recording lacks: GET {partner}/rates"):
        check(app, fixture)


def test_replay_matches_bodies_repeats_answers_and_raises_recorded_errors(monkeypatch):
    calls = [
        {"method": "POST", "url": "https://p.test/a", "status": 200, "request": {"n": 1}, "response": {"v": 1}},
        {"method": "POST", "url": "https://p.test/a", "status": 200, "request": {"n": 2}, "response": {"v": 2}},
        {"method": "GET", "url": "https://p.test/b?x=1&y=2", "status": 404, "response": "nope",
         "response_headers": {"Content-Type": "text/plain", "Content-Length": "999"}},
        {"method": "GET", "url": "https://p.test/down", "status": None, "error": "ConnectTimeout: slow"},
    ]
    app = tk.App("replay")
    got: list = []

    @app.handler("/go")
    def go():
        got.append(requests.post("https://p.test/a", json={"n": 2}).json())
        got.append(requests.post("https://p.test/a", json={"n": 1}).json())
        got.append(requests.post("https://p.test/a", json={"n": 3}).json())  # a repeat: the last answer
        r = requests.get("https://p.test/b?y=2&x=1")
        got.append((r.status_code, r.text))
        with pytest.raises(requests.exceptions.ConnectTimeout, match="replayed"):
            requests.get("https://p.test/down")

    with replay(calls) as rp:
        app.call("/go")
    assert got == [{"v": 2}, {"v": 1}, {"v": 1}, (404, "nope")] and rp.missing == []
    assert [c.get("replayed") for c in app.log.last().outbound][:4] == [True] * 4


def test_install_and_uninstall_restore_requests():
    outbound.install()
    outbound.install()  # wraps once only
    assert requests.Session.send is outbound._send
    outbound.uninstall()
    try:
        assert not outbound.installed() and requests.Session.send is not outbound._send
        assert requests.Session.send.__module__ == "requests.sessions"
        app = tk.App("x", capture_outbound=False)
        app.call("/missing", raise_errors=False)  # serving never installs it
        assert not outbound.installed() and app.notices == []
    finally:
        outbound.install()
    assert outbound.installed() and requests.Session.send is outbound._send


def test_creating_the_first_app_installs_capture_visibly(caplog):
    outbound.uninstall()
    try:
        with caplog.at_level(logging.INFO, logger="toolkit"):
            first = tk.App("first")
        second = tk.App("second")
        assert outbound.installed() and requests.Session.send is outbound._send
        [notice] = first.notices
        assert "requests.Session.send is now wrapped" in notice and "capture_outbound=False" in notice
        assert notice in caplog.text
        assert second.notices == []  # said once, by the app that installed it
    finally:
        outbound.install()


def test_capture_outbound_off_records_no_call(partner):
    app = tk.App("quiet", capture_outbound=False)

    @app.handler("/rate")
    def rate():
        return str(requests.get(f"{partner}/rates", timeout=5).json()["rate"])

    assert app.call("/rate")["messages"][0] == tk.text("1.08")
    assert app.log.last().outbound == []


CAPTURE = """
import requests, toolkit
print(requests.Session.send.__module__)
app = toolkit.App("fresh")
print(requests.Session.send.__module__, len(app.notices))
"""


@pytest.mark.parametrize("env,wrapped", [({}, "toolkit.log.outbound 1"), ({"TOOLKIT_CAPTURE_OUTBOUND": "0"},
                                                                        "requests.sessions 0")])
def test_in_a_fresh_process_the_app_not_the_first_request_installs_it(env, wrapped):
    out = subprocess.run([sys.executable, "-c", CAPTURE], capture_output=True, text=True, timeout=60,
                         env={**os.environ, **env})
    assert (out.returncode, out.stdout.split("\n")[:2], out.stderr) == (0, ["requests.sessions", wrapped], "")


def test_mask_url_masks_sensitive_query_keys_only():
    masker = tk.log.Masker(("token", "api_key"))
    assert mask_url("https://x.test/p?api_key=1&q=a+b&access_token=2", masker) == \
        "https://x.test/p?api_key=***&q=a+b&access_token=***"
    assert mask_url("https://x.test/p", masker) == "https://x.test/p"
