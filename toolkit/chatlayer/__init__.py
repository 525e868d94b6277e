"""The real Chatlayer: the V1 API client, the live bot (:class:`~toolkit.chatlayer.live.LiveBot`),
parity between the emulator and a live bot, calibration of a real bot's API step and background pushes.

The client imports requests; load it on use (``toolkit.ChatlayerClient`` does).
"""
