"""Calibration end to end and offline: an emulated Chatlayer (``ApiStep`` with a chosen scheme) calls the
probe of an app served on loopback; calibrate finds the scheme, the Content-Type, the types, the
timeout and the retries; ``apply()`` makes the app verify the bot's real signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests

import toolkit as tk
from toolkit.access import sign
from toolkit.errors import CalibrationError

SECRET = "calibration-k3y-0123456789"
ROWS = dict(
    query=[("probe", "text", "1")],
    headers=[("X-Calibration", "text", "yes")],
    body=[("text", "text", "42"), ("number", "variable", "calibration.number"),
          ("object", "variable", "calibration.object"), ("block", "dialogstate", "7b1e0c9a-5d7e"),
          ("last", "variable", "calibration.answered_after_s"), ("said", "variable", "turn")],
)

# (the Chatlayer an ApiStep plays, what calibrate must find)
SCHEMES = {
    "default-guess": ({"hmac_header": "X-Signature"},
                      {"hmac_header": "X-Signature", "hmac_algorithm": "sha256", "hmac_encoding": "hex",
                       "hmac_signed": "body"}),
    "never-seen-header-base64-timestamp": (
        {"hmac_header": "X-Chatlayer-Hmac-V2", "hmac_encoding": "base64", "hmac_signed": "timestamp+body",
         "hmac_timestamp_header": "X-Chatlayer-Request-Time"},
        {"hmac_header": "X-Chatlayer-Hmac-V2", "hmac_algorithm": "sha256", "hmac_encoding": "base64",
         "hmac_signed": "timestamp+body", "hmac_timestamp_header": "X-Chatlayer-Request-Time"}),
    "sha1-hex-no-content-type": (
        {"hmac_header": "X-Hub-Signature", "hmac_algorithm": "sha1", "emulator_content_type": False},
        {"hmac_header": "X-Hub-Signature", "hmac_algorithm": "sha1", "hmac_encoding": "hex",
         "hmac_signed": "body", "emulator_content_type": False}),
    "sha512-base64-stringified": (
        {"hmac_header": "Signature", "hmac_algorithm": "sha512", "hmac_encoding": "base64",
         "emulator_keep_types": False},
        {"hmac_header": "Signature", "hmac_algorithm": "sha512", "hmac_encoding": "base64",
         "hmac_signed": "body", "emulator_keep_types": False}),
    "timestamp-hex-sha256": (
        {"hmac_header": "X-Mindsay-Signature", "hmac_signed": "timestamp+body",
         "hmac_timestamp_header": "X-Mindsay-Timestamp"},
        {"hmac_header": "X-Mindsay-Signature", "hmac_algorithm": "sha256", "hmac_encoding": "hex",
         "hmac_signed": "timestamp+body", "hmac_timestamp_header": "X-Mindsay-Timestamp"}),
    "house-style-hash-sha512-timestamp": (
        {"hmac_header": "Hash", "hmac_algorithm": "sha512", "hmac_signed": "timestamp+body",
         "hmac_timestamp_header": "Timestamp", "emulator_content_type": False, "emulator_keep_types": False},
        {"hmac_header": "Hash", "hmac_algorithm": "sha512", "hmac_encoding": "hex",
         "hmac_signed": "timestamp+body", "hmac_timestamp_header": "Timestamp",
         "emulator_content_type": False, "emulator_keep_types": False}),
    "sha1-base64-body": (
        {"hmac_header": "X-Sig", "hmac_algorithm": "sha1", "hmac_encoding": "base64"},
        {"hmac_header": "X-Sig", "hmac_algorithm": "sha1", "hmac_encoding": "base64", "hmac_signed": "body"}),
}


def _chatlayer(scheme, secret=SECRET, **extra):
    """The emulated bot's API step, pasted as the calibration says."""
    return tk.ApiStep("POST", "/calibrate", hmac=secret, scheme={**scheme, **extra}, **ROWS)


def _order(server, scheme, secret=SECRET, body=None, tamper=False):
    """A request to another handler, signed as the emulated Chatlayer signs."""
    settings = tk.Settings(hmac_secret=secret, **{k: v for k, v in scheme.items() if k.startswith("hmac_")})
    raw = json.dumps(body or {"orderId": "A-1042"}).encode()
    headers = {"Content-Type": "application/json", **sign(raw, settings)}
    sent = raw.replace(b"A-1042", b"A-9999") if tamper else raw
    return requests.post(server.url + "/orders", data=sent, headers=headers, timeout=10)


