"""The request log layer: :class:`Exchange` (one call), :class:`Log` (the ring buffer),
:class:`Masker` (secrets out), the trace of a request, and the ``toolkit`` logger.

Part of the core: it imports neither Flask nor ipywidgets.
"""

from .buffer import Log, Subscriber
from .exchange import Exchange, fingerprint
from .logger import logger
from .masking import ALWAYS_MASKED, MASK, Masker, cut, mask
from .trace import (
    Sandbox,
    Trace,
    current_sandbox,
    current_trace,
    note_outbound,
    note_table_error,
    note_table_read,
    sandbox,
    trace,
)

__all__ = [
    "ALWAYS_MASKED", "MASK", "Exchange", "Log", "Masker", "Sandbox", "Subscriber", "Trace", "current_sandbox",
    "current_trace", "cut", "sandbox",
    "fingerprint", "logger", "mask", "note_outbound", "note_table_error", "note_table_read", "trace",
]
