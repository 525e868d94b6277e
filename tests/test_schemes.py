"""Finding the HMAC scheme of a request: the candidates come from the headers, each is checked with
the app's own verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

import toolkit as tk
from toolkit.access import sign, verify_hmac
from toolkit.chatlayer.schemes import (
    Scheme,
    candidates,
    describe_tried,
    digest_lengths,
    find_scheme,
    signature_headers,
    timestamp_headers,
    verdict,
)

RAW = b'{"orderId": "A-1042"}'


def _signed(**scheme):
    settings = tk.Settings(hmac_secret="s3", **scheme)
    return settings, {"Host": "x", "Content-Type": "application/json", "X-Calibration": "yes",
                      **sign(RAW, settings, now=1767225600.0)}


def test_digest_lengths_hex_base64_and_prefixes():
    assert digest_lengths("ab" * 32) == {"hex": 32, "base64": 48}
    assert digest_lengths("sha256=" + "ab" * 32)["hex"] == 32
    assert digest_lengths("not a digest!") == {}


def test_candidates_come_from_the_headers_only():
    _, headers = _signed(hmac_header="X-Odd", hmac_signed="timestamp+body", hmac_timestamp_header="X-T")
    assert list(signature_headers(headers)) == ["X-Odd"] and timestamp_headers(headers) == ["X-T"]
    assert list(candidates(headers)) == [Scheme("X-Odd", "sha256", "hex"),
                                         Scheme("X-Odd", "sha256", "hex", "timestamp+body", "X-T"),
                                         Scheme("X-Odd", "sha256", "hex", "timestamp+body", "X-T", "")]


@pytest.mark.parametrize("scheme", [
    dict(hmac_header="X-A", hmac_algorithm="sha1", hmac_encoding="base64"),
    dict(hmac_header="X-B", hmac_algorithm="sha512", hmac_signed="timestamp+body", hmac_timestamp_header="X-T"),
    dict(hmac_header="Chatlayer-Signature-2031", hmac_encoding="base64", hmac_signed="timestamp+body"),
])
def test_find_scheme_names_the_match(scheme):
    settings, headers = _signed(**scheme)
    found, tried = find_scheme(RAW, headers, "s3", settings)
    assert found is not None and found.settings() == {k: v for k, v in {
        "hmac_header": settings.hmac_header, "hmac_algorithm": settings.hmac_algorithm,
        "hmac_encoding": settings.hmac_encoding, "hmac_signed": settings.hmac_signed,
        "hmac_timestamp_header": settings.hmac_timestamp_header}.items()
        if k != "hmac_timestamp_header" or settings.hmac_signed == "timestamp+body"}
    assert found in tried
    assert find_scheme(RAW + b" ", headers, "s3", settings)[0] is None  # a changed body: no match
    assert find_scheme(RAW, headers, "other", settings)[0] is None


def test_describe_tried_lists_each_header_or_says_none_looked_like_a_signature():
    settings, headers = _signed(hmac_header="X-A")
    _, tried = find_scheme(RAW, headers, "wrong", settings)
    assert describe_tried(tried, headers) == ["X-A: hex sha256 of body"]
    assert "No header looked like a signature" in describe_tried([], {"Host": "x", "X-Calibration": "yes"})[0]
    assert "X-Calibration" in describe_tried([], {"Host": "x", "X-Calibration": "yes"})[0]


# --- the schemes real senders use beyond the hmac_* settings (issue 22 §5) ---------------------------
STAMP = "1767225600"


def _hmac(data: bytes, secret: str = "s3", algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode(), data, getattr(hashlib, algorithm)).digest()


NEW_SCHEMES = {  # name: (headers as the sender sends them, what find_scheme must name)
    "timestamp-and-body-joined": ({"X-Signature": _hmac(STAMP.encode() + RAW).hex(), "X-Timestamp": STAMP},
                                  "X-Signature: hex HMAC-SHA256 of X-Timestamp<body>"),
    "stripe-style": ({"Stripe-Signature": f"t={STAMP},v1={_hmac(STAMP.encode() + b'.' + RAW).hex()}"},
                     "Stripe-Signature: hex HMAC-SHA256 of t.<body> (Stripe style: t=...,v1=...)"),
    "base64url-no-padding": ({"X-Sig": base64.urlsafe_b64encode(_hmac(RAW)).decode().rstrip("=")},
                             "X-Sig: base64url HMAC-SHA256 of the body"),
    "nonce-header": ({"Hash": _hmac(b"\n".join([RAW, STAMP.encode(), b"n-0042"]), algorithm="sha512").hex(),
                      "Timestamp": STAMP, "Nonce": "n-0042"},
                     "Hash: hex HMAC-SHA512 of <body>\\nTimestamp\\nNonce"),
}


@pytest.mark.parametrize("name", list(NEW_SCHEMES))
def test_each_new_scheme_is_recognised_and_verified(name):
    sent, named = NEW_SCHEMES[name]
    headers = {"Host": "x", "Content-Type": "application/json", **sent}
    found, tried = find_scheme(RAW, headers, "s3", tk.Settings())
    assert found is not None and str(found) == named
    assert find_scheme(RAW + b" ", headers, "s3", tk.Settings())[0] is None  # a changed body
    missed, tried = find_scheme(RAW, headers, "not-the-secret", tk.Settings())
    assert missed is None and verdict(tried).startswith("the secret looks wrong")


def test_schemes_the_settings_express_are_applied_and_the_app_verifies_them():
    for name in ("timestamp-and-body-joined", "base64url-no-padding"):
        sent, _ = NEW_SCHEMES[name]
        found, _ = find_scheme(RAW, sent, "s3", tk.Settings())
        assert found.checkable
        settings = {**tk.Settings(hmac_secret="s3").__dict__, **found.settings(), "hmac_secret": "s3"}
        verify_hmac(RAW, sent, settings, now=float(STAMP))  # the app's own check passes
    for name in ("stripe-style", "nonce-header"):
        found, _ = find_scheme(RAW, NEW_SCHEMES[name][0], "s3", tk.Settings())
        assert not found.checkable and found.settings() == {}


def test_an_unknown_scheme_is_told_apart_from_a_wrong_secret():
    assert verdict([]).startswith("the scheme is unknown")
    headers = {"X-Weird": "not-a-digest", "X-Calibration": "yes"}
    found, tried = find_scheme(RAW, headers, "s3", tk.Settings())
    assert found is None and tried == [] and "unknown" in verdict(tried)
