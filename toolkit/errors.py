"""The small exception tree. Every error the toolkit answers maps to one HTTP status here.

Each error carries the fix: ``message`` says what was wrong, ``hint`` what to do next. The JSON
body that goes on the wire is built by :func:`error_body` and nowhere else (locked by
``tests/test_error_shape.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


class UnknownSetting(ConfigError, AttributeError):
    """A setting read by a name that is not a setting (``app.settings.dedline_s``); names the closest."""


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


class BuilderError(ReplyError, TypeError):
    """A message builder (``toolkit.buttons``, ``carousel``, ``carousel_from_frame``, ...) got an item or
    a column it cannot use; the message names the builder, the position and what it accepts."""

    kind = "builder_error"


class HandlerError(ToolkitError):
    """A handler raised an exception; the original is chained as ``__cause__``."""

    status = 500
    kind = "handler_error"


class PortInUse(ToolkitError):
    """``app.serve()`` or ``toolkit serve`` could not listen: the port is held by another program or
    another app.

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


# --- The errors of each layer, defined here so that ``toolkit.errors`` names the whole tree. ---
# data/


class TableError(ToolkitError, ValueError):
    """A CSV table cannot be loaded or changed: bad file, bad row, unknown column, wrong type."""

    kind = "table_error"


class TableFileNotFound(TableError, FileNotFoundError):
    """The CSV file does not exist."""


class KeyNotFound(TableError, KeyError):
    """No row has this key. ``suggestions`` holds close keys (the "did you mean" list)."""

    status = 404
    kind = "not_found"

    def __init__(self, message: str, *, hint: str = "", suggestions: Sequence[object] = ()) -> None:
        super().__init__(message, hint=hint)
        self.suggestions = list(suggestions)


class TableDatabaseError(TableError):
    """The database behind a table cannot be reached or used (wrong URL, missing driver, refused)."""

    status = 503
    kind = "database_unavailable"


# deploy/, tunnel/, testing/, log/outbound


class ServeError(ToolkitError):
    """A notebook or module cannot be loaded or served."""

    kind = "serve_error"


class NotServing(ServeError):
    """Something needs the app's server running in this process (``app.serve()``), and it is not.

    Raised at once rather than after a timeout, e.g. by a :class:`toolkit.LiveBot` turn, whose answers
    arrive at that server. ``toolkit serve`` counts a notebook cell failing with it as one that needs
    the live notebook (skipped quietly).

    >>> raise NotServing("App 'shop' is not served.", hint="Run server = app.serve(port=0) first.")
    Traceback (most recent call last):
    toolkit.errors.NotServing: App 'shop' is not served.
      Fix: Run server = app.serve(port=0) first.
    """

    kind = "not_serving"


class TunnelError(ToolkitError):
    """A tunnel could not be opened: the message says why, the hint what to do."""

    kind = "tunnel_error"


class FixtureError(ToolkitError):
    """A fixture cannot be saved or read."""

    kind = "fixture_error"


class ReplayError(ToolkitError, ValueError):
    """An edited request cannot be replayed as written (not JSON, or not the expected shape)."""

    kind = "replay_error"


class MissingRecording(ToolkitError):
    """A handler made an HTTP call that the recording (a fixture's ``outbound`` list) lacks."""

    status = 500
    kind = "missing_recording"


# chatlayer/


class ChatlayerError(ToolkitError):
    """Chatlayer's V1 API answered with an error or could not be reached.

    ``api_status`` is Chatlayer's HTTP status (``None`` when there was no answer), ``body`` its answer.
    Raised inside a handler it answers 502, since the fault is upstream.
    """

    status = 502
    kind = "chatlayer_api_error"

    def __init__(self, message: str, *, hint: str = "", api_status: int | None = None,
                 body: Any = None) -> None:
        super().__init__(message, hint=hint)
        self.api_status = api_status
        self.body = body


class CalibrationError(ToolkitError, ValueError):
    """``toolkit.calibrate`` cannot do what was asked (no probe received yet, a bad option)."""

    kind = "calibration_error"


class ChatlayerTimeout(ChatlayerError):
    """Chatlayer did not answer within the client's ``timeout``."""

    status = 504
    kind = "chatlayer_timeout"


class LiveBotTimeout(ChatlayerError):
    """A turn with the live bot got no (complete) answer before its deadline.

    ``turn`` names the turn, ``arrived`` holds the bot messages that did arrive (maybe none).
    """

    status = 504
    kind = "live_bot_timeout"

    def __init__(self, message: str, *, hint: str = "", turn: str = "",
                 arrived: Sequence[Any] = ()) -> None:
        super().__init__(message, hint=hint)
        self.turn, self.arrived = turn, list(arrived)


# emulator/


class ApiStepError(ToolkitError, ValueError):
    """An API step is configured wrongly (a bad row, method, auth or block)."""

    kind = "api_step_error"


class V1Error(ToolkitError):
    """An error answer of the emulated V1 API (:class:`toolkit.V1Emulator`), in the one error shape.

    ``headers`` go with the answer (e.g. ``x-ratelimit-*`` on a 429, ``Retry-After``).
    """

    kind = "v1_error"

    def __init__(self, status: int, message: str, *, hint: str = "",
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message, hint=hint, status=status)
        self.headers = dict(headers or {})


class ConversationError(ToolkitError, ValueError):
    """A user action the conversation cannot do (no such button, a bad location)."""

    kind = "conversation_error"


class FlowError(ToolkitError, ValueError):
    """A flow (or a flow file) is not valid: the message names the block and the fix."""

    kind = "flow_error"


class PathError(ToolkitError, ValueError):
    """A session path cannot be parsed, or cannot be written."""

    kind = "path_error"


class SessionError(ToolkitError, ValueError):
    """A write the session refuses (``internal`` is read-only) or a bad session setting."""

    kind = "session_error"


class TemplateError(ToolkitError, ValueError):
    """A template names an unknown modifier, a missing variable (``missing_variable='error'``), or
    increments something that is not a number."""

    kind = "template_error"


def article(word: str) -> str:
    """``word`` with its article, for messages: ``article("str")`` is ``"a str"``, ``article("int")``
    ``"an int"``."""
    return f"{'an' if word[:1].lower() in 'aeio' else 'a'} {word}"
