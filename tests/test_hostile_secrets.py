"""Issue 23 §2: secrets are masked by value wherever they travel. Each case goes over HTTP to a real
server, then searches for the secret values in every place a user can see them: the HTTP answer,
``app.log`` entries and their reprs, the frame, the saved log, saved fixtures, the detail pane, replays
(``hostile.still_fine``), and the warnings and log records emitted meanwhile."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests
from helpers import http_partner
from hostile import assert_error_shape, send, serving, still_fine

import toolkit as tk
from toolkit.errors import ConfigError
from toolkit.log import MASK, Log, Masker
from toolkit.log.dblog import DbLogWriter
from toolkit.log.masking import masked_url

TOKEN = "Tok-7c1e-bearer-41"
HMAC = "hm4c-Secret-0b2"
PASSWORD = "pw-Hunter-5e9"
URL_PW = "svc-Pw-3a8"


def guarded(**settings) -> tk.App:
    return tk.App("guarded", auth_bearer=TOKEN, **settings)


def everywhere(app: tk.App, server: tk.Server, folder: Path, answer: dict, caplog, secrets: list[str]) -> None:
    """No secret in the answer, the log's entries and reprs, the log records, nor any export."""
    seen = [json.dumps(answer), caplog.text, repr(app.settings), repr(app)]
    for entry in app.log.entries():
        seen += [repr(entry), json.dumps(entry.to_dict(), default=str), entry.error or "", entry.traceback or ""]
    leaked = [s for s in secrets if any(s in text for text in seen)]
    assert not leaked, f"secrets leaked: {leaked}"
    still_fine(app, server, folder, secrets=secrets)


AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.mark.parametrize("raise_it", [
    lambda password, order: ValueError(f"bad {password}"),
    lambda password, order: RuntimeError(f"upstream refused Bearer {TOKEN} for {order}"),
    lambda password, order: KeyError({"pw": password, "order": order}),
    lambda password, order: RuntimeError(f"cannot log in: {{'credentials': '{password}'}}"),
])
def test_a_handler_exception_quoting_secrets_is_masked_everywhere(raise_it, tmp_path, caplog):
    app = guarded()

    @app.handler("/login")
    def login(order: str = "", password: str = ""):
        raise raise_it(password, order)

    caplog.set_level(logging.INFO, logger="toolkit")
    with serving(app) as server:
        status, answer = send(server, "POST", "/login",
                              json.dumps({"order": "A-1", "password": PASSWORD}).encode(), AUTH)
        err = assert_error_shape(answer, 500, "handler_error")
        assert "login" in err["message"] and "(its message is in app.log" in err["message"]
        logged = app.log.last()
        assert MASK in logged.error and "Traceback" in logged.traceback
        everywhere(app, server, tmp_path, answer, caplog, [PASSWORD, TOKEN])


def test_a_secret_in_a_source_line_of_the_traceback_is_masked(tmp_path, caplog):
    app = guarded(debug=True)  # the traceback goes into the answer too

    @app.handler("/check")
    def check():
        raise LookupError("no such key") if "Tok-7c1e-bearer-41" else None  # the token, in the source

    with serving(app) as server:
        status, answer = send(server, "POST", "/check", b"{}", AUTH)
        assert status == 500 and "LookupError" in answer["error"]["traceback"]
        assert 'if "***" else None' in app.log.last().traceback
        everywhere(app, server, tmp_path, answer, caplog, [TOKEN])


def test_expose_errors_sends_the_masked_message():
    app = guarded(expose_errors=True)
    app.add_handler("/login", lambda password="": (_ for _ in ()).throw(ValueError(f"bad {password}")))
    answer = app.test_client().post("/login", json={"password": PASSWORD}, headers=AUTH).get_json()
    assert answer["error"]["message"] == "Handler '<lambda>' raised ValueError: bad ***"


