import logging

import pytest

import toolkit as tk


def test_decorator_and_twin_return_the_function_unchanged():
    app = tk.App("a")

    def greet(name="x"):
        return name

    assert app.handler("/greet")(greet) is greet
    assert app.add_handler("/hello", greet) is greet
    assert greet("direct") == "direct"
    assert set(app.handlers) == {"/greet", "/hello"}


def test_bare_path_defaults_to_function_name():
    app = tk.App("a")

    @app.handler()
    def faq():
        return "ok"

    assert "/faq" in app.handlers


def test_reregistering_replaces_with_a_notice_not_an_error(caplog):
    app = tk.App("a")
    app.add_handler("/x", lambda: "old")
    with caplog.at_level(logging.INFO, logger="toolkit"):
        @app.handler("/x/")
        def new():
            return "new"
    assert app.call("/x")["messages"][0]["config"]["textMessages"][0]["text"] == "new"
    assert "Replaced handler for '/x'" in app.notices[-1]
    assert "Replaced handler" in caplog.text


def test_unknown_path_404_lists_registered_paths(app):
    res = app.test_client().post("/refund")
    assert res.status_code == 404
    err = res.get_json()["error"]
    assert err["message"] == "No handler for '/refund' (registered: /greet)."
    assert "@app.handler('/refund')" in err["hint"]


def test_wrong_method_405_says_which_methods():
    app = tk.App("a")
    app.add_handler("/orders", lambda: None, methods=["POST"])
    res = app.test_client().get("/orders")
    assert res.status_code == 405
    assert "answers POST only, not GET" in res.get_json()["error"]["message"]


def test_unknown_method_name_is_rejected_at_registration():
    with pytest.raises(ValueError, match="Unknown HTTP method FETCH"):
        tk.App("a").add_handler("/x", lambda: None, methods=["FETCH"])


def test_call_reraises_handler_exceptions_test_client_answers_500(app):
    @app.handler("/boom")
    def boom():
        raise KeyError("sku")

    with pytest.raises(KeyError):
        app.call("/boom")
    res = app.test_client().post("/boom")
    assert res.status_code == 500
    err = res.get_json()["error"]
    assert err["handler"] == "boom" and "KeyError" in err["message"] and "traceback" not in err
    assert "Traceback" in app.log.last().traceback


def test_client_errors_carry_no_traceback_handler_errors_do(app):
    """A 400 or 404 is the request's fault: its message says what to fix, and no internal traceback
    shows in the log, its DataFrame or the log view's detail pane."""
    from toolkit.widgets.logtable import detail_html

    @app.handler("/boom")
    def boom():
        raise KeyError("sku")

    @app.handler("/order")
    def order(order_id: str):
        return order_id

    client = app.test_client()
    assert client.post("/order", json={}).status_code == 400
    assert client.post("/nowhere", json={}).status_code == 404
    assert client.post("/boom", json={}).status_code == 500
    bad, missing, crashed = app.log.entries()
    assert bad.error and missing.error and bad.traceback is None and missing.traceback is None
    assert "Traceback" in crashed.traceback and "Traceback" in detail_html(crashed)
    assert "Traceback" not in detail_html(bad) and "Traceback" not in detail_html(missing)
    frame = app.log.to_frame()
    assert frame["traceback"].isna().tolist() == [True, True, False]


def test_call_returns_exactly_what_the_server_sends(app):
    assert app.call("/greet", {"name": "Ada"}) == app.test_client().post(
        "/greet", json={"name": "Ada"}).get_json()


def test_every_call_is_logged_with_handler_and_times(app):
    app.call("/greet", {"name": "Ada", "password": "hunter2"}, headers={"Authorization": "Bearer s"})
    entry = app.log.last()
    assert (entry.method, entry.path, entry.handler, entry.status, entry.source) == (
        "POST", "/greet", "greet", 200, "call")
    assert entry.body == {"name": "Ada", "password": "***"}
    assert entry.headers == {"Authorization": "***"}
    assert entry.total_ms >= entry.handler_ms >= 0


