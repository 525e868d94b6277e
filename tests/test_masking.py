"""toolkit.log.masking: every place a value from the wire is kept is masked by one masker built from
one list of keys (the ``sensitive_keys`` setting): query, headers, body at any depth and in any key
case, error messages, outbound calls, and so the frame, saved logs and fixtures. Each case goes to a
real server and ends with the check that the server answers and nothing leaked into any export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from urllib.parse import quote

import pytest
from helpers import http_partner
from hostile import assert_error_shape, send, serving, still_fine

import toolkit as tk
from toolkit.config import Settings
from toolkit.log import MASK, Masker
from toolkit.params import shown
from toolkit.testing.replay import replay

SECRET = "S3cr3t-value-9f2"


def shop(**settings) -> tk.App:
    app = tk.App("mask-shop", **settings)

    @app.handler("/orders")
    def orders(order_id: str = "", password: str = "", **params):
        return tk.Reply(messages=[tk.text(f"order {order_id}: {'ok' if password == SECRET else 'no pw'}")])

    @app.handler("/typed")
    def typed(count: int = 0, password: int = 0, pin_token: dict | None = None, filters: dict | None = None):
        return "typed"

    return app


# --- query string -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["password", "PASSWORD", "api_key", "access_token", "client_secret",
                                 "ApiKey", "x-auth-token"])
def test_sensitive_query_keys_are_masked_in_the_log_and_every_export(key, tmp_path):
    app = shop()
    with serving(app) as server:
        status, _ = send(server, "POST", f"/orders?{quote(key)}={SECRET}&order_id=A-1", b"{}")
        assert status == 200
        logged = app.log.last()
        assert logged.query == {key: MASK, "order_id": "A-1"}
        still_fine(app, server, tmp_path, secrets=[SECRET])


def test_a_percent_encoded_query_key_is_masked_as_its_name(tmp_path):
    app = shop()
    with serving(app) as server:
        assert send(server, "POST", f"/orders?pass%77ord={SECRET}&order_id=A-1", b"{}")[0] == 200
        assert app.log.last().query == {"password": MASK, "order_id": "A-1"}
        assert "order A-1: ok" in json.dumps(app.log.last().response)  # the handler got the real value
        still_fine(app, server, tmp_path, secrets=[SECRET])


def test_a_replay_sends_the_query_as_received_not_the_masked_copy():
    app = shop()
    app.call("/orders", query={"password": SECRET, "order_id": "A-1"})
    logged = app.log.last()
    assert logged.query["password"] == MASK
    assert "ok" in str(logged.response) and not replay(app, logged).changed  # the real value went again


# --- headers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,value", [
    ("Authorization", f"Bearer {SECRET}"),
    ("Proxy-Authorization", f"Basic {SECRET}"),
    ("Cookie", f"session={SECRET}"),
    ("Set-Cookie", f"id={SECRET}; HttpOnly"),
    ("X-Api-Key", SECRET),
    ("X-Auth-Token", SECRET),
    ("X-Signature", SECRET),
    ("X-Bot-Key", SECRET),  # the header named by auth_header
])
def test_credential_headers_are_masked(name, value, tmp_path):
    app = shop(auth_header=f"X-Bot-Key: {SECRET}")
    with serving(app) as server:
        send(server, "POST", "/orders", b"{}", {name: value, "X-Bot-Key": SECRET, "Accept": "text/x"})
        headers = {k.lower(): v for k, v in app.log.last().headers.items()}
        assert headers[name.lower()] == MASK and headers["accept"] == "text/x"
        still_fine(app, server, tmp_path, secrets=[SECRET])


# --- bodies, any depth and key case -------------------------------------------------------------


BODIES = {
    "top level, any case": json.dumps({"order_id": "A-1", "PassWord": SECRET}).encode(),
    "nested objects": json.dumps({"user": {"profile": {"Api_Key": SECRET}}}).encode(),
    "in arrays": json.dumps({"rows": [[{"TOKEN": SECRET}], {"ok": 1}]}).encode(),
    "40 levels down": (b'{"a":' * 39 + json.dumps({"client_secret": SECRET}).encode() + b"}" * 39),
    "an array body (400)": json.dumps([{"password": SECRET}]).encode(),
    "JSON that does not parse (400)": b'{"password": "' + SECRET.encode() + b'", }',
    "a form": b"order_id=A-1&password=" + SECRET.encode(),
    "a form, a key name percent-encoded": b"order_id=A-1&pass%77ord=" + SECRET.encode(),
    "a form, two letters of a key name percent-encoded": b"order_id=A-1&%61pi%5Fkey=" + SECRET.encode(),
    "a secret-named object": json.dumps({"secret": {"deep": [SECRET]}}).encode(),
}


@pytest.mark.parametrize("raw", list(BODIES.values()), ids=list(BODIES))
def test_sensitive_body_keys_are_masked_at_any_depth(raw, tmp_path):
    app = shop()
    ctype = "application/x-www-form-urlencoded" if raw.startswith(b"order_id=") else "application/json"
    with serving(app) as server:
        status, _ = send(server, "POST", "/orders", raw, {"Content-Type": ctype})
        assert status in (200, 400)
        assert SECRET not in json.dumps(app.log.last().body)
        still_fine(app, server, tmp_path, secrets=[SECRET])


# --- error messages -----------------------------------------------------------------------------


@pytest.mark.parametrize("body,param,expected", [
    ({"password": SECRET}, "password", "int"),  # a secret sent as text to an int parameter
    ({"password": [SECRET]}, "password", "int"),
    ({"pin_token": SECRET}, "pin_token", "dict"),
    ({"filters": [{"note": "x", "api_key": SECRET}]}, "filters", "dict"),  # a secret inside a value
    ({"password": {"nested": SECRET}}, "password", "int"),
])
def test_a_failed_conversion_names_the_parameter_and_type_but_never_a_secret(body, param, expected,
                                                                              tmp_path):
    app = shop()
    with serving(app) as server:
        status, answer = send(server, "POST", "/typed", json.dumps(body).encode())
        err = assert_error_shape(answer, 400, "bad_request")
        assert f"'{param}' must be {expected}" in err["message"]
        assert SECRET not in json.dumps(answer) and SECRET not in str(app.log.last().error)
        still_fine(app, server, tmp_path, secrets=[SECRET])


@pytest.mark.parametrize("value", ["x" * 10_000, list(range(5000)), {"k" * 50: "v" * 5000}])
def test_other_values_are_cut_in_the_message(value, tmp_path):
    app = shop()
    with serving(app) as server:
        status, answer = send(server, "POST", "/typed", json.dumps({"count": value}).encode())
        message = assert_error_shape(answer, 400, "bad_request")["message"]
        assert "'count' must be int, got " in message and "…" in message and len(message) < 160
        still_fine(app, server, tmp_path)


def test_shown_hides_sensitive_values_and_shows_short_others():
    masker = Masker(("pin",))
    assert shown("PIN", 1234, masker) == "an int (value hidden: 'PIN' is a sensitive key)"
    assert shown("my_pin", "1234", masker) == "a str (value hidden: 'my_pin' is a sensitive key)"
    assert shown("n", "forty", masker) == "'forty' (str)"
    assert shown("n", {"pin": 1, "a": 2}, masker) == "{'pin': '***', 'a': 2} (dict)"
    assert shown("n", "pin=1&a=2", masker) == "'pin=***&a=2' (str)"


@pytest.mark.parametrize("text", [f"GET https://api.example/x?token={SECRET} failed",
                                  f'upstream said {{"password": "{SECRET}"}}',
                                  f"login with api_key={SECRET}&user=ada refused"])
def test_a_handler_error_quoting_a_secret_is_masked_on_the_wire_and_in_the_log(text, tmp_path):
    app = shop()

    @app.handler("/fails")
    def fails():
        raise RuntimeError(text)

    with serving(app) as server:
        status, answer = send(server, "POST", "/fails", b"{}")
        err = assert_error_shape(answer, 500, "handler_error")
        # the caller reads the exception's type, not its text (expose_errors=False); the log masks it
        assert SECRET not in json.dumps(answer) and "RuntimeError" in err["message"]
        logged = app.log.last()
        assert SECRET not in logged.error and SECRET not in logged.traceback and MASK in logged.error
        still_fine(app, server, tmp_path, secrets=[SECRET])


# --- outbound calls ------------------------------------------------------------------------------


class Partner(BaseHTTPRequestHandler):
    """A partner API on loopback that answers with a cookie and a token."""

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        data = json.dumps({"access_token": SECRET + "-4", "ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", f"sid={SECRET}-3; HttpOnly")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def partner() -> Iterator[str]:
    with http_partner(Partner) as url:
        yield url


def test_outbound_calls_are_masked_url_headers_cookies_and_bodies(partner, tmp_path):
    import requests

    app = shop()

    @app.handler("/login")
    def login():
        answer = requests.get(f"{partner}/session?token={SECRET}-1&user=ada",
                              headers={"Proxy-Authorization": f"Basic {SECRET}-2"}, timeout=10)
        return "ok" if answer.json()["ok"] else "no"

    with serving(app) as server:
        assert send(server, "POST", "/login", b"{}")[0] == 200
        call = app.log.last().outbound[0]
        assert "token=***" in call["url"] and "user=ada" in call["url"]
        assert call["headers"]["Proxy-Authorization"] == MASK
        assert call["response_headers"]["Set-Cookie"] == MASK
        assert call["response"] == {"access_token": MASK, "ok": True}
        still_fine(app, server, tmp_path, secrets=[SECRET])


# --- one masker, one list of keys ------------------------------------------------------------------


def test_the_sensitive_keys_setting_is_the_one_list_everywhere(tmp_path):
    app = shop(sensitive_keys="iban,Pin")
    with serving(app) as server:
        send(server, "POST", f"/orders?IBAN={SECRET}-q", json.dumps({"user": {"pin": SECRET + "-b"}}).encode(),
             {"X-Pin": SECRET + "-h"})
        logged = app.log.last()
        assert logged.query["IBAN"] == MASK and logged.body["user"]["pin"] == MASK
        assert logged.headers["X-Pin"] == MASK
        still_fine(app, server, tmp_path, secrets=[SECRET])


def test_code_without_an_app_masks_with_the_setting_too(monkeypatch):
    monkeypatch.setenv("TOOLKIT_SENSITIVE_KEYS", "iban")
    assert Masker.default().keys == tuple(Settings()["sensitive_keys"].split(",")) + (
        "x-signature", "signature", "hmac", "hash")  # signature headers of every name (SIGNATURE_HEADER_WORDS)
    assert tk.log.mask({"IBAN": 1, "password": 2}) == {"IBAN": MASK, "password": 2}
    emulator = tk.V1Emulator()
    assert emulator._masker.sensitive("Iban") and not emulator._masker.sensitive("password")


@pytest.mark.parametrize("text, masked", [
    ("user=a&PASSWORD=x1&api_key=x2", "user=a&PASSWORD=***&api_key=***"),
    ('{"password": "x1", "n": 1', '{"password": "***", "n": 1'),
    ('{"a": {"Password": "x1"}, "note": "api_key=x2"}', '{"a": {"Password": "***"}, "note": "api_key=***"}'),
    ('{"token": "x\\"1", "n": 1,}', '{"token": "***", "n": 1,}'),
    ("GET /x?access_token=x1&page=2 failed", "GET /x?access_token=***&page=2 failed"),
    ("session.secret=x1; theme=dark", "session.secret=***; theme=dark"),
    ("user=a&pass%77ord=x1&api%5Fkey=x2&%74oken=x3", "user=a&pass%77ord=***&api%5Fkey=***&%74oken=***"),
    ("GET /x?access%5Ftoken=x1 failed", "GET /x?access%5Ftoken=*** failed"),
])
def test_masking_text_finds_pairs_in_forms_queries_and_broken_json(text, masked):
    assert Masker.default().text(text) == masked


def test_signature_headers_of_every_shape_are_masked_whatever_their_name():
    import base64
    import hashlib

    digest = hashlib.sha256(b"x").digest()
    masker = Masker.default()
    shapes = {"X-Hub-Signature-256": "sha256=" + digest.hex(), "X-Auth-Code": digest.hex(),
              "X-B64": base64.b64encode(digest).decode(), "X-B64url": base64.urlsafe_b64encode(digest).decode().rstrip("="),
              "Chatlayer-Stamp": "t=1767225600,v1=" + digest.hex(), "X-Sha1": hashlib.sha1(b"x").hexdigest()}
    ordinary = {"X-Request-Id": "550e8400-e29b-41d4-a716-446655440000", "Accept": "application/json",
                "X-Trace": "0af7651916cd43dd8448eb211c80319c", "X-Timestamp": "1767225600"}
    shown = masker.headers({**shapes, **ordinary})
    assert {k: shown[k] for k in shapes} == dict.fromkeys(shapes, "***")
    assert {k: shown[k] for k in ordinary} == ordinary
