"""Issue 23 §1: memory stays bounded whatever arrives. Refused requests keep a capped prefix of their
body and headers; the LiveBot inbox and the emulated channel's stores drop their oldest items and
count them."""

from __future__ import annotations

import gc
import tracemalloc

import pytest
import requests
from hostile import send, serving
from livebots import emulated_api, live_bot

import toolkit as tk
from toolkit import Incoming
from toolkit.chatlayer import live
from toolkit.emulator import Conversation
from toolkit.v1emulator import channel as v1channel

MIB = 1 << 20
TOKEN = "Bearer-t0ken-9d1f"


def guarded() -> tk.App:
    app = tk.App("guarded", auth_bearer=TOKEN)
    app.add_handler("/order", lambda order_id="": f"Order {order_id}")
    return app


def test_refused_requests_keep_a_capped_prefix_over_http():
    app = guarded()
    big = b'{"order_id": "A-1", "note": "' + b"x" * (MIB - 40) + b'"}'
    big_text = b"password=hunter22&" + b"y" * (MIB - 18)
    with serving(app) as server:
        refused = [send(server, "POST", "/order", big, {"Content-Type": "application/json"})[0]
                   for _ in range(5)]  # no token: 401
        bad_json = send(server, "POST", "/order", big_text, {"Authorization": f"Bearer {TOKEN}",
                                                             "Content-Type": "text/plain"})[0]
        headers = {f"X-Pad-{i}": "h" * 1000 for i in range(100)}  # 100 kB of headers, refused
        padded = send(server, "POST", "/order", b"{}", headers)[0]
        ok = send(server, "POST", "/order", b'{"order_id": "A-2"}', {"Authorization": f"Bearer {TOKEN}"})[0]
    assert refused == [401] * 5 and bad_json == 400 and padded == 401 and ok == 200
    *flood, text, heads, accepted = app.log.entries()
    limit = app.settings.log_refused_bytes
    for entry in flood:
        assert len(entry.raw_body()) == limit
        assert entry.body.endswith(f"… [cut: {len(big):,} bytes]") and entry.body.startswith('{"order_id"')
    assert text.body.startswith("password=***&") and "hunter22" not in text.body
    assert text.body.endswith(f"… [cut: {len(big_text):,} bytes]")
    assert sum(len(k) + len(v) for k, v in heads.headers.items()) <= limit + 100
    assert heads.headers["…"].startswith("[cut: ") and "X-Pad-0" in heads.headers
    assert accepted.raw_body() == b'{"order_id": "A-2"}' and accepted.body == {"order_id": "A-2"}


def test_accepted_bodies_keep_todays_cap():
    app = tk.App("open")
    app.add_handler("/order", lambda order_id="", note="": f"Order {order_id}")
    body = {"order_id": "A-3", "note": "z" * 200_000}
    app.call("/order", body)
    entry = app.log.last()
    assert len(entry.raw_body()) > 200_000  # kept whole for replays
    assert entry.body.endswith(" bytes in all]") and len(entry.body) < app.settings.log_body_bytes + 100


def test_memory_of_500_refused_1mib_requests_is_bounded():
    app = guarded()
    body = b"{" + b" " * (MIB - 2) + b"}"
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(500):
            app.handle(Incoming("POST", "/order", headers={"Content-Type": "application/json"},
                                raw=bytes(bytearray(body))))  # a new body each time, as the server reads it
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(app.log) == 500 and app.log.last().status == 401
    assert kept < 500 * 3 * app.settings.log_refused_bytes, f"{kept:,} bytes kept"  # was ~0.55 GB


# --- the LiveBot inbox and the emulated channel ---------------------------------------------------



@pytest.fixture
def api(demo_app):
    yield from emulated_api(demo_app)




def test_the_livebot_inbox_is_bounded_and_counts_what_it_dropped(demo_app, api, monkeypatch):
    monkeypatch.setattr(live, "INBOX_MAX", 5)
    bot = live_bot(demo_app, api)
    conversation = Conversation(bot)
    conversation.restart()
    answer = bot.received[-1]
    before = len(bot.received)
    for _ in range(8):
        assert requests.post(bot.webhook_url(), json=answer, timeout=10).status_code == 200
    assert len(bot.received) == 5 and bot.dropped == before + 8 - 5
    assert f"{bot.dropped} dropped from the inbox" in repr(bot)
    assert conversation.say("Where is my order?").messages  # still answers


def test_the_emulated_channel_keeps_its_newest_items_and_counts_the_rest(demo_app, api, monkeypatch):
    monkeypatch.setattr(v1channel, "KEEP", 3)
    channel = api.channels["web-1"]
    channel.webhook_url = None  # keep the answers in channel.sent only
    with api.client() as client:
        for i in range(6):
            client.webhook_message("web-1", {"textMessage": {"text": "hi"}}, {"id": f"user-{i}"})
    assert channel.wait(30)
    assert len(channel.received) == 3 and len(channel.conversations) == 3 and len(channel.sent) <= 3
    assert channel.dropped >= 6 and f"{channel.dropped} dropped (oldest first)" in repr(channel)
    assert list(channel.conversations) == ["user-3", "user-4", "user-5"]