def test_slow_call_is_flagged_and_noticed_once():
    app = tk.App("slow", deadline_s=0.0)
    app.add_handler("/s", lambda: None)
    app.call("/s")
    app.call("/s")
    assert all("slow" in e.flags for e in app.log)
    assert sum("over the deadline" in n for n in app.notices) == 1


def test_health_and_handler_list():
    app = tk.App("shop")
    app.add_handler("/a", lambda: None, methods="GET")
    client = app.test_client()
    assert client.get("/_toolkit/health").get_json() == {"status": "ok", "app": "shop", "handlers": 1}
    assert client.get("/_toolkit/handlers").get_json() == {
        "handlers": [{"path": "/a", "handler": "<lambda>", "methods": ["GET"]}]}


def test_repr_is_short_and_deterministic(app):
    assert repr(app) == "<App 'test': 1 handler>"
    app.add_handler("/b", lambda: None)
    assert repr(app) == "<App 'test': 2 handlers>"


def test_in_process_call_skips_access_control_unless_asked():
    app = tk.App("guarded", auth_bearer="s3cr3t-token")
    app.add_handler("/a", lambda: "ok")
    assert app.call("/a")["messages"]
    with pytest.raises(tk.Unauthorized):
        app.call("/a", check_access=True)
    assert app.call("/a", check_access=True, headers={"Authorization": "Bearer s3cr3t-token"})["messages"]
    assert app.test_client().post("/a").status_code == 401


def test_no_function_of_the_app_or_the_server_layer_is_over_40_lines():
    import ast
    from pathlib import Path

    root = Path(tk.__file__).parent
    files = [root / "app.py", *sorted((root / "server").glob("*.py")), *sorted((root / "deploy").glob("*.py"))]
    long = [f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in files for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 40]
    assert long == []


def test_app_flask_is_built_once_and_test_client_runs_it():
    app = tk.App("f")
    app.add_handler("/a", lambda: "handler")
    app.flask.add_url_rule("/plain", "plain", lambda: "flask")
    assert app.flask is app.flask
    client = app.test_client()
    assert client.get("/plain").data == b"flask"
    assert client.post("/a").get_json() == app.call("/a")


def test_a_json_answer_is_sent_as_is_with_its_status_and_headers():
    from toolkit.reply import JsonAnswer

    app = tk.App("json-answer")
    app.add_handler("/health", lambda: JsonAnswer({"ok": True, "items": [1, 2]}, 207, {"X-Extra": "yes"}))
    response = app.handle(tk.Incoming("GET", "/health"))
    assert (response.status, response.body, response.headers) == (207, {"ok": True, "items": [1, 2]},
                                                                  {"X-Extra": "yes"})
    answer = app.test_client().get("/health")
    assert answer.status_code == 207 and answer.get_json() == {"ok": True, "items": [1, 2]}
    assert answer.headers["X-Extra"] == "yes" and app.log.last().response == {"ok": True, "items": [1, 2]}


def test_a_public_handler_skips_the_apps_access_control_and_only_it():
    app = tk.App("public", auth_bearer="s3cret")
    app.add_handler("/hook", lambda: "ok", public=True)
    app.add_handler("/orders", lambda: "ok")
    client = app.test_client()
    assert client.post("/hook", json={}).status_code == 200
    assert client.post("/orders", json={}).status_code == 401
    app.add_handler("/hook", lambda: "ok")  # re-registered without public: checked again
    assert client.post("/hook", json={}).status_code == 401
    with pytest.raises(ValueError, match="public=True needs a static path"):
        app.add_handler("/hooks/<name>", lambda name: "ok", public=True)


