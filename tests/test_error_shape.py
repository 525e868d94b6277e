"""The one JSON error body shape, locked: every error the toolkit answers uses it."""

import flask
import pytest

import toolkit as tk

SHAPE = {"status", "type", "message", "handler", "hint"}


@pytest.fixture
def client():
    app = tk.App("errors", max_body_bytes=100)
    app.add_handler("/need", lambda order_id: None, methods=["POST"])
    app.add_handler("/boom", lambda: 1 / 0)
    app.add_handler("/bad", lambda: 42)
    return app.test_client()


@pytest.mark.parametrize("method,path,data,status,kind", [
    ("POST", "/need", "{", 400, "bad_request"),
    ("POST", "/need", "[1]", 400, "bad_request"),
    ("POST", "/need", "{}", 400, "bad_request"),
    ("POST", "/need", "x" * 200, 413, "payload_too_large"),
    ("POST", "/missing", "", 404, "not_found"),
    ("GET", "/need", "", 405, "method_not_allowed"),
    ("POST", "/boom", "", 500, "handler_error"),
    ("POST", "/bad", "", 500, "invalid_reply"),
])
def test_every_error_has_the_one_shape(client, method, path, data, status, kind):
    res = client.open(path, method=method, data=data)
    assert res.status_code == status
    assert res.content_type == "application/json"
    body = res.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == SHAPE
    assert body["error"]["status"] == status and body["error"]["type"] == kind
    assert body["error"]["message"] and body["error"]["hint"]


def test_debug_adds_the_traceback():
    app = tk.App("dbg", debug=True)
    app.add_handler("/boom", lambda: 1 / 0)
    err = app.test_client().post("/boom").get_json()["error"]
    assert set(err) == SHAPE | {"traceback"} and "ZeroDivisionError" in err["traceback"]


ALLOWED = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "LINK"])
def test_flask_level_405_uses_the_shape_and_lists_the_allowed_methods(method):
    res = tk.App("x").test_client().open("/x", method=method)
    assert res.status_code == 405 and res.content_type == "application/json"
    assert set(res.get_json()) == {"error"} and set(res.get_json()["error"]) == SHAPE
    assert res.get_json()["error"]["type"] == "method_not_allowed"
    assert set(res.headers["Allow"].split(", ")) == ALLOWED


def test_options_is_answered_by_flask_200_with_allow_and_no_body():
    """Decided: OPTIONS is Flask's automatic answer (what a CORS preflight needs), not a handler call."""
    app = tk.App("x")
    res = app.test_client().open("/x", method="OPTIONS")
    assert (res.status_code, res.data) == (200, b"")
    assert set(res.headers["Allow"].split(", ")) == ALLOWED
    assert app.log.total == 0


def test_errors_of_users_flask_routes_use_the_shape_too():
    app = tk.App("x")
    app.flask.add_url_rule("/raises", "raises", lambda: 1 / 0)
    app.flask.add_url_rule("/missing", "missing", lambda: flask.abort(404))
    client = app.test_client()
    for path, status, kind in (("/raises", 500, "internal_server_error"), ("/missing", 404, "not_found")):
        res = client.get(path)
        assert (res.status_code, res.content_type) == (status, "application/json")
        err = res.get_json()["error"]
        assert set(err) == SHAPE and err["status"] == status and err["type"] == kind
        assert err["message"] and err["hint"]
    message = client.get("/raises").get_json()["error"]["message"]  # the text only with expose_errors
    assert message.startswith("GET /raises raised ZeroDivisionError") and "division by zero" not in message


def test_a_flask_level_413_uses_the_shape_with_our_kind():
    app = tk.App("x")
    app.flask.config["MAX_CONTENT_LENGTH"] = 10
    app.flask.add_url_rule("/upload", "upload", lambda: {"got": len(flask.request.get_data())},
                           methods=["POST"])
    res = app.test_client().post("/upload", data=b"x" * 100)
    assert (res.status_code, res.content_type) == (413, "application/json")
    err = res.get_json()["error"]
    assert set(err) == SHAPE and (err["status"], err["type"]) == (413, "payload_too_large")