@pytest.fixture
def served():
    app = tk.App("bot")
    app.add_handler("/orders", lambda orderId: f"Order {orderId}")
    with app.serve(port=0) as server:
        yield app, server


@pytest.mark.parametrize("name", list(SCHEMES))
def test_calibrate_finds_each_scheme_and_apply_makes_real_signatures_pass(served, name):
    app, server = served
    played, expected = SCHEMES[name]
    with tk.calibrate(app, secret=SECRET) as cal:
        session = tk.Session()
        first, second = (_chatlayer(played).call(session, server.url) for _ in range(2))
        assert first.ok and second.ok and first.next_dialogstate == "7b1e0c9a-5d7e"  # sent back once
        assert second.next_dialogstate is None
        report = cal.report()
        assert {k: cal.suggested[k] for k in expected} == expected
        assert report.scheme is not None and report.scheme.settings() == {
            k: v for k, v in expected.items() if k.startswith("hmac_")}
        assert cal.suggested["emulator_content_type"] == played.get("emulator_content_type", True)
        assert cal.suggested["emulator_keep_types"] == played.get("emulator_keep_types", True)
        assert _order(server, played).status_code == 200  # before apply: no check yet
        applied = cal.apply()
        assert applied["hmac_secret"] == "***" and app.settings.hmac_secret == SECRET
    good = _order(server, played)
    assert good.status_code == 200 and good.json()["messages"][0]["config"]["textMessages"][0]["text"] == \
        "Order A-1042"
    tampered = _order(server, played, tamper=True)
    assert tampered.status_code == 401 and "does not match" in tampered.json()["error"]["message"]
    other = "sha1" if app.settings.hmac_algorithm != "sha1" else "sha256"
    assert _order(server, {**played, "hmac_algorithm": other}).status_code == 401
    assert _order(server, played, secret="not-the-secret").status_code == 401
    # the emulator now plays this bot from the app's own settings
    assert tk.ApiStep("POST", "/orders", body=[("orderId", "text", "A-1")], hmac=SECRET).call(
        tk.Session(), app).ok
    assert requests.get(server.url + "/_toolkit/health", timeout=10).status_code == 200
    assert len(app.log.to_frame()) >= 6


def test_report_shows_method_content_type_headers_masked_and_body_types(served):
    app, server = served
    app.configure(auth_bearer="bearer-t0ken-value")
    with tk.calibrate(app, secret=SECRET) as cal:
        session = tk.Session()
        step = tk.ApiStep("POST", "/calibrate", hmac=SECRET, auth=("bearer", "bearer-t0ken-value"), **ROWS)
        step.call(session, server.url)
        step.call(session, server.url)
        report = cal.report()
        assert report.method == "POST" and report.content_type == "application/json"
        assert report.headers["Authorization"] == "***"
        assert report.headers["X-Signature"] == "*** (hex, 32 bytes)"
        assert report.headers["X-Calibration"] == "yes"
        assert report.body == [("text", "42", "string"), ("number", 42, "number"),
                               ("object", {"a": 1}, "object"), ("block", "7b1e0c9a-5d7e", "string"),
                               ("last", 0.0, "number"), ("said", "", "string")]
        first = cal.report(0)
        assert ("number", "", "string") in first.body  # a missing variable, as the emulator sends it
        shown = "\n".join([str(report), repr(report), report._repr_html_(), repr(cal), cal._repr_html_(),
                           cal.guide(), repr(cal.probes)])
        for secret in (SECRET, "bearer-t0ken-value"):
            assert secret not in shown
        assert "Content-Type: application/json" in str(report) and "number = 42 (number)" in str(report)
        assert "<td" in report._repr_html_() and "JSON type" in report._repr_html_()


