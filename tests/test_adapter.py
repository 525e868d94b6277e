"""``app.flask``, the one WSGI app, over real loopback HTTP (waitress, ``app.serve(port=0)``): users'
routes, blueprints and hooks on it are served and apply to handler answers; answers are exact and
equal the test client's; requests as Chatlayer sends them; bad input gets the one JSON error shape
and the server keeps serving."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator

import flask
import pytest
from wire import GREETING, exchange, healthy, make_app, raw_exchange, request, split, text_of

import toolkit as tk
from toolkit.deploy.loader import wsgi_app

SHAPE = {"status", "type", "message", "handler", "hint"}


@pytest.fixture
def served() -> Iterator[tk.Server]:
    server = make_app().serve(port=0)
    yield server
    server.stop()


# --- app.flask is the app that is served ---------------------------------------------------------


def test_app_flask_is_a_real_flask_and_the_one_wsgi_app_everywhere():
    app = make_app()
    assert isinstance(app.flask, flask.Flask)
    assert wsgi_app(app) is app.flask  # toolkit serve and toolkit export
    assert app.test_client().application is app.flask


def test_a_flask_route_and_an_after_request_hook_are_served_and_apply_to_handler_answers():
    app = make_app("hooks")

    @app.flask.get("/healthz")
    def healthz():
        return {"ok": True, "handlers": sorted(app.handlers)}

    @app.flask.after_request
    def cors(response: flask.Response) -> flask.Response:
        response.headers["Access-Control-Allow-Origin"] = "https://app.chatlayer.ai"
        return response

    client = app.test_client()
    with app.serve(port=0) as server:
        status, headers, data = exchange(server.port, "POST", "/greet", {"name": "Ada"})
        assert status == 200 and json.loads(data) == GREETING
        assert headers["Access-Control-Allow-Origin"] == "https://app.chatlayer.ai"
        assert headers["Content-Type"] == "application/json"
        local = client.post("/greet", json={"name": "Ada"})
        assert (local.status_code, local.get_json()) == (status, json.loads(data))
        assert local.headers["Access-Control-Allow-Origin"] == "https://app.chatlayer.ai"

        status, headers, data = exchange(server.port, "GET", "/healthz")
        assert (status, json.loads(data)) == (200, {"ok": True, "handlers": ["/boom", "/greet", "/orders"]})
        assert headers["Access-Control-Allow-Origin"] == "https://app.chatlayer.ai"
        assert healthy(server)
    assert [e.path for e in app.log] == ["/greet", "/greet"]  # Flask's own routes are not handlers


def test_a_before_request_hook_guards_handler_paths_and_a_blueprint_is_served():
    app = make_app("guarded")
    blueprint = flask.Blueprint("admin", __name__, url_prefix="/admin")

    @blueprint.get("/stats")
    def stats():
        return {"calls": len(app.log)}

    @app.flask.before_request
    def only_from_the_office():
        if flask.request.headers.get("X-Office") != "ghent":
            return flask.jsonify({"error": {"status": 403, "type": "forbidden", "message": "Not from "
                                 "the office.", "handler": None, "hint": "Send X-Office."}}), 403
        return None

    app.flask.register_blueprint(blueprint)
    with app.serve(port=0) as server:
        assert request(server, "POST", "/greet", {"name": "Ada"})[0] == 403
        assert request(server, "POST", "/greet", {"name": "Ada"}, {"X-Office": "ghent"}) == (200, GREETING)
        assert request(server, "GET", "/admin/stats", headers={"X-Office": "ghent"}) == (200, {"calls": 1})
    assert len(app.log) == 1  # the refused call never reached the handler


def test_a_handler_redefined_while_serving_answers_on_the_next_request(served):
    app = served.app
    assert text_of(request(served, "POST", "/greet")[1]) == "Hello there!"

    @app.handler("/greet")
    def greet(name: str = "you"):
        return f"Hi {name}, v2"

    @app.handler("/late")
    def late():
        return "added after start"

    assert text_of(request(served, "POST", "/greet")[1]) == "Hi you, v2"
    assert text_of(request(served, "GET", "/late")[1]) == "added after start"


def test_the_server_answers_exactly_like_the_test_client(served):
    client = served.app.test_client()
    cases = [("POST", "/greet?name=Q", b'{"name": "B"}', "Hello B!"), ("GET", "/greet?name=%C3%A9", b"", "Hello é!"),
             ("POST", "/orders", b"{bad", 400), ("PUT", "/orders", b"{}", 405), ("POST", "/nope", b"", 404),
             ("POST", "/orders", b"[1, 2]", 400), ("POST", "/boom", b"{}", 500), ("POST", "/orders", b"{}", 400),
             ("TRACE", "/greet", b"", 405), ("POST", "/greet/", b"", "Hello there!")]
    for method, path, body, expected in cases:
        status, answer = request(served, method, path, body)
        if isinstance(expected, str):
            assert (status, text_of(answer)) == (200, expected), (method, path)
        else:
            assert status == expected and set(answer["error"]) == SHAPE, (method, path)
        res = client.open(path, method=method, data=body)
        assert (status, answer) == (res.status_code, res.get_json()), (method, path)


# --- Flask-level errors keep the one JSON shape -----------------------------------------------------


def expect_error(server: tk.Server, status: int, kind: str, *args, **kwargs) -> dict:
    got, body = request(server, *args, **kwargs)
    assert got == status, body
    err = body["error"]
    assert set(err) == SHAPE  # no traceback by default
    assert err["status"] == status and err["type"] == kind and err["message"] and err["hint"]
    assert healthy(server)
    return err


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECT-ME"])
def test_a_method_no_handler_can_answer_is_405_in_the_json_shape(served, method):
    status, headers, data = exchange(served.port, method, "/greet")
    assert status == 405 and headers["Content-Type"] == "application/json"
    assert json.loads(data)["error"]["type"] == "method_not_allowed"
    assert set(headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    assert healthy(served)


def test_options_is_answered_by_flask_with_the_allowed_methods_and_no_body(served):
    status, headers, data = exchange(served.port, "OPTIONS", "/greet")
    assert (status, data) == (200, b"")
    assert set(headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    assert served.app.log.total == 0  # no handler ran


def test_a_user_route_that_raises_or_aborts_answers_in_the_json_shape():
    app = make_app("routes")

    @app.flask.get("/broken")
    def broken():
        raise ValueError("no stats today")

    @app.flask.get("/gone")
    def gone():
        flask.abort(410)

    with app.serve(port=0) as server:
        err = expect_error(server, 500, "internal_server_error", "GET", "/broken")
        assert err["message"].startswith("GET /broken raised ValueError") and "no stats" not in err["message"]
        err = expect_error(server, 410, "gone", "GET", "/gone")


# --- requests as Chatlayer sends them ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_every_chatlayer_method_is_served(served, method):
    status, body = request(served, method, "/greet?name=Query", {"name": "Body"})
    assert status == 200 and text_of(body) == "Hello Body!"
    assert text_of(request(served, method, "/greet?name=Query")[1]) == "Hello Query!"


def test_head_runs_the_handler_and_sends_no_body(served):
    status, headers, data = exchange(served.port, "HEAD", "/greet")
    assert (status, data) == (200, b"") and headers["Content-Length"] == str(len(json.dumps(
        {"messages": [{"type": "text", "config": {"textMessages": [{"text": "Hello there!"}]}}]})))


def test_body_is_json_whatever_the_content_type_and_empty_is_fine(served):
    for content_type in (None, "text/plain", "application/octet-stream"):
        headers = {"Content-Type": content_type} if content_type else {}
        status, body = request(served, "POST", "/orders", b'{"orderId": "A-1"}', headers)
        assert status == 200 and body["session"] == {"namespace": "order", "data": {"id": "A-1"}}
    assert request(served, "POST", "/greet", b"") == request(served, "POST", "/greet")
    assert text_of(request(served, "POST", "/greet", b"")[1]) == "Hello there!"


def test_keep_alive_serves_many_requests_on_one_connection(served):
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        for i in range(5):
            conn.request("POST", "/greet", body=json.dumps({"name": i}))
            res = conn.getresponse()
            assert res.status == 200 and text_of(json.loads(res.read())) == f"Hello {i}!"
            assert res.getheader("Connection") is None  # HTTP/1.1: kept alive
    finally:
        conn.close()


def test_chunked_body_and_expect_100_continue(served):
    body = b'{"orderId": "CH-7"}'
    chunked = (b"POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:5], body[5:])) + b"0\r\n\r\n")
    status, _, answer = split(raw_exchange(served.port, chunked))
    assert status == 200 and json.loads(answer)["session"]["data"] == {"id": "CH-7"}
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
        s.sendall(b"POST /orders HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue")
        s.sendall(body)
        answer = b"".join(iter(lambda: s.recv(65536), b""))
    assert json.loads(split(answer)[2])["session"]["data"] == {"id": "CH-7"}


def test_reserved_paths_give_health_and_handler_list(served):
    assert healthy(served)
    status, body = request(served, "GET", "/_toolkit/handlers")
    assert status == 200
    assert {h["path"] for h in body["handlers"]} == {"/greet", "/orders", "/boom"}
    assert request(served, "GET", "/_toolkit/nope")[0] == 404


def test_a_doubled_slash_reaches_the_handler_lookup_not_a_redirect(served):
    assert text_of(request(served, "POST", "//greet")[1]) == "Hello there!"
    assert request(served, "POST", "/x//y")[1]["error"]["message"].startswith("No handler for '/x//y'")


def test_a_percent_encoded_utf8_path_reaches_its_handler(served):
    @served.app.handler("/café")
    def cafe():
        return "un café"

    assert text_of(request(served, "POST", "/caf%C3%A9")[1]) == "un café"
    assert served.app.log.last().path == "/café"


# --- bad input: a clear error, and the server keeps serving ---------------------------------------


@pytest.mark.parametrize("path", ["/%00", "/%ff", "/%", "/%C3%28", "/..", "/a%2Fb"])
def test_a_bad_path_is_a_404_in_the_json_shape(served, path):
    err = expect_error(served, 404, "not_found", "POST", path)
    assert err["message"].startswith("No handler for '/") and "(registered: /boom, /greet, /orders)" in err["message"]


def test_malformed_json_is_400(served):
    err = expect_error(served, 400, "bad_request", "POST", "/orders", b'{"orderId": ')
    assert "not valid JSON" in err["message"]


def test_json_that_is_not_an_object_is_400(served):
    for body in (b"[1, 2]", b'"text"', b"42", b"null"):
        err = expect_error(served, 400, "bad_request", "POST", "/orders", body)
        assert "not an object" in err["message"]


def test_a_body_over_the_default_1_mib_limit_is_413(served):
    assert served.app.settings.max_body_bytes == 1024 * 1024
    big = json.dumps({"orderId": "x" * (1024 * 1024)}).encode()
    err = expect_error(served, 413, "payload_too_large", "POST", "/orders", big)
    assert "max_body_bytes" in err["message"]
    assert request(served, "POST", "/orders", json.dumps({"orderId": "x" * 1000}).encode())[0] == 200


def test_a_chunked_body_over_the_limit_is_413():
    with make_app(max_body_bytes=100).serve(port=0) as server:
        data = (b"POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + (b"50\r\n" + b"x" * 80 + b"\r\n") * 3 + b"0\r\n\r\n")
        status, ctype, body = split(raw_exchange(server.port, data))
        assert (status, ctype) == (413, "application/json")
        assert json.loads(body)["error"]["type"] == "payload_too_large"
        assert healthy(server)


def test_unknown_path_is_404_listing_the_registered_paths(served):
    err = expect_error(served, 404, "not_found", "POST", "/refund")
    assert err["message"] == "No handler for '/refund' (registered: /boom, /greet, /orders)."


def test_wrong_method_is_405(served):
    err = expect_error(served, 405, "method_not_allowed", "GET", "/orders")
    assert "answers POST only, not GET" in err["message"]


def test_a_handler_exception_is_500_with_the_traceback_in_the_log_only(served):
    err = expect_error(served, 500, "handler_error", "POST", "/boom")
    assert err["handler"] == "boom" and "KeyError" in err["message"]
    entry = next(e for e in reversed(served.app.log.entries()) if e.path == "/boom")
    assert entry.status == 500 and "Traceback" in entry.traceback and "KeyError" in entry.error


def test_debug_setting_puts_the_traceback_in_the_response():
    with make_app(debug=True).serve(port=0) as server:
        status, body = request(server, "POST", "/boom")
        assert status == 500 and "Traceback" in body["error"]["traceback"]


def test_the_log_masks_secrets_of_served_requests(served):
    request(served, "POST", "/greet", {"name": "Ada", "password": "hunter2"},
            {"Authorization": "Bearer abc", "X-Api-Key": "k", "Cookie": "c=1"})
    entry = served.app.log.last()
    assert entry.source == "http" and entry.body == {"name": "Ada", "password": "***"}
    assert entry.headers["Authorization"] == entry.headers["Cookie"] == entry.headers["X-Api-Key"] == "***"
    assert "hunter2" not in json.dumps(entry.to_dict())


def test_a_slow_call_is_flagged_and_warned_about_once():
    app = make_app(deadline_s=0.0)
    with app.serve(port=0) as server:
        request(server, "POST", "/greet")
        request(server, "POST", "/greet")
    entries = [e for e in app.log if e.path == "/greet"]
    assert len(entries) == 2 and all("slow" in e.flags for e in entries)
    assert all(e.total_ms >= e.handler_ms >= 0 for e in entries)
    assert sum("over the deadline" in n for n in app.notices) == 1
