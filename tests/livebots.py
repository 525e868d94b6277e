"""A LiveBot over the emulated V1 API and webhook channel, as several test modules set it up: the demo
flow on channel ``web-1``, answering the served demo app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from toolkit.chatlayer.live import LiveBot
from toolkit.demo import build_flow
from toolkit.v1emulator.api import V1Emulator

TOKEN = "live-access-token"
VERIFY = "verify-0123456789"


def emulated_api(app: Any) -> Iterator[V1Emulator]:
    """For a fixture: ``yield from emulated_api(app)`` starts the emulated V1 API with channel
    ``web-1`` (the demo flow, calling ``app``'s server) and stops it afterwards."""
    api = V1Emulator("beanbox", token=TOKEN).start()
    api.webhook_channel("web-1", build_flow(), app.server, verify_token=VERIFY)
    try:
        yield api
    finally:
        api.stop()


def live_bot(app: Any, api: V1Emulator, **options: Any) -> LiveBot:
    """A LiveBot on channel ``web-1`` whose answers come from ``api``'s channel (quiet 20 ms)."""
    channel = api.channels["web-1"]
    options.setdefault("quiet_s", 0.02)
    bot = LiveBot(app, "web-1", TOKEN, verify_token=VERIFY, base_url=api.url, settled=channel.idle,
                  deadline_s=options.pop("deadline_s", 30), **options)
    channel.webhook_url = bot.webhook_url()
    return bot
