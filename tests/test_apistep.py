"""ApiStep: the request built exactly as configured (every row type, every method, the settings for
what Chatlayer leaves open), the reply applied in Chatlayer's order, both redirect forms, the error
paths, and the reply shapes real Chatlayer backends publish."""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest

import toolkit as tk
from toolkit.errors import ApiStepError, TemplateError
from toolkit.server.engine import HTTPServer

ROWS = dict(
    query=[("lang", "variable", "internal.preferredLanguage"), ("source", "text", "chatlayer")],
    headers=[("X-User", "variable", "users[0].firstname"), ("X-Amount", "variable", "amount")],
    body=[("orderId", "variable", "order.id"), ("amount", "variable", "amount"), ("first", "variable", "users[0].firstname"),
          ("order", "variable", "order"), ("tags", "variable", "tags"), ("vip", "variable", "vip"),
          ("okBlock", "dialogstate", "order found"), ("test", "text", "5")],
)
BLOCK_IDS = {"order found": "7b1e0c9a-5d7e-4c3e-9a55-1d2a3b4c5d6e"}


@pytest.fixture
def session() -> tk.Session:
    return tk.Session({"order": {"id": "A-1042", "status": "processing"}, "amount": 500, "vip": True,
                       "users": [{"firstname": "Ada"}], "tags": ["gift", 2]}, preferred_language="nl")


@pytest.fixture
def echo() -> tk.App:
    """A backend that answers with what it received, for any method."""
    app = tk.App("echo")

    @app.handler("/echo")
    def echo(request: tk.Request):
        seen = {"method": request.method, "query": dict(request.query), "body": dict(request.body),
                "headers": {k.lower(): v for k, v in request.headers.items()}, "raw": request.raw.decode()}
        return tk.Reply(session={"seen": seen})

    return app


def test_rows_of_every_type_in_every_tab(session):
    step = tk.ApiStep("POST", "/orders", **ROWS)
    request = step.build(session, resolve=lambda ref: BLOCK_IDS[ref])
    assert request.query == {"lang": "nl", "source": "chatlayer"}
    assert request.headers == {"X-User": "Ada", "X-Amount": "500", "Content-Type": "application/json"}
    assert request.body == {"orderId": "A-1042", "amount": 500, "first": "Ada",
                            "order": {"id": "A-1042", "status": "processing"}, "tags": ["gift", 2], "vip": True,
                            "okBlock": "7b1e0c9a-5d7e-4c3e-9a55-1d2a3b4c5d6e", "test": "5"}
    assert json.loads(request.raw) == request.body  # numbers stay numbers on the wire
    assert request.full_url == "/orders?lang=nl&source=chatlayer"
    assert not request.missing and not request.notes


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_every_method_reaches_the_backend_as_configured(session, echo, method):
    step = tk.ApiStep(method, "/echo?fixed=1", **ROWS)
    result = step.call(session, echo, resolve=lambda ref: BLOCK_IDS[ref])
    assert result.ok, result.error
    seen = session.get("seen")
    assert seen["method"] == method
    assert seen["query"] == {"fixed": "1", "lang": "nl", "source": "chatlayer"}
    assert seen["headers"]["x-user"] == "Ada"
    if method == "GET":  # by default only POST, PUT, PATCH and DELETE carry the body rows
        assert seen["raw"] == "" and "content-type" not in seen["headers"] and result.request.body is None
        assert "GET carries no body" in result.request.notes[0]
    else:
        assert seen["body"]["amount"] == 500 and seen["body"]["okBlock"] == BLOCK_IDS["order found"]
        assert seen["headers"]["content-type"] == "application/json"


def test_settings_for_what_chatlayer_leaves_open(session):
    step = tk.ApiStep("PUT", "/o/{order.id}", body=[("order.id", "variable", "order.id"), ("n", "variable", "amount"),
                                                    ("t", "text", "{users[0].firstname}")], auth=("bearer", "{amount}"))
    plain = step.build(session)
    assert plain.url == "/o/A-1042" and plain.body == {"order.id": "A-1042", "n": 500, "t": "{users[0].firstname}"}
    assert plain.headers["Authorization"] == "Bearer {amount}"
    s = tk.Settings(emulator_keep_types=False, emulator_nest_keys=True, emulator_interpolate="all",
                    emulator_content_type=False)
    other = step.build(session, settings=s)
    assert other.body == {"order": {"id": "A-1042"}, "n": "500", "t": "Ada"}
    assert other.headers == {"Authorization": "Bearer 500"}
    assert step.build(session, settings=tk.Settings(emulator_interpolate="none")).url == "/o/{order.id}"
    assert step.build(session, settings=tk.Settings(emulator_body_methods="POST,DELETE")).body is None