class Partner(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        data = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def partner() -> Iterator[int]:
    with http_partner(Partner) as url:
        yield int(url.rsplit(":", 1)[1])


def test_outbound_urls_with_user_info_are_masked(partner, tmp_path, caplog):
    from helpers import free_port

    app = guarded()
    closed = free_port()

    @app.handler("/sync")
    def sync():
        requests.get(f"http://svc:{URL_PW}@127.0.0.1:{partner}/x", timeout=10)
        try:
            requests.get(f"http://svc:{URL_PW}@127.0.0.1:{closed}/y", timeout=10)
        except requests.ConnectionError as exc:
            raise RuntimeError(f"sync failed: {exc}") from exc

    with serving(app) as server:
        status, answer = send(server, "POST", "/sync", b"{}", AUTH)
        assert status == 500
        calls = app.log.last().outbound
        assert [c["url"] for c in calls] == [f"http://svc:{MASK}@127.0.0.1:{partner}/x",
                                             f"http://svc:{MASK}@127.0.0.1:{closed}/y"]
        everywhere(app, server, tmp_path, answer, caplog, [URL_PW])


@pytest.mark.parametrize("text, secret", [
    (f"password={PASSWORD},more", PASSWORD),
    (f"Api-Key: {PASSWORD}", PASSWORD),
    (f"api-key={PASSWORD}&x=1", PASSWORD),
    (f"X-API-KEY: {PASSWORD}", PASSWORD),
    (f"a=1,token={PASSWORD}", PASSWORD),
    (f"note: the password: {PASSWORD}", PASSWORD),
    (f"{{'password': '{PASSWORD}', 'user': 'ada'}}", PASSWORD),
    (f'--b\r\nContent-Disposition: form-data; name="password"\r\n\r\n{PASSWORD}\r\n--b--', PASSWORD),
    (f"postgresql://u:{URL_PW}@db:5432/shop", URL_PW),
    (f"postgresql://u:p@ss-{URL_PW}@db:5432/shop", URL_PW),
    (f"postgresql://u@db/shop?password={URL_PW}&sslmode=require", URL_PW),
    (f"host=db user=u password={URL_PW} dbname=shop", URL_PW),
])
def test_text_is_masked_in_every_spelling(text, secret):
    masked = Masker(tuple(tk.App("x").settings.sensitive_keys.split(","))).text(text)
    assert secret not in masked and MASK in masked
    if secret == URL_PW:  # a database URL or libpq keywords: masked_url, used in errors and reprs, too
        assert secret not in masked_url(text) and MASK in masked_url(text)


def test_secret_values_of_the_settings_are_masked_in_any_text():
    app = tk.App("x", auth_bearer=TOKEN, hmac_secret=HMAC, auth_basic=f"ada:{PASSWORD}")
    text = app._masker.text(f"saw {TOKEN}, {HMAC} and {PASSWORD} in plain prose")
    assert text == "saw ***, *** and *** in plain prose"


@pytest.mark.parametrize("url", [
    f"postgresql://u@127.0.0.1:port/db?password={URL_PW}",
    f"postgresql://u:p@{URL_PW}@127.0.0.1:port/db",
])
def test_database_urls_never_show_their_password_in_errors(url):
    with pytest.raises(ConfigError) as info:
        Log.attach(url)
    assert URL_PW not in str(info.value) and URL_PW not in (info.value.hint or "")


def test_an_unreachable_log_database_keeps_its_password_out_of_warnings_and_reprs(caplog):
    from helpers import free_port

    url = f"postgresql://u@127.0.0.1:{free_port()}/db?password={URL_PW}"
    app = tk.App("x", log_url=url)
    app.call("/_toolkit/health")
    app.add_handler("/a", lambda: "ok")
    app.call("/a")
    writer = next(s for s in app.log._subscribers if isinstance(s, DbLogWriter))
    assert writer.flush()
    assert "could not write" in caplog.text and writer.failing
    assert URL_PW not in caplog.text and URL_PW not in repr(writer) and URL_PW not in repr(app.settings)


def test_a_user_flask_route_error_keeps_its_text_out_of_the_answer_unless_exposed():
    for expose in (False, True):
        app = guarded(expose_errors=expose)

        @app.flask.get("/stats")
        def stats():
            raise ValueError(f"no stats for {TOKEN} today")

        message = app.test_client().get("/stats").get_json()["error"]["message"]
        assert message.startswith("GET /stats raised ValueError") and TOKEN not in message
        assert ("no stats for *** today" in message) is expose


def test_a_password_from_the_request_is_masked_in_the_handlers_outbound_calls(partner, tmp_path, caplog):
    app = guarded()

    @app.handler("/forward")
    def forward(password: str = ""):
        requests.get(f"http://127.0.0.1:{partner}/check?q={password}", headers={"X-Note": password},
                     timeout=10)
        return "ok"

    with serving(app) as server:
        status, answer = send(server, "POST", "/forward", json.dumps({"password": PASSWORD}).encode(), AUTH)
        assert status == 200
        [call] = app.log.last().outbound
        assert call["url"] == f"http://127.0.0.1:{partner}/check?q={MASK}" and call["headers"]["X-Note"] == MASK
        everywhere(app, server, tmp_path, answer, caplog, [PASSWORD, TOKEN])


@pytest.mark.parametrize("text", ['name="a"\n' * 28_000, "a=1," * 60_000, "a=" + ",b" * 120_000,
                                  "x://a:@" * 35_000, "'a':" * 60_000, "a: b " * 50_000])
def test_masking_hostile_text_stays_linear(text):
    """No recursion and no quadratic scan: 240 kB of each shape is masked well within a second on an
    idle machine (a first, quadratic multipart pattern took 2.4 s on 63 kB, so some 35 s on 240 kB;
    the recursive comma handling overflowed the stack); 5 s leaves room for a loaded machine."""
    import time

    t0 = time.perf_counter()
    Masker(("password",)).text(text)
    assert time.perf_counter() - t0 < 5
