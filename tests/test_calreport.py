"""The calibration report from recorded probes, with no network and no sleeping: the timing logic on a
made-up clock, JSON types, what keeps or loses types, masking."""

from __future__ import annotations

import json

import pytest

import toolkit as tk
from toolkit.chatlayer.calibrate import Probe
from toolkit.chatlayer.calreport import CalibrationReport, json_type, timing_of


def probe(n, arrived, body, *, delay=0.0, retry_of=None, headers=None, wall=1767225600.5):
    raw = json.dumps(body).encode()
    return Probe(n, "POST", "/calibrate", {}, headers or {}, raw, arrived, wall, delay=delay,
                 retry_of=retry_of, finished=None)


@pytest.mark.parametrize("value,kind", [(1, "number"), (1.5, "number"), ("1", "string"), (True, "boolean"),
                                        ({"a": 1}, "object"), ([1], "array"), (None, "null")])
def test_json_type(value, kind):
    assert json_type(value) == kind


def test_timing_bounds_from_the_last_accepted_delay():
    probes = [probe(1, 0.0, {"last": ""}, delay=1), probe(2, 10.0, {"last": 1}, delay=2),
              probe(3, 20.0, {"last": 2}, delay=4), probe(4, 30.0, {"last": 2}, delay=8)]
    timing = timing_of(probes)
    assert [c["accepted"] for c in timing.calls] == [True, True, False, None]
    assert (timing.low_s, timing.high_s, timing.timeout_s, timing.retries) == (2.0, 4.0, 3.0, 0)
    assert timing.text() == "Timeout: about 3.0 s (accepted 2 s, gave up on 4 s); no retry seen."


def test_timing_from_retries_takes_the_shortest_gap():
    probes = [probe(1, 0.0, {"last": ""}, delay=1), probe(2, 5.0, {"last": 1}, delay=30),
              probe(3, 15.2, {"last": 1}, delay=30, retry_of=2), probe(4, 25.4, {"last": 1}, delay=30, retry_of=2)]
    timing = timing_of(probes)
    assert timing.calls[1]["retries"] == 2 and timing.calls[1]["retry_after_s"] == 10.2
    assert timing.timeout_s == 10.2 and timing.retries == 2 and timing.calls[1]["accepted"] is False
    assert "retries 2 times" in timing.text()
    assert timing_of([probe(1, 0.0, {}, delay=1)]).text().startswith("Timeout: not measured yet")


@pytest.mark.parametrize("second,keeps", [({"number": 42}, True), ({"number": "42"}, False),
                                          ({"object": {"a": 1}}, True), ({"object": '{"a":1}'}, False),
                                          ({"number": "{calibration.number}"}, None), ({"number": ""}, None)])
def test_keeps_types_from_the_latest_call_that_carries_them(second, keeps):
    probes = [probe(1, 0.0, {"number": ""}), probe(2, 1.0, second)]
    report = CalibrationReport(probes[-1], probes, None, tk.Settings(), None)
    assert report.keeps_types is keeps
    assert ("emulator_keep_types" in report.suggested) is (keeps is not None)


def test_headers_masked_signature_lengths_and_timestamps_relative():
    headers = {"Authorization": "Bearer abc", "X-Sig": "ab" * 32, "X-Time": "1767225600",
               "X-Api-Token": "t0k", "X-Calibration": "yes"}
    report = CalibrationReport(probe(1, 0.0, {"password": "pw", "n": 1}, headers=headers),
                               [], None, tk.Settings(), None)
    assert report.headers == {"Authorization": "***", "X-Sig": "*** (hex, 32 bytes)",
                              "X-Time": "a Unix time, 0.5 s before arrival", "X-Api-Token": "***",
                              "X-Calibration": "yes"}
    assert report.body == [("password", "***", "string"), ("n", 1, "number")]
    assert report.content_type is None and report.suggested == {"emulator_content_type": False}
    assert "Content-Type: none" in str(report) and "HMAC: not checked" in str(report)