@pytest.mark.parametrize("secret,found", [("wrong-secret", "no scheme verified"), (None, "not checked")])
def test_no_match_says_so_and_shows_what_was_tried(served, secret, found):
    app, server = served
    with tk.calibrate(app, secret=secret) as cal:
        _chatlayer({"hmac_header": "X-Odd-Signature", "hmac_signed": "timestamp+body"}).call(
            tk.Session(), server.url)
        report = cal.report()
        assert report.scheme is None and found in report.hmac_text()
        assert not any(k.startswith("hmac_") for k in cal.suggested)
        if secret:
            text = report.hmac_text()
            assert "X-Odd-Signature: hex sha256 of body; hex sha256 of X-Timestamp.<body>" in text
        cal.apply()
        assert app.settings.hmac_secret == ""  # nothing found: the secret is not set


def test_unsigned_call_and_current_settings_that_would_refuse_it(served):
    app, server = served
    app.configure(hmac_secret=SECRET, hmac_header="X-Guess")  # a wrong guess of the scheme
    with tk.calibrate(app, secret=SECRET) as cal:
        result = _chatlayer({"hmac_header": "X-Real"}).call(tk.Session(), server.url)
        assert result.ok  # the probe answers even so
        report = cal.report()
        assert "Missing X-Guess header" in report.probe.rejected and report.scheme.header == "X-Real"
        assert "would refuse it: Missing X-Guess" in str(report)
        tk.ApiStep("POST", "/calibrate", **ROWS).call(tk.Session(), server.url)  # no HMAC at all
        assert "No header looked like a signature" in cal.report().hmac_text()
    assert _order(server, {"hmac_header": "X-Real"}).status_code == 401  # the app's own check is intact
    assert "HMAC secret given" in repr(tk.calibrate(app))  # the app's hmac_secret is the default key


def test_slow_probe_measures_the_timeout_from_a_retry(served):
    app, server = served
    with tk.calibrate(app, slow=True, delays=[0.2, 4.0]) as cal:
        session = tk.Session()
        chatlayer = _chatlayer({}, emulator_timeout_s=1.0, emulator_retries=1)
        assert chatlayer.call(session, server.url).ok
        late = chatlayer.call(session, server.url)
        assert late.error.kind == "timeout" and late.attempts == 2
        timing = cal.report().timing
        assert timing.retries == 1 and cal.probes[-1].retry_of == cal.probes[-2].n
        original, retry = cal.probes[-2], cal.probes[-1]
        # The timeout is the gap between a call and its retry, on the calibration's clock: the client
        # waited 1.0 s from sending, the probe saw the call a moment after that began (load only makes
        # the moment longer, so no fixed bound on the gap holds on a busy machine).
        assert timing.timeout_s == round(retry.arrived - original.arrived, 3) > 0
        assert cal.suggested == {**cal.suggested, "emulator_retries": 1,
                                 "emulator_timeout_s": round(timing.timeout_s, 1)}
        assert "retries 1 time" in timing.text()


def test_slow_probe_bounds_the_timeout_without_retries(served):
    app, server = served
    with tk.calibrate(app, slow=True, delays=[0.2, 0.5, 4.0, 4.0]) as cal:
        session = tk.Session()
        chatlayer = _chatlayer({}, emulator_timeout_s=2.0)
        results = []
        for turn in range(4):  # the user says something new each time: a new call, not a retry
            session.set("turn", f"message {turn}")
            results.append(chatlayer.call(session, server.url))
        assert [r.ok for r in results] == [True, True, False, False]
        assert cal.report().timing.text().startswith("Timeout: about")
        timing = cal.report().timing
        assert [c["accepted"] for c in timing.calls] == [True, True, False, None]
        assert timing.low_s == 0.5 and timing.high_s == 4.0 and timing.retries == 0
        assert timing.timeout_s == (0.5 + 4.0) / 2 and "no retry seen" in timing.text()  # between the bounds
        cal.apply()
    assert app.settings.emulator_timeout_s == round(timing.timeout_s, 1) and app.settings.emulator_retries == 0


def test_display_says_what_to_paste_through_the_tunnel_or_locally(served):
    app, server = served
    cal = tk.calibrate(app, secret=SECRET, path="probe")
    assert repr(cal) == "<Calibration probe /probe: 0 calls seen; HMAC secret given>"
    local = cal._repr_html_()
    assert server.url + "/probe" in local and "Chatlayer cannot reach it" in local
    for part in ("number", "calibration.number", "dialogstate", "HMAC API setting", "X-Calibration"):
        assert part in local
    tunnel = server.expose(provider="fake")
    try:
        shown = cal._repr_html_()
        assert tunnel.url + "/probe" in shown and "cannot reach" not in shown
        assert "Bearer token" in shown and tunnel.url + "/probe" in cal.guide()
    finally:
        server.unexpose()
    cal.close()
    cal.close()
    assert "/probe" not in app.handlers and repr(cal).endswith("closed; HMAC secret given>")
    gone = requests.post(server.url + "/probe", json={}, headers=tunnel.auth_headers(), timeout=10)
    assert gone.status_code == 404


