"""toolkit.request: a body nested too deep is a 400 before it is parsed (no recursion at any depth),
in the one error shape, naming the limit and the fix; the server keeps answering and every reader of
the log copes with whatever it holds. Each hostile input goes to a real server (``app.serve``)."""

from __future__ import annotations

import json

import pytest
from hostile import DEEP_MARKER, assert_error_shape, send, serving, still_fine

import toolkit as tk
from toolkit.errors import BadRequest, ConfigError
from toolkit.log import Masker
from toolkit.request import DEPTH_CEILING, parse_body, too_deep


def nested_arrays(n: int) -> bytes:
    return b"[" * n + b"]" * n


def nested_objects(n: int, key: bytes = b'"a"') -> bytes:
    return b"{" + key + b":" + (b"{" + key + b":") * (n - 1) + b"1" + b"}" * n


def mixed(n: int) -> bytes:
    return b'{"a":' + b'[{"b":' * ((n - 1) // 2) + b"1" + b"}]" * ((n - 1) // 2) + b"}"


def shop() -> tk.App:
    app = tk.App("deep-shop")

    @app.handler("/orders")
    def orders(**params):
        return f"{len(params)} keys"

    return app


TOO_DEEP = {
    "65 arrays": nested_arrays(65),
    "300 arrays (under 1 KB)": nested_arrays(300),
    "300 objects": nested_objects(300),
    "300 mixed": mixed(301),
    "1,000 objects with a password inside": nested_objects(1000, b'"password"'),
    "100,000 arrays": nested_arrays(100_000),
    "100,000 objects": nested_objects(100_000),
    "deep below a good member": b'{"ok": 1, "x": ' + nested_arrays(500) + b"}",
    "deep and never closed": b'{"a": ' + b"[" * 5000,
    "deep with a BOM": b"\xef\xbb\xbf" + nested_arrays(200),
}


@pytest.mark.parametrize("raw", list(TOO_DEEP.values()), ids=list(TOO_DEEP))
def test_too_deep_a_body_is_a_400_naming_the_limit_and_the_server_and_log_cope(raw, tmp_path):
    app = shop()
    with serving(app) as server:
        status, body = send(server, "POST", "/orders", raw, {"Content-Type": "application/json"})
        err = assert_error_shape(body, 400, "bad_request")
        assert "more than 64 levels deep" in err["message"] and "max_body_depth" in err["message"]
        assert "flatter" in err["hint"] and "max_body_depth" in err["hint"]
        assert send(server, "POST", "/orders", b'{"a": 1, "b": [[1]]}')[0] == 200
        logged = app.log.entries()[0]
        assert logged.status == 400 and logged.body.startswith(DEEP_MARKER)  # not kept: no recursion
        still_fine(app, server, tmp_path, secrets=["password\": 1"])


@pytest.mark.parametrize("raw", [
    b"{\"a\": " + nested_arrays(63) + b"}",  # exactly 64 levels
    b'{"text": "' + b"[{" * 5000 + b'"}',  # brackets inside a string do not nest
    b'{"t": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\\"}',
    json.dumps({"rows": [{"id": i, "tags": [[i]]} for i in range(2000)]}).encode(),  # many, not deep
], ids=["64 levels", "brackets in a string", "escaped quotes", "wide"])
def test_bodies_up_to_the_limit_are_served_and_kept(raw, tmp_path):
    app = shop()
    with serving(app) as server:
        assert send(server, "POST", "/orders", raw)[0] == 200
        assert not str(app.log.last().body).startswith(DEEP_MARKER)
        still_fine(app, server, tmp_path)


@pytest.mark.parametrize("limit", [1, 3, 10, DEPTH_CEILING])
def test_the_limit_is_the_max_body_depth_setting(limit, tmp_path):
    app = shop()
    app.configure(max_body_depth=limit)
    ok = b"{\"a\": " + (nested_arrays(limit - 1) or b"1") + b"}"
    deep = b'{"a": ' + nested_arrays(limit) + b"}"
    with serving(app) as server:
        assert send(server, "POST", "/orders", ok)[0] == 200
        status, body = send(server, "POST", "/orders", deep)
        assert f"more than {limit} levels deep" in assert_error_shape(body, 400, "bad_request")["message"]
        still_fine(app, server, tmp_path)


@pytest.mark.parametrize("bad", [0, -1, DEPTH_CEILING + 1, 100_000])
def test_a_depth_limit_out_of_range_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="max_body_depth' must be from 1 to 128"):
        tk.App("x", max_body_depth=bad)
    app = tk.App("x")
    with pytest.raises(ConfigError, match="max_body_depth"):
        app.configure(max_body_depth=bad)


