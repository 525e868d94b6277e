"""The small exception tree. Every error the toolkit answers maps to one HTTP status here.

Each error carries the fix: ``message`` says what was wrong, ``hint`` what to do next. The JSON
body that goes on the wire is built by :func:`error_body` and nowhere else (locked by
``tests/test_error_shape.py``).
"""

from __future__ import annotations

from typing import Any


class ToolkitError(Exception):
    """Base of every toolkit error. ``status`` is the HTTP status the server answers with."""

    status: int = 500
    kind: str = "error"

    def __init__(
        self, message: str, *, hint: str = "", handler: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.handler = handler
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.message}\n  Fix: {self.hint}" if self.hint else self.message


class ConfigError(ToolkitError, ValueError):
    """A setting has an unknown name or a value of the wrong type."""

    kind = "config_error"


class BadRequest(ToolkitError):
    """The request cannot be turned into handler arguments (bad JSON, missing or bad parameter)."""

    status = 400
    kind = "bad_request"


class Unauthorized(ToolkitError):
    """Access control rejected the request. Messages never echo a secret."""

    status = 401
    kind = "unauthorized"


class NotFound(ToolkitError):
    """No handler is registered for the path."""

    status = 404
    kind = "not_found"


class MethodNotAllowed(ToolkitError):
    """A handler exists for the path, but not for this HTTP method."""

    status = 405
    kind = "method_not_allowed"


class PayloadTooLarge(ToolkitError):
    """The request body is over the ``max_body_bytes`` setting."""

    status = 413
    kind = "payload_too_large"


class ReplyError(ToolkitError, ValueError):
    """A handler returned something that is not a valid Chatlayer reply."""

    status = 500
    kind = "invalid_reply"


class HandlerError(ToolkitError):
    """A handler raised an exception; the original is chained as ``__cause__``."""

    status = 500
    kind = "handler_error"


class PortInUse(ToolkitError):
    """``app.serve()`` could not listen: the port is held by another program or another app.

    ``port`` is the port asked for; ``free_port`` a nearby port that was free when checked (or None).
    """

    kind = "port_in_use"

    def __init__(self, message: str, *, port: int, free_port: int | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.port, self.free_port = port, free_port


def error_body(error: ToolkitError, *, traceback: str | None = None) -> dict[str, Any]:
    """The one JSON shape of every error answer: ``{"error": {status, type, message, handler, hint}}``."""
    body: dict[str, Any] = {
        "status": error.status,
        "type": error.kind,
        "message": error.message,
        "handler": error.handler,
        "hint": error.hint,
    }
    if traceback:
        body["traceback"] = traceback
    return {"error": body}