def test_calibrate_again_replaces_the_probe_and_errors_say_what_to_do():
    app = tk.App("again")
    first = tk.calibrate(app)
    second = tk.calibrate(app, slow=True)
    assert list(app.handlers) == ["/calibrate"] and repr(first).startswith("<Calibration probe /calibrate: closed")
    assert "slow probe" in repr(second) and "0.5" not in second.guide() and "40 s" in second.guide()
    with pytest.raises(CalibrationError, match="has not been called yet") as info:
        second.report()
    assert "trigger it" in str(info.value)
    with pytest.raises(CalibrationError, match="Nothing to apply"):
        second.apply()
    assert second.suggested == {}
    with pytest.raises(CalibrationError, match="delays"):
        tk.calibrate(app, slow=True, delays=[])
    with pytest.raises(tk.ConfigError, match="hmac_algoritm"):
        tk.ApiStep("POST", "/x", scheme={"hmac_algoritm": "sha1"})
    second.close()


# --- schemes beyond the hmac_* settings, sent by hand to the probe (issue 22 §5) --------------------
def _mac(data, algorithm="sha256"):
    return hmac.new(SECRET.encode(), data, getattr(hashlib, algorithm)).digest()


def _new_schemes(raw, stamp):
    return {
        "timestamp-and-body-joined": ({"X-Chatlayer-Signature": _mac(stamp.encode() + raw).hex(),
                                       "X-Chatlayer-Timestamp": stamp}, True),
        "stripe-style": ({"Chatlayer-Signature": f"t={stamp},v1={_mac(stamp.encode() + b'.' + raw).hex()}"}, False),
        "base64url-no-padding": ({"X-Auth-Code": base64.urlsafe_b64encode(_mac(raw)).decode().rstrip("=")}, True),
        "nonce-header": ({"Hash": _mac(b".".join([stamp.encode(), b"n-77", raw]), "sha512").hex(),
                          "Timestamp": stamp, "Nonce": "n-77"}, False),
    }


@pytest.mark.parametrize("name", ["timestamp-and-body-joined", "stripe-style", "base64url-no-padding", "nonce-header"])
def test_calibrate_finds_each_new_scheme_masks_its_headers_and_says_when_the_secret_looks_wrong(served, name):
    app, server = served
    raw = json.dumps({"text": "42", "number": 42}).encode()
    stamp = str(int(time.time()))
    sent, checkable = _new_schemes(raw, stamp)[name]
    for secret in (SECRET, "not-the-secret"):
        with tk.calibrate(app, secret=secret) as cal:
            answer = requests.post(server.url + "/calibrate", data=raw, timeout=10,
                                   headers={"Content-Type": "application/json", **sent})
            assert answer.status_code == 200
            report = cal.report()
            signature = next(k for k in sent if k not in ("Timestamp", "Nonce", "X-Chatlayer-Timestamp"))
            assert report.headers[signature].startswith("*** (")  # masked, its shape shown
            logged = app.log.last().headers
            assert logged[signature] == "***"  # masked in app.log too, whatever the header's name
            shown = "\n".join([str(report), report._repr_html_(), repr(app.log.last())])
            assert sent[signature] not in shown and SECRET not in shown
            if secret == SECRET:
                assert report.scheme is not None and report.scheme.checkable is checkable
                assert ("hmac_header" in cal.suggested) is checkable
                assert ("cannot check this scheme" in report.hmac_text()) is not checkable
            else:
                assert report.scheme is None and "the secret looks wrong" in report.hmac_text()


def test_no_signature_header_at_all_is_an_unknown_scheme(served):
    app, server = served
    with tk.calibrate(app, secret=SECRET) as cal:
        requests.post(server.url + "/calibrate", json={"a": 1}, headers={"X-Custom-Mac": "zz-not-a-digest"},
                      timeout=10)
        assert "the scheme is unknown" in cal.report().hmac_text()