def test_a_body_with_a_byte_order_mark_reads_like_one_without_and_a_bad_byte_is_placed():
    assert parse_body(b'\xef\xbb\xbf {"orderId": "A-1", "name": "Zo\xc3\xab"}') == {"orderId": "A-1",
                                                                                "name": "Zo\u00eb"}
    assert parse_body(b"\xef\xbb\xbf") == {}
    for raw, where in ((b'{"a": "\xff"}', 7), (b'\xef\xbb\xbf{"a": "\xff"}', 10)):  # from the first byte
        with pytest.raises(BadRequest, match=f"bad byte at position {where}"):
            parse_body(raw)


def test_a_form_body_with_brackets_is_still_a_form():
    body = parse_body(b"q=" + b"[" * 500, "application/x-www-form-urlencoded", max_depth=3)
    assert body == {"q": "[" * 500}


@pytest.mark.parametrize("text,limit,deep", [
    ("{}", 0, True), ("{}", 1, False), ("[[]]", 1, True), ('["[[[["]', 1, False),
    ('{"a": "\\\\"}', 1, False), ('{"a": "\\"["}', 1, False), ("[" * 10**6, 100, True),
    ('{"a": [1, {"b": [2]}], "c": {}}', 4, False), ('{"a": [1, {"b": [2]}], "c": {}}', 3, True),
])
def test_too_deep_counts_only_real_nesting(text, limit, deep):
    assert too_deep(text, limit) is deep
    assert too_deep(text.encode(), limit) is deep


def test_parsing_never_raises_a_recursion_error_whatever_the_limit():
    for raw in (nested_arrays(200_000), nested_objects(50_000), mixed(100_001)):
        with pytest.raises(BadRequest, match="levels deep"):
            parse_body(raw, max_depth=DEPTH_CEILING)


# --- the log copes with any value it is handed ------------------------------------------------


def deep_value(n: int) -> list:
    value: list = []
    for _ in range(n):
        value = [value]
    return value


def test_masking_is_iterative_and_keeps_no_value_deeper_than_the_limit():
    masker = Masker(("password",), depth=5)
    copy = masker({"a": deep_value(50_000), "password": "x", "b": [{"PassWord": 1}]})
    assert copy["password"] == "***" and copy["b"] == [{"PassWord": "***"}]
    level, node = 1, copy["a"]
    while isinstance(node, list):
        level, node = level + 1, node[0]
    assert level == 5 and node == "…[cut: nested more than 5 levels deep]"
    json.dumps(copy)  # every reader can encode it


def test_a_handler_reply_nested_deeper_than_the_limit_is_kept_as_a_marker(tmp_path):
    app = tk.App("deep-reply", max_body_depth=8)

    @app.handler("/tree")
    def tree():
        return tk.Reply(session={"tree": deep_value(50)})

    with serving(app) as server:
        status, body = send(server, "POST", "/tree", b"{}")
        assert status == 200 and "tree" in json.dumps(body)
        assert app.log.last().response.startswith(DEEP_MARKER)
        still_fine(app, server, tmp_path)


HOSTILE_STRINGS = {  # each made the depth scan (and the log's masking) restart inside every string
    "escaped quotes, never closed": b'"\\' * 300_000 + b"[" * 70,
    "a long string, never closed": b"[" * 70 + b'"' + b"a" * 600_000,
    "quotes only": b"[" * 70 + b'"' * 600_000,
    "backslashes only": b'{"a": "' + b"\\" * 600_001,
}


@pytest.mark.parametrize("raw", list(HOSTILE_STRINGS.values()), ids=list(HOSTILE_STRINGS))
def test_hostile_strings_are_a_400_at_once_and_the_log_copes(raw, tmp_path):
    """Linear scans: these took minutes before (a 60 KB one 28 s); bench/bench_request.py measures it."""
    app = shop()
    with serving(app) as server:
        status, body = send(server, "POST", "/orders", raw)
        assert_error_shape(body, 400, "bad_request")
        still_fine(app, server, tmp_path)


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 20_000, "[" * 65 + "]" * 65])
def test_a_too_deep_json_text_for_a_list_or_dict_parameter_is_a_400(text, tmp_path):
    """A parameter typed list or dict parses a text value as JSON: bounded by the same setting."""
    app = tk.App("deep-param")

    @app.handler("/rows")
    def rows(rows: list, options: dict | None = None):
        return f"{len(rows)} rows"

    with serving(app) as server:
        status, body = send(server, "POST", "/rows", json.dumps({"rows": text}).encode())
        assert "'rows' must be list" in assert_error_shape(body, 400, "bad_request")["message"]
        assert send(server, "POST", "/rows", json.dumps({"rows": "[[1], [2]]"}).encode())[0] == 200
        still_fine(app, server, tmp_path)
