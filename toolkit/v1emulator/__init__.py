"""Chatlayer's remote side as we emulate it: the V1 REST API (:class:`~toolkit.v1emulator.api.V1Emulator`),
its conversation store and the webhook channel that delivers the bot's messages, all offline.
"""
