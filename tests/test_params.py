import pytest

import toolkit as tk


@pytest.fixture
def app():
    return tk.App("params")


def test_values_by_name_with_precedence_path_body_query(app):
    @app.handler("/orders/<order_id>")
    def order(order_id, lang="en", channel="web"):
        return tk.Reply(session={"x": {"id": order_id, "lang": lang, "channel": channel}})

    out = app.call("/orders/A-1", {"order_id": "body", "lang": "nl"},
                   query={"order_id": "q", "lang": "q", "channel": "whatsapp"})
    assert out["session"]["data"] == {"id": "A-1", "lang": "nl", "channel": "whatsapp"}


@pytest.mark.parametrize("hint,sent,expected", [
    (int, "42", 42), (int, 42.0, 42), (int, " 7 ", 7), (float, "2.5", 2.5), (float, 3, 3.0),
    (bool, "true", True), (bool, "No", False), (bool, 1, True), (str, 1042, "1042"),
    (dict, '{"a": 1}', {"a": 1}), (list, [1, 2], [1, 2]), (int | None, None, None),
    (str | None, "x", "x"),
])
def test_type_hints_convert(app, hint, sent, expected):
    def h(value: hint):  # type: ignore[valid-type]
        return tk.Reply(session={"v": {"value": value}})

    app.add_handler("/h", h)
    got = app.call("/h", {"value": sent})["session"]["data"]["value"]
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("hint,sent", [
    (int, "forty"), (int, 2.5), (int, True), (float, "x"), (bool, "maybe"), (dict, [1]),
    (list, "nope"), (str, {"a": 1}), (int, None),
])
def test_unconvertible_value_is_400_naming_key_value_and_type(app, hint, sent):
    def h(value: hint):  # type: ignore[valid-type]
        return None

    app.add_handler("/h", h)
    res = app.test_client().post("/h", json={"value": sent})
    assert res.status_code == 400
    err = res.get_json()["error"]
    assert "'value' must be" in err["message"] and repr(sent)[:10] in err["message"]
    assert getattr(hint, "__name__", "") in err["message"]
    assert err["handler"] == "h"


def test_missing_required_parameter_names_handler_key_arrived_keys_and_chatlayer_fix(app):
    @app.handler("/status")
    def order_status(order_id: str, lang: str = "en"):
        return order_id

    res = app.test_client().post("/status", json={"orderId": "A-1", "lang": "nl"})
    assert res.status_code == 400
    err = res.get_json()["error"]
    assert "'order_status' needs 'order_id'" in err["message"]
    assert "keys that arrived: lang, orderId" in err["message"]
    assert "Type 'variable'" in err["hint"] and "Body" in err["hint"]
    with pytest.raises(tk.BadRequest):
        app.call("/status", {})


def test_defaults_are_honoured(app):
    app.add_handler("/d", lambda n=3: "x" * n)
    assert app.call("/d")["messages"][0]["config"]["textMessages"][0]["text"] == "xxx"


def test_request_and_var_keyword(app):
    seen = {}

    @app.handler("/all/<kind>")
    def everything(request: tk.Request, **params):
        seen["request"], seen["params"] = request, params

    app.call("/all/x", {"a": 1}, query={"q": "2"}, headers={"X-Test": "yes"}, method="PUT")
    req = seen["request"]
    assert (req.method, req.path, req.query, req.body) == ("PUT", "/all/x", {"q": "2"}, {"a": 1})
    assert req.headers["x-test"] == "yes" and req.raw == b'{"a": 1}'
    assert seen["params"] == {"q": "2", "a": 1, "kind": "x"}


def test_int_path_converter(app):
    app.add_handler("/items/<int:n>", lambda n: tk.Reply(session={"i": {"n": n}}))
    assert app.call("/items/12")["session"]["data"] == {"n": 12}
    assert app.test_client().post("/items/abc").status_code == 404


def test_body_is_json_whatever_the_content_type_and_forms_still_work(app):
    app.add_handler("/f", lambda a: tk.Reply(session={"x": {"a": a}}))
    client = app.test_client()
    for ctype in ("text/plain", "application/x-www-form-urlencoded", ""):
        res = client.post("/f", data='{"a": "json"}', content_type=ctype)
        assert res.get_json()["session"]["data"] == {"a": "json"}, ctype
    res = client.post("/f", data="a=form", content_type="application/x-www-form-urlencoded")
    assert res.get_json()["session"]["data"] == {"a": "form"}