def test_auth_tab_basic_and_bearer(session):
    basic = tk.ApiStep("POST", "/x", auth=("basic", "ada", "s3cret")).build(session)
    assert basic.headers["Authorization"] == "Basic " + base64.b64encode(b"ada:s3cret").decode()
    assert tk.ApiStep("POST", "/x", auth={"bearer": "tok"}).build(session).headers["Authorization"] == "Bearer tok"
    assert tk.ApiStep("POST", "/x", auth={"type": "basic", "username": "u", "password": "p"}).auth == ("basic", "u", "p")
    with pytest.raises(ApiStepError, match="Basic or Bearer"):
        tk.ApiStep("POST", "/x", auth=("digest", "u", "p"))


def test_bad_configuration_fails_at_once_naming_the_fix():
    with pytest.raises(ApiStepError, match="type 'varaible'. Did you mean 'variable'"):
        tk.ApiStep("POST", "/x", body=[("a", "varaible", "b")])
    with pytest.raises(ApiStepError, match=r"row 1 is \('a', 'text'\)"):
        tk.ApiStep("POST", "/x", body=[("a", "text")])
    with pytest.raises(ApiStepError, match="not one of Chatlayer's"):
        tk.ApiStep("FETCH", "/x")
    with pytest.raises(tk.ToolkitError, match="not a session path"):
        tk.ApiStep("POST", "/x", body=[("a", "variable", "users[x]")])
    with pytest.raises(ApiStepError, match="is a path, and no target"):
        tk.ApiStep("POST", "/x").call(tk.Session())


def test_missing_variables_in_rows_follow_the_setting(session):
    step = tk.ApiStep("POST", "/x", body=[("a", "variable", "nope.deep")])
    empty = step.build(session)
    assert empty.body == {"a": ""} and empty.missing == ("nope.deep",)
    assert step.build(session, settings=tk.Settings(missing_variable="keep")).body == {"a": "{nope.deep}"}
    with pytest.raises(TemplateError, match="session has no nope.deep"):
        step.build(session, settings=tk.Settings(missing_variable="error"))


def test_hmac_setting_signs_the_body():
    app = tk.App("signed", hmac_secret="k3y")

    @app.handler("/x")
    def x():
        return "ok"

    assert tk.ApiStep("POST", "/x", hmac="k3y").call(tk.Session(), app).ok
    refused = tk.ApiStep("POST", "/x").call(tk.Session(), app)
    assert refused.status == 401 and refused.error.kind == "status"


# --- applying the reply -------------------------------------------------------------------------


def _app_answering(wire) -> tk.App:
    app = tk.App("fixed")
    app.add_handler("/step", lambda: wire)
    return app


def test_a_message_shows_the_value_its_own_reply_wrote(session):
    wire = {"session": {"namespace": "order", "data": {"status": "shipped"}},
            "messages": [tk.text("Order {order.id} is {order.status|toUpperCase}.")],
            "action": {"nextDialogstate": "block-9"}}
    result = tk.ApiStep("POST", "/step").call(session, _app_answering(wire))
    assert result.messages == [tk.text("Order A-1042 is SHIPPED.")]  # session first, then messages
    assert session.get("order") == {"id": "A-1042", "status": "shipped"}  # merged member-wise
    assert result.next_dialogstate == "block-9" and result.status == 200
    assert repr(result) == "<StepResult POST /step -> 200: 1 message, next 'block-9'>"


@pytest.mark.parametrize("redirect", [
    {"action": {"nextDialogstate": "b-7"}},  # every worked example and public backend
    {"nextDialogstate": "b-7"},  # the prose of the docs
    {"nextDialogstate": "b-7", "action": {"nextDialogstate": "b-7"}},  # toolkit's default: both
])
def test_both_redirect_forms(redirect):
    result = tk.ApiStep("POST", "/step").call(tk.Session(), _app_answering(redirect))
    assert result.ok and result.next_dialogstate == "b-7"


# --- a foreign backend over real HTTP, for what toolkit's own App never sends ------------------


class _Foreign:
    """A loopback HTTP backend answering a canned status, body and content type (optionally slowly)."""

    def __init__(self) -> None:
        self.status, self.body, self.ctype, self.delay = 200, "{}", "application/json", 0.0
        self.release = threading.Event()
        self.requests: list[dict] = []
        self._server = HTTPServer(self._wsgi, "127.0.0.1", 0, name="foreign")
        self._server.start()
        self.url = f"http://127.0.0.1:{self._server.port}"

    def answer(self, status: int, body: str, ctype: str = "application/json", delay: float = 0.0) -> bool:
        self.status, self.body, self.ctype, self.delay = status, body, ctype, delay
        return True

    def _wsgi(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.requests.append({"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"],
                              "query": environ.get("QUERY_STRING", ""),
                              "body": environ["wsgi.input"].read(length).decode() if length else ""})
        if self.delay:
            self.release.wait(self.delay)
        start_response(f"{self.status} X", [("Content-Type", self.ctype)])
        return [self.body.encode()]

    def stop(self) -> None:
        self.release.set()
        self._server.stop()


