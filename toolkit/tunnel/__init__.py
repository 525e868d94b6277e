"""The tunnel layer: ``server.expose()`` through a provider (ngrok, or the offline fake), and the
paste guide that tells what to put in the Chatlayer API step.
"""

from ..errors import TunnelError
from .expose import (
    FAKE_DOMAIN,
    PROVIDERS,
    FakeProvider,
    TunnelProvider,
    agent,
    close_all,
    expose,
    has_access_control,
    register_provider,
    run_with_deadline,
    unexpose,
)
from .guide import Tunnel

__all__ = [
    "FAKE_DOMAIN", "PROVIDERS", "FakeProvider", "Tunnel", "TunnelError", "TunnelProvider", "agent",
    "close_all", "expose", "has_access_control", "register_provider", "run_with_deadline", "unexpose",
]
