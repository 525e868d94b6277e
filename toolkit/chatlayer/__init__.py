"""The real Chatlayer V1 API: the client, the V1 message formats and background pushes.

The client imports requests; load it on use (``toolkit.ChatlayerClient`` does).
"""