@pytest.fixture
def foreign():
    server = _Foreign()
    yield server
    server.stop()


def _call(foreign, *, settings=None, session=None):
    session = session if session is not None else tk.Session({"order": {"id": "A-1042"}})
    step = tk.ApiStep("POST", foreign.url + "/hook", body=[("orderId", "variable", "order.id")])
    return step.call(session, settings=settings), session


def test_status_500_is_an_error_log_entry_and_nothing_is_applied(foreign):
    foreign.answer(500, json.dumps({"error": {"message": "database down"}}))
    result, session = _call(foreign)
    assert result.error.kind == "status" and result.status == 500
    assert "answered 500: database down" in result.error.message
    assert result.error.response and result.error.request.body == {"orderId": "A-1042"}
    assert result.messages == [] and result.next_dialogstate is None and session.data == {"order": {"id": "A-1042"}}


def test_a_handler_error_in_process_is_a_500_entry():
    app = tk.App("boom")

    @app.handler("/step")
    def step():
        raise KeyError("nope")

    result = tk.ApiStep("POST", "/step").call(tk.Session(), app)
    assert result.status == 500 and "raised KeyError" in result.error.message
    assert app.log.last().source == "emulator" and app.log.last().status == 500


def test_timeout_over_http_and_in_process(foreign):
    quick = tk.Settings(emulator_timeout_s=0.2)
    foreign.answer(200, "{}", delay=5)
    result, _ = _call(foreign, settings=quick)
    assert result.error.kind == "timeout" and "within 0.2 s" in result.error.message
    foreign.release.set()
    release = threading.Event()
    app = tk.App("slow")
    app.add_handler("/slow", lambda: release.wait(5) and "late")
    try:
        slow = tk.ApiStep("POST", "/slow").call(tk.Session(), app, settings=quick)
    finally:
        release.set()
    assert slow.error.kind == "timeout" and "emulator_timeout_s" in slow.error.message


def test_invalid_json_empty_body_and_invalid_reply(foreign):
    foreign.answer(200, "<html>oops</html>", "text/html")
    bad, _ = _call(foreign)
    assert bad.error.kind == "invalid_json" and "<html>oops" in bad.error.message
    foreign.answer(200, "")  # real backends answer an empty 200 and work (contract 8.12): nothing to apply
    assert _call(foreign)[0].ok and _call(foreign, settings=tk.Settings(emulator_empty_reply="ok"))[0].ok
    assert _call(foreign, settings=tk.Settings(emulator_empty_reply="error"))[0].error.kind == "empty"
    assert _call(foreign, settings=tk.Settings(strict_replies=True))[0].error.kind == "empty"
    foreign.answer(200, json.dumps({"sessions": {}}))  # a typo is dropped, not fatal, and said so
    typo, _ = _call(foreign)
    assert typo.ok and typo.reply == {} and "Did you mean 'session'?" in typo.warnings[0]
    foreign.answer(200, json.dumps({"session": "order"}))
    invalid, _ = _call(foreign)
    assert invalid.error.kind == "invalid_reply" and "session must be an object" in invalid.error.message


def test_redirect_forms_that_disagree_are_an_error_log_entry(foreign):
    foreign.answer(200, json.dumps({"nextDialogstate": "a", "action": {"nextDialogstate": "b"}}))
    result, _ = _call(foreign)
    assert result.error.kind == "invalid_reply" and "differ" in result.error.message


def test_an_unreachable_backend_is_a_connection_entry(foreign):
    url = foreign.url
    foreign.stop()
    result = tk.ApiStep("POST", url + "/x").call(tk.Session(), settings=tk.Settings(emulator_timeout_s=2))
    assert result.error.kind == "connection" and "Is the server running" in result.error.message