def test_handle_takes_one_incoming_request_and_answers_like_the_server():
    app = tk.App("incoming")
    app.add_handler("/orders/<order_id>", lambda order_id, q="-", note="": f"{order_id} {q} {note}")
    incoming = tk.Incoming("post", "/orders/A-1", {"q": "x"}, {"X-Channel": "web"}, b'{"note": "hi"}',
                           source="emulator")
    with pytest.raises(AttributeError):
        incoming.path = "/other"  # type: ignore[misc]  # frozen: one request, as it arrived
    response = app.handle(incoming)
    assert response.status == 200
    assert response.body["messages"][0]["config"]["textMessages"][0]["text"] == "A-1 x hi"
    entry = app.log.last()
    assert (entry.method, entry.path, entry.source, entry.query) == ("POST", "/orders/A-1", "emulator", {"q": "x"})
    served = app.test_client().post("/orders/A-1?q=x", data=b'{"note": "hi"}', headers={"X-Channel": "web"})
    assert served.get_json() == response.body


def test_handle_answers_errors_unless_asked_to_raise_them():
    app = tk.App("incoming-errors")

    @app.handler("/boom")
    def boom():
        raise KeyError("sku")

    assert app.handle(tk.Incoming("POST", "/boom")).status == 500
    with pytest.raises(KeyError):
        app.handle(tk.Incoming("POST", "/boom"), raise_errors=True)
    refused = tk.App("locked", auth_bearer="s3cret")
    refused.add_handler("/a", lambda: "ok")
    assert refused.handle(tk.Incoming("POST", "/a")).status == 401
    assert refused.handle(tk.Incoming("POST", "/a"), check_access=False).status == 200


def test_notice_and_masker_are_the_public_waist_for_other_layers(caplog):
    app = tk.App("waist", sensitive_keys="iban")
    with caplog.at_level(logging.INFO, logger="toolkit"):
        app.notice("Server 'waist' stopped.")
    assert app.notices[-1] == "Server 'waist' stopped." and "Server 'waist' stopped." in caplog.text
    for i in range(150):
        app.notice(f"n{i}")
    assert len(app.notices) == 100 and app.notices[-1] == "n149"  # the last 100 are kept
    assert app.masker.sensitive("Iban") and not app.masker.sensitive("password")
    with pytest.raises(AttributeError):
        app.masker = app.masker  # type: ignore[misc]  # read-only: configure() replaces it
    app.configure(sensitive_keys="password")
    assert app.masker.sensitive("password") and not app.masker.sensitive("iban")


# --- old names: one more release, with a DeprecationWarning ------------------------------------


def test_old_name_response_warns_and_is_outgoing():
    with pytest.warns(DeprecationWarning, match=r"toolkit\.Response is deprecated.*toolkit\.Outgoing"):
        old = tk.Response  # type: ignore[attr-defined]
    assert old is tk.Outgoing
    with pytest.warns(DeprecationWarning, match="toolkit.Outgoing"):
        from toolkit import Response  # noqa: F401
    with pytest.warns(DeprecationWarning, match="toolkit.Outgoing"):
        from toolkit.app import Response as Old  # noqa: F401
    assert Old is tk.Outgoing
    app = tk.App("outgoing")
    app.add_handler("/a", lambda: "ok")
    assert isinstance(app.handle(tk.Incoming("GET", "/a")), tk.Outgoing)


def test_old_name_flask_app_warns_and_is_app_flask():
    app = tk.App("old-flask")
    with pytest.warns(DeprecationWarning, match=r"app\.flask_app is deprecated.*use app\.flask"):
        old = app.flask_app
    assert old is app.flask


def test_old_name_list_warns_and_is_list_message():
    card = tk.card("A", "a")
    with pytest.warns(DeprecationWarning, match=r"toolkit\.list_ is deprecated.*toolkit\.list_message"):
        old = tk.list_  # type: ignore[attr-defined]
    assert old is tk.list_message and old([card]) == tk.list_message(card)
    with pytest.warns(DeprecationWarning, match="list_message"):
        from toolkit.messages import list_  # noqa: F401


def test_new_names_do_not_warn():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app = tk.App("new-names")
        assert app.flask is not None and tk.list_message and tk.Outgoing and tk.Incoming
