"""Access control, mirroring the API step's Authorization tab: Bearer token, Basic auth, a custom
header, and an HMAC signature check. Filled in by the Embedded-server work; a no-op until a
setting turns a check on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .request import Request


def check_access(request: Request, settings: Mapping[str, Any]) -> None:
    """Raise :class:`~toolkit.errors.Unauthorized` when the request fails a configured check."""
    return None