# The reply shapes public Chatlayer backends send (contract §2 and its sources S24, S25, S26, S33).
REAL_REPLIES = {
    "faktion-connector": ({"action": {"nextDialogstate": "ok-ds"},
                           "session": {"namespace": "broadcasts", "data": [{"title": "Morning show"}]}},
                          "application/json", "broadcasts[0].title", "Morning show", []),
    "csharp-plugin": ({"session": {"namespace": "namespace", "data": {"variable": "testVa"}},
                       "messages": [{"type": "text", "config": {"textMessages": [{"text": "Sales"}]}}],
                       "action": {"nextDialogstate": "d6868da1-3908-4cd5-a9ef-3d57510fc811"}},
                      "application/json; charset=utf-8", "namespace.variable", "testVa", ["Sales"]),
    "node-demo-text-html": ({"action": {"nextDialogstate": "ok-ds"},
                             "session": {"namespace": "order", "data": {"price": "41.37"}}},
                            "text/html", "order.price", "41.37", []),
    "nextjs-text-only": ({"session": {"namespace": "order", "data": {"status": "shipped"}},
                          "messages": [{"type": "text", "config": {"textMessages": [{"text": "It is {order.status}"}]}}]},
                         "application/json", "order.status", "shipped", ["It is shipped"]),
    "prose-top-level-redirect": ({"nextDialogstate": "ok-ds"}, "application/json", "order.id", "A-1042", []),
    "faktion-connector-no-redirect": ({"action": {}}, "application/json", "order.id", "A-1042", []),
    "hand-written-success-flag": ({"success": True, "action": {"nextDialogstate": "ok-ds"}},
                                  "application/json", "order.id", "A-1042", []),
}


@pytest.mark.parametrize("name", list(REAL_REPLIES))
def test_reply_shapes_of_real_backends_are_accepted(foreign, name):
    wire, ctype, path, value, texts = REAL_REPLIES[name]
    foreign.answer(200, json.dumps(wire), ctype)
    result, session = _call(foreign)
    assert result.ok, result.error
    assert session.get(path) == value
    assert [m["config"]["textMessages"][0]["text"] for m in result.messages] == texts
    assert result.next_dialogstate == (wire.get("action") or wire).get("nextDialogstate")
    assert [w.split(" (")[0] for w in result.warnings] == (
        ["Dropped the top-level key 'success'"] if "success" in wire else [])


def test_targets_app_server_base_url_and_full_url(echo, session):
    step = tk.ApiStep("POST", "/echo", body=[("n", "variable", "amount")])
    assert step.call(session, echo).ok and echo.log.last().source == "emulator"
    with echo.serve(port=0) as server:
        for target in (server, server.url, server.url + "/"):
            session.set("seen", None)
            assert step.call(session, target).ok and session.get("seen.body") == {"n": 500}
        full = tk.ApiStep("POST", server.url + "/echo", body=[("n", "variable", "amount")]).call(session)
        assert full.ok and full.request.url == server.url + "/echo"
    assert [e.source for e in echo.log.entries()][-1] == "http"


def test_repr_is_short():
    step = tk.ApiStep("get", "/orders", query=[("id", "variable", "order.id")], auth=("bearer", "t"))
    assert repr(step) == "ApiStep('GET', '/orders', query=['id'], auth='bearer')"


# --- playing a chosen Chatlayer (issue 15 point 7) ------------------------------------------------------


def test_scheme_chooses_signature_content_type_and_types(session, echo):
    scheme = {"hmac_header": "X-Never-Seen", "hmac_algorithm": "sha512", "hmac_encoding": "base64",
              "hmac_signed": "timestamp+body", "hmac_timestamp_header": "X-When",
              "emulator_content_type": False, "emulator_keep_types": False}
    step = tk.ApiStep("POST", "/echo", body=[("amount", "variable", "amount"), ("order", "variable", "order")],
                      hmac="k", scheme=scheme, clock=lambda: 1767225600.0)
    request = step.build(session)
    assert "Content-Type" not in request.headers and request.body == {
        "amount": "500", "order": '{"id":"A-1042","status":"processing"}'}
    assert request.headers["X-When"] == "1767225600" and "X-Signature" not in request.headers
    settings = tk.Settings(hmac_secret="k", **{k: v for k, v in scheme.items() if k.startswith("hmac_")})
    from toolkit.access import verify_hmac
    verify_hmac(request.raw, request.headers, settings, now=1767225600.0)
    assert step.build(session).headers == request.headers  # the fixed clock: the same signature
    echo.configure(emulator_keep_types=True)
    assert step.call(session, echo).request.body["amount"] == "500"  # the step's scheme wins over the app


def test_retries_send_the_identical_request_again_after_each_timeout():
    app = tk.App("slow")
    seen: list[bytes] = []
    release = threading.Event()

    @app.handler("/slow")
    def slow(request: tk.Request):
        seen.append(request.raw)
        release.wait(10)
        return "late"

    step = tk.ApiStep("POST", "/slow", body=[("n", "text", "1")],
                      scheme={"emulator_timeout_s": 0.3, "emulator_retries": 2})
    try:
        with app.serve(port=0) as server:
            result = step.call(tk.Session(), server.url)
            assert result.error.kind == "timeout" and result.attempts == 3
            assert "(3 attempts)" in result.error.message
            deadline = time.monotonic() + 10
            while len(seen) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert seen == [b'{"n": "1"}'] * 3
    finally:
        release.set()
    assert tk.ApiStep("POST", "/x", scheme={"emulator_retries": 1}).call(tk.Session(), app).attempts == 1
