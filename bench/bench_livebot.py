"""LiveBot: what a turn with the live bot costs over the same turn with the emulated partner.

Both sides run the same flow (a greeting, then an intent whose API step calls the app over HTTP).
The emulated partner is ``Conversation(flow, server)``; the "live" one is ``Conversation(LiveBot)``
talking to the V1 emulator's webhook channel on loopback: the V1 call that injects the message, the
channel's thread running the flow, one POST per bot message to the receiver route, and the quiet
period (set low: 5 ms; with a real bot it is ``livebot_quiet_s``, 1 s by default, and dominates).
The figure is the ratio of the fastest turns of each (lower is better; the fastest, because the
emulated turn is about a millisecond and a loaded machine's noise would swamp a median); the note gives
the overhead in ms. About 8x today (about 8 ms more a turn, 5 of them the quiet period); the target, 12x,
fails when the live turn gets twice as slow.
"""

from __future__ import annotations

import time

import toolkit as tk
from toolkit.chatlayer.live import LiveBot
from toolkit.v1emulator.api import V1Emulator

from .harness import Figure

TURNS = 60


def make_flow() -> tk.Flow:
    flow = tk.Flow("bench-live")
    flow.message("start", "Hi! Type 'track'.")
    flow.api("lookup", tk.ApiStep("POST", "/orders", body=[("orderId", "text", "A-1042")]), next="done")
    flow.message("done", tk.quick_replies("Anything else?", tk.postback("Track again", "lookup")))
    flow.intent("track", keywords=["track"], go="lookup")
    return flow


def per_turn(conversation: tk.Conversation) -> float:
    """Seconds of the fastest user turn (the intent and its API step)."""
    times = []
    for _ in range(TURNS):
        start = time.perf_counter()
        conversation.say("track")
        times.append(time.perf_counter() - start)
    return min(times)


def run() -> list[Figure]:
    app = tk.App("bench-livebot", log_size=50)
    app.add_handler("/orders", lambda orderId: tk.Reply(messages=[f"Order {orderId} has shipped."]))
    server = app.serve(port=0)
    api = V1Emulator("bench-live", token="bench-token").start()
    try:
        channel = api.webhook_channel("bench", make_flow(), server, verify_token="bench-verify")
        bot = LiveBot(app, "bench", "bench-token", verify_token="bench-verify", base_url=api.url,
                      quiet_s=0.005, deadline_s=30, settled=channel.idle)
        channel.webhook_url = bot.webhook_url()
        emulated = per_turn(tk.Conversation(make_flow(), server))
        live = per_turn(tk.Conversation(bot))
    finally:
        api.stop()
        server.stop()
    overhead_ms = (live - emulated) * 1000
    return [Figure("LiveBot turn (webhook channel, quiet 5 ms) vs emulated turn", live, emulated, "s/turn",
                   12.0, higher_is_better=False, note=f"overhead {overhead_ms:.1f} ms per turn")]
