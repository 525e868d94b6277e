"""The request log: bound, masking, cut marker, retry flag, subscribers, save and to_frame."""

from __future__ import annotations

import json
import logging
import os
import threading

import pytest

import toolkit as tk
from toolkit.log import Exchange, Log, Masker, cut, fingerprint, mask


@pytest.fixture
def app() -> tk.App:
    app = tk.App("log", log_size=50)

    @app.handler("/echo")
    def echo(**params):
        return tk.Reply(session={"seen": {"n": params.get("n")}}, messages=[])

    return app


def test_the_bound_holds_over_10000_requests(app):
    for n in range(10_000):
        app.call("/echo", {"n": n})
    assert len(app.log) == 50 and app.log.total == 10_000
    assert [e.body["n"] for e in app.log] == list(range(9_950, 10_000))
    assert [e.id for e in app.log] == list(range(9_951, 10_001))
    assert len(app.log._seen) <= 4 * 50


def test_resize_keeps_the_newest(app):
    for n in range(20):
        app.call("/echo", {"n": n})
    app.configure(log_size=5)
    assert app.log.size == 5 and [e.body["n"] for e in app.log] == list(range(15, 20))


def test_log_size_zero_turns_the_log_off(app):
    seen = []
    app.log.subscribe(seen.append)
    app.configure(log_size=0)
    assert app.call("/echo", {"n": 1})["session"]["data"] == {"n": 1}
    assert len(app.log) == 0 and app.log.total == 0 and seen == []


def test_headers_and_body_keys_are_masked(app):
    app.configure(sensitive_keys="password,iban")
    app.call("/echo", {"n": 1, "password": "p", "nested": {"IBAN": "BE00", "ok": [{"apiToken": "t"}]}},
             headers={"Authorization": "Bearer x", "Cookie": "c", "X-Signature": "s", "X-Iban": "i",
                      "Accept": "*/*"})
    e = app.log.last()
    assert e.headers == {"Authorization": "***", "Cookie": "***", "X-Signature": "***", "X-Iban": "***",
                         "Accept": "*/*"}
    assert e.body == {"n": 1, "password": "***", "nested": {"IBAN": "***", "ok": [{"apiToken": "t"}]}}
    assert mask({"Secret_Key": 1, "a": [{"token": 2}]}, ("secret", "token")) == {
        "Secret_Key": "***", "a": [{"token": "***"}]}


def test_long_bodies_are_cut_with_a_marker(app):
    app.configure(log_body_bytes=100)
    app.call("/echo", {"n": 1, "text": "x" * 500})
    body = app.log.last().body
    assert isinstance(body, str) and body.endswith("bytes in all]") and "…[cut: " in body
    assert len(body.split("…[cut:")[0].encode()) <= 100
    assert cut({"a": 1}, 100) == {"a": 1}
    text = Masker((), 10).decode(b"not json at all, and long")
    assert text == "not json a…[cut: 25 bytes in all]"


def test_an_identical_request_within_the_window_is_flagged_as_a_retry(app):
    app.call("/echo", {"n": 1})
    app.call("/echo", {"n": 1})
    assert [e.flags for e in app.log] == [[], []]  # in-process calls are never retries (tests/test_buffer.py)
    log = Log(10, retry_window_s=3.0)
    fp = fingerprint("POST", "/x", b"{}")
    first = log.record(Exchange("POST", "/x", 200, fingerprint=fp, time=100.0))
    late = log.record(Exchange("POST", "/x", 500, fingerprint=fp, time=104.0))  # failed: a reason to retry
    again = log.record(Exchange("POST", "/x", 200, fingerprint=fp, time=105.0))
    assert (first.flags, late.flags, again.flags) == ([], [], ["retry"])


def test_subscribers_get_each_exchange_and_a_failing_one_never_breaks_serving(app, caplog):
    got = []

    def bad(entry):
        raise RuntimeError("widget gone")

    unsubscribe_bad = app.log.subscribe(bad)
    unsubscribe = app.log.subscribe(got.append)
    with caplog.at_level(logging.ERROR, logger="toolkit"):
        assert app.call("/echo", {"n": 1})["session"]["data"] == {"n": 1}
    assert [e.body for e in got] == [{"n": 1}] and "log subscriber" in caplog.text
    unsubscribe()
    unsubscribe()  # twice is fine
    unsubscribe_bad()
    app.call("/echo", {"n": 2})
    assert len(got) == 1


def test_records_from_many_threads_get_unique_ids(app):
    def work(k):
        for n in range(100):
            app.call("/echo", {"n": k * 100 + n})

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    app.configure(log_size=1000)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert app.log.total == 800 and len({e.id for e in app.log}) == 800


def test_save_writes_json_lines_atomically(app, tmp_path):
    for n in range(3):
        app.call("/echo", {"n": n, "password": "p"})
    target = tmp_path / "log.jsonl"
    assert app.log.save(target) == 3
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["body"] for r in rows] == [{"n": n, "password": "***"} for n in range(3)]
    assert {"id", "time", "method", "path", "status", "handler", "headers", "response", "handler_ms",
            "total_ms", "error", "traceback", "flags"} <= set(rows[0])
    assert os.listdir(tmp_path) == ["log.jsonl"]  # no temporary file left


def test_a_failed_save_leaves_the_old_file_whole(app, tmp_path, monkeypatch):
    target = tmp_path / "log.jsonl"
    target.write_text("old\n")
    app.call("/echo", {"n": 1})
    monkeypatch.setattr(Exchange, "to_dict", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        app.log.save(target)
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["log.jsonl"]


def test_to_frame_has_one_row_per_exchange(app):
    app.call("/echo", {"n": 1})
    app.call("/nope", raise_errors=False)
    frame = app.log.to_frame()
    assert list(frame["path"]) == ["/echo", "/nope"] and list(frame["status"]) == [200, 404]
    assert str(frame["time"].dtype).startswith("datetime64")
    assert "fingerprint" not in frame.columns
    assert not [c for c in frame.columns if c.startswith("_")]  # the raw, unmasked bytes stay in memory


def test_clear_forgets_entries_but_keeps_subscribers(app):
    got = []
    app.log.subscribe(got.append)
    client = app.test_client()
    client.post("/echo", json={"n": 1})
    app.log.clear()
    assert len(app.log) == 0 and app.log.last() is None
    app.log.record(Exchange("POST", "/echo", 200, fingerprint=fingerprint("POST", "/echo", b"{}")))
    app.log.clear()
    app.log.record(Exchange("POST", "/echo", 200, fingerprint=fingerprint("POST", "/echo", b"{}")))
    assert len(got) == 3 and app.log.last().flags == []  # the retry memory was cleared too


def test_find_last_and_repr(app):
    app.call("/echo", {"n": 1})
    e = app.log.last()
    assert app.log.find(e.id) is e and app.log.find(999) is None
    assert repr(e) == "<Exchange POST /echo -> echo 200>" and repr(app.log) == "<Log: 1 exchanges>"
