"""Finding the HMAC scheme of a request: the candidates come from the headers, each is checked with
the app's own verifier."""

from __future__ import annotations

import pytest

import toolkit as tk
from toolkit.access import sign
from toolkit.chatlayer.schemes import (
    Scheme,
    candidates,
    describe_tried,
    digest_lengths,
    find_scheme,
    signature_headers,
    timestamp_headers,
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
                                         Scheme("X-Odd", "sha256", "hex", "timestamp+body", "X-T")]


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
