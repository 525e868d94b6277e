"""The one JSON error body shape, locked: every error the toolkit answers uses it."""

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


def test_non_toolkit_http_errors_use_the_shape_too():
    res = tk.App("x").test_client().open("/x", method="OPTIONS")
    assert res.status_code == 405 or res.status_code == 200  # OPTIONS is answered by Flask itself
    res = tk.App("x").test_client().open("/x", method="TRACE")
    assert res.status_code == 405 and set(res.get_json()["error"]) == SHAPE
