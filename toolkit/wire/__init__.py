"""Chatlayer's wire formats besides the API step's own (which are ``toolkit.messages`` and
``toolkit.reply``): the webhook channel's message bodies (``webhook``) and the V1 API's message
formats (``v1format``). Pure functions over JSON-ready dicts, used by the emulator, the emulated V1 API
and the real client alike.
"""
