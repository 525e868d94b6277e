"""Access control: Bearer, Basic, a custom header and HMAC, each accepting and rejecting, with
401 answers that say what is wrong and never echo a secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time

import pytest

import toolkit as tk
from toolkit import access as signing
from toolkit.config import Settings

SECRETS = ("tok-S3cret-123", "pa55word", "key-V4lue", "hmac-K3y")
BODY = json.dumps({"orderId": "A-1042"}).encode()


def make_app(**settings) -> tk.App:
    app = tk.App("auth", **settings)

    @app.handler("/orders")
    def orders(orderId: str = ""):  # noqa: N803
        return f"ok {orderId}"

    return app


def answer(app: tk.App, headers: dict[str, str] | None = None, raw: bytes = BODY) -> tuple[int, dict]:
    res = app.handle(tk.Incoming("POST", "/orders", headers=headers or {}, raw=raw))
    return res.status, res.body


def denied(app: tk.App, headers: dict[str, str] | None = None, raw: bytes = BODY) -> dict:
    status, body = answer(app, headers, raw)
    assert status == 401, body
    err = body["error"]
    assert err["type"] == "unauthorized" and err["message"] and err["hint"]
    text = json.dumps(body) + str(app.log.last().error)
    assert not any(secret in text for secret in SECRETS), text  # never echo a secret
    return err


def basic(user_pass: str) -> str:
    return "Basic " + base64.b64encode(user_pass.encode()).decode()


# --- Bearer / Basic / custom header --------------------------------------------------------------


def test_no_setting_means_no_check():
    assert answer(make_app())[0] == 200


def test_bearer_token_accepts_the_token_and_rejects_others():
    app = make_app(auth_bearer=SECRETS[0])
    assert answer(app, {"Authorization": f"Bearer {SECRETS[0]}"})[0] == 200
    assert answer(app, {"authorization": f"bearer {SECRETS[0]}"})[0] == 200  # case-insensitive
    assert "Missing Authorization header" in denied(app)["message"]
    assert "does not match" in denied(app, {"Authorization": "Bearer tok-S3cret-12"})["message"]
    assert "Basic scheme" in denied(app, {"Authorization": basic("a:b")})["message"]


def test_basic_auth_accepts_the_pair_and_rejects_others():
    app = make_app(auth_basic=f"chatlayer:{SECRETS[1]}")
    assert answer(app, {"Authorization": basic(f"chatlayer:{SECRETS[1]}")})[0] == 200
    assert "wrong" in denied(app, {"Authorization": basic("chatlayer:nope")})["message"]
    assert "wrong" in denied(app, {"Authorization": basic(f"other:{SECRETS[1]}")})["message"]
    assert "not valid Basic" in denied(app, {"Authorization": "Basic %%%"})["message"]
    assert "Bearer" in denied(app)["hint"] or "Basic" in denied(app)["hint"]


def test_bearer_or_basic_either_one_passes_when_both_are_set():
    app = make_app(auth_bearer=SECRETS[0], auth_basic=f"u:{SECRETS[1]}")
    assert answer(app, {"Authorization": f"Bearer {SECRETS[0]}"})[0] == 200
    assert answer(app, {"Authorization": basic(f"u:{SECRETS[1]}")})[0] == 200
    assert "a Bearer token or Basic auth" in denied(app)["message"]


ALONE = ("wrong-credential-77", "Bearer-tok-S3cret-123")


@pytest.mark.parametrize("sent", [SECRETS[0], f"  {SECRETS[0]}  ", ALONE[0], ALONE[1],
                                  f"Baerer {SECRETS[0]}", f"{SECRETS[0]} {SECRETS[0]}", basic("a:b")[6:]])
def test_a_credential_sent_without_its_scheme_word_is_never_quoted(sent, tmp_path):
    from hostile import send, serving, still_fine

    app = make_app(auth_bearer=SECRETS[0])
    err = denied(app, {"Authorization": sent})
    word = sent.split()[0]
    assert word not in json.dumps(err) and word.lower() not in json.dumps(err).lower()
    assert "Bearer <token>" in err["hint"]
    with serving(app) as server:
        status, body = send(server, "POST", "/orders", BODY, {"Authorization": sent})
        assert status == 401 and word.lower() not in json.dumps(body).lower()
        assert send(server, "POST", "/orders", BODY, {"Authorization": f"Bearer {SECRETS[0]}"})[0] == 200
        still_fine(app, server, tmp_path, secrets=[*SECRETS, *ALONE, word])


@pytest.mark.parametrize("scheme", ["Digest", "Negotiate", "Token", "basic"])
def test_a_known_scheme_word_is_named(scheme):
    app = make_app(auth_bearer=SECRETS[0])
    assert f"uses the {scheme.title()} scheme" in denied(app, {"Authorization": f"{scheme} abc"})["message"]


def test_custom_header_is_required_with_its_value():
    app = make_app(auth_header=f"X-Api-Key: {SECRETS[2]}")
    assert answer(app, {"x-api-key": SECRETS[2]})[0] == 200
    assert "Missing X-Api-Key header" in denied(app)["message"]
    assert "wrong value" in denied(app, {"X-Api-Key": "key-V4lu"})["message"]
    assert json.dumps(app.log.last().headers) == '{"X-Api-Key": "***"}'  # masked in the log


def test_custom_header_and_bearer_must_both_pass():
    app = make_app(auth_bearer=SECRETS[0], auth_header=f"X-Api-Key: {SECRETS[2]}")
    assert answer(app, {"Authorization": f"Bearer {SECRETS[0]}", "X-Api-Key": SECRETS[2]})[0] == 200
    denied(app, {"Authorization": f"Bearer {SECRETS[0]}"})
    denied(app, {"X-Api-Key": SECRETS[2]})


@pytest.mark.parametrize("settings, match", [
    ({"auth_basic": "no-colon"}, "auth_basic"),
    ({"auth_header": "X-Key"}, "auth_header"),
    ({"auth_header": ": value"}, "auth_header"),
])
def test_settings_that_can_never_match_are_config_errors(settings, match):
    with pytest.raises(tk.ConfigError, match=match):
        signing.check_settings(Settings(**settings))


def test_the_handler_list_is_protected_but_health_is_not():
    app = make_app(auth_bearer=SECRETS[0])
    client = app.test_client()
    assert client.get("/_toolkit/health").status_code == 200
    assert client.get("/_toolkit/handlers").status_code == 401
    ok = client.get("/_toolkit/handlers", headers={"Authorization": f"Bearer {SECRETS[0]}"})
    assert ok.status_code == 200


# --- HMAC ----------------------------------------------------------------------------------------


def hmac_settings(**overrides) -> Settings:
    return Settings(hmac_secret=SECRETS[3], **overrides)


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_hmac_accepts_a_signed_body_and_rejects_a_tampered_one(algorithm, encoding):
    app = make_app(hmac_secret=SECRETS[3], hmac_algorithm=algorithm, hmac_encoding=encoding)
    digest = hmac.new(SECRETS[3].encode(), BODY, getattr(hashlib, algorithm)).digest()
    sig = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    assert signing.signature(BODY, app.settings) == sig  # the helper agrees with a by-hand signature
    assert answer(app, {"X-Signature": sig})[0] == 200
    tampered = BODY.replace(b"A-1042", b"A-1043")
    assert "does not match" in denied(app, {"X-Signature": sig}, tampered)["message"]


def test_hmac_rejects_missing_bad_encoding_and_wrong_secret():
    app = make_app(hmac_secret=SECRETS[3])
    assert "Missing X-Signature header" in denied(app)["message"]
    assert "not hex" in denied(app, {"X-Signature": "zz-not-hex"})["message"]
    other = signing.signature(BODY, Settings(hmac_secret="another-key"))
    assert "does not match" in denied(app, {"X-Signature": other})["message"]


def test_hmac_header_name_and_prefix_are_configurable():
    app = make_app(hmac_secret=SECRETS[3], hmac_header="X-Hub-Signature-256")
    sig = signing.signature(BODY, app.settings)
    assert answer(app, {"X-Hub-Signature-256": f"sha256={sig}"})[0] == 200
    assert "Missing X-Hub-Signature-256" in denied(app, {"X-Signature": sig})["message"]
    assert app.log.last().headers == {"X-Signature": "***"}  # not the configured header, still a signature
    answer(app, {"X-Hub-Signature-256": sig})
    assert app.log.last().headers == {"X-Hub-Signature-256": "***"}


def test_timestamp_and_body_signing_accepts_fresh_and_rejects_stale_future_and_tampered():
    app = make_app(hmac_secret=SECRETS[3], hmac_signed="timestamp+body", hmac_window_s=60)
    now = time.time()
    assert answer(app, signing.sign(BODY, app.settings))[0] == 200
    ms = {"X-Timestamp": str(int(now * 1000))}
    ms["X-Signature"] = signing.signature(BODY, app.settings, ms["X-Timestamp"])
    assert answer(app, ms)[0] == 200  # milliseconds are understood too
    stale = signing.sign(BODY, app.settings, now=now - 120)
    assert re.search(r"1[12]\d s old, outside the 60 s window", denied(app, stale)["message"])
    future = signing.sign(BODY, app.settings, now=now + 600)
    assert "in the future" in denied(app, future)["message"]
    fresh = signing.sign(BODY, app.settings)
    assert "does not match" in denied(app, fresh, BODY + b" ")["message"]
    # a re-dated replay: 30 s from the signed stamp, always another stamp yet inside the window (the
    # old int(now) + 1 equalled the signed stamp when the clock crossed a second in between)
    moved = dict(fresh, **{"X-Timestamp": str(int(fresh["X-Timestamp"]) - 30)})
    assert "does not match" in denied(app, moved)["message"]
    assert "Missing X-Timestamp" in denied(app, {"X-Signature": fresh["X-Signature"]})["message"]
    assert "not a Unix time" in denied(app, dict(fresh, **{"X-Timestamp": "yesterday"}))["message"]


def test_the_moved_timestamp_case_holds_at_every_point_of_a_second():
    """The flake's cause, shown with a fixed clock: whatever the fraction of the second at signing,
    a re-dated stamp is another stamp, and it fails on the signature, not the window."""
    s = hmac_settings(hmac_signed="timestamp+body", hmac_window_s=60)
    for now in (1_767_225_600.0, 1_767_225_600.999_999, 1_767_225_601.0):
        fresh = signing.sign(BODY, s, now=now)
        signing.verify_hmac(BODY, fresh, s, now=now)
        moved = dict(fresh, **{"X-Timestamp": str(int(fresh["X-Timestamp"]) - 30)})
        with pytest.raises(tk.Unauthorized, match="does not match"):
            signing.verify_hmac(BODY, moved, s, now=now)


NOT_A_TIME = {
    "nan": "not a finite number", "NaN": "not a finite number", "-nan": "not a finite number",
    "inf": "not a finite number", "-Infinity": "not a finite number", "1e400": "not a finite number",
    "9" * 400: "not a Unix time", "yesterday": "not a number", "0x65f0": "not a number",
    "1.7e9": "not written as plain digits", "+1767225600": "not written as plain digits",
    "-1767225600": "not written as plain digits", "1_767_225_600": "not written as plain digits",
    "١٧٦٧٢٢٥٦٠٠": "not written as plain digits",  # Arabic-Indic digits: float() takes them
}


@pytest.mark.parametrize("stamp", list(NOT_A_TIME), ids=[k[:12] for k in NOT_A_TIME])
def test_a_signed_timestamp_must_be_a_finite_number_inside_the_window(stamp, tmp_path):
    """Each stamp is correctly signed, so only the stamp itself is wrong; before the fix ``nan``
    passed (every comparison with NaN is false, so it was never outside the window)."""
    from hostile import send, serving, still_fine

    app = make_app(hmac_secret=SECRETS[3], hmac_signed="timestamp+body", hmac_window_s=60)
    headers = {"X-Timestamp": stamp, "X-Signature": signing.signature(BODY, app.settings, stamp)}
    err = denied(app, headers)
    assert "X-Timestamp header is not a Unix time" in err["message"]
    assert NOT_A_TIME[stamp] in err["message"] and "plain digits" in err["hint"]
    with serving(app) as server:
        if stamp.isascii():  # HTTP headers are Latin-1: the Arabic digits reach only app.handle
            status, body = send(server, "POST", "/orders", BODY, headers)
            assert status == 401 and "not a Unix time" in body["error"]["message"]
        assert send(server, "POST", "/orders", BODY, signing.sign(BODY, app.settings))[0] == 200
        still_fine(app, server, tmp_path, secrets=SECRETS)


@pytest.mark.parametrize("stamp", ["", "   "])
def test_an_empty_timestamp_is_a_missing_one(stamp):
    app = make_app(hmac_secret=SECRETS[3], hmac_signed="timestamp+body")
    headers = {"X-Timestamp": stamp, "X-Signature": signing.signature(BODY, app.settings, stamp)}
    assert "Missing X-Timestamp header" in denied(app, headers)["message"]


@pytest.mark.parametrize("window", ["nan", "-1"])
def test_a_window_that_is_not_a_number_refuses_everything_and_is_a_config_error(window):
    app = make_app(hmac_secret=SECRETS[3], hmac_signed="timestamp+body", hmac_window_s=window)
    with pytest.raises(tk.ConfigError, match="hmac_window_s"):
        signing.check_settings(app.settings)
    assert "outside" in denied(app, signing.sign(BODY, app.settings))["message"]  # fails closed


def test_signed_content_is_timestamp_dot_body():
    s = hmac_settings(hmac_signed="timestamp+body")
    expected = hmac.new(SECRETS[3].encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signing.signature(BODY, s, "1700000000") == expected
    signing.verify_hmac(BODY, {"X-Signature": expected, "X-Timestamp": "1700000000"}, s, now=1700000010)


def test_every_comparison_is_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(signing.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    app = make_app(auth_bearer=SECRETS[0], auth_header=f"X-Api-Key: {SECRETS[2]}", hmac_secret=SECRETS[3])
    headers = {"Authorization": f"Bearer {SECRETS[0]}", "X-Api-Key": SECRETS[2],
               "X-Signature": signing.signature(BODY, app.settings)}
    assert answer(app, headers)[0] == 200
    assert len(calls) == 3
    app = make_app(auth_basic=f"u:{SECRETS[1]}")
    assert answer(app, {"Authorization": basic(f"u:{SECRETS[1]}")})[0] == 200
    assert len(calls) == 4


def test_auth_over_http_accepts_and_rejects():
    app = make_app(auth_bearer=SECRETS[0], hmac_secret=SECRETS[3])
    import http.client

    with app.serve(port=0) as server:
        def post(headers: dict[str, str], body: bytes = BODY) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                conn.request("POST", "/orders", body=body, headers=headers)
                return conn.getresponse().status
            finally:
                conn.close()

        good = {"Authorization": f"Bearer {SECRETS[0]}", "X-Signature": signing.signature(BODY, app.settings)}
        assert post(good) == 200
        assert post(good, BODY.replace(b"1042", b"9999")) == 401
        assert post({"X-Signature": good["X-Signature"]}) == 401
        assert post(good) == 200  # still serving
