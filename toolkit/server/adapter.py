"""The app's Flask object, ``app.flask``: one catch-all rule that dispatches to :meth:`App.handle`.

It is the one WSGI app: ``app.serve()`` (waitress), ``toolkit serve`` (waitress or gunicorn),
``toolkit export`` and ``app.test_client()`` all run it. Handlers are looked up per request, so a
handler defined or redefined after start is served at once; routes, blueprints, hooks
(``before_request`` / ``after_request``) and extensions a user adds to ``app.flask`` are served
everywhere too (Werkzeug prefers a fixed rule such as ``/health`` to the catch-all). Every error
Flask itself answers (an unknown method, a bad request, a user route that raises) gets the one JSON
error shape of :func:`toolkit.errors.error_body`.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

from flask import Flask, Response
from flask import request as flask_request
from werkzeug.exceptions import HTTPException

from ..errors import ToolkitError, error_body
from ..request import METHODS

if TYPE_CHECKING:
    from ..app import App

KINDS = {413: "payload_too_large"}  # Werkzeug's name where ours differs


def read_body(stream: Any, declared: int | None, limit: int) -> tuple[bytes, int | None]:
    """The body and, when it was too large to read, its declared size.

    Reads at most ``limit + 1`` bytes: enough to tell that a body is over the limit.
    """
    if declared is not None and declared > limit:
        return b"", declared
    if declared == 0:
        return b"", None
    return stream.read(limit + 1), None


def make_flask(app: App) -> Flask:
    """A Flask app whose catch-all rule dispatches to ``app`` (relative paths: the working folder)."""
    flask_app = Flask(f"toolkit.{app.name}", root_path=os.getcwd(), static_folder=None)
    flask_app.url_map.merge_slashes = False  # '//x' reaches the handler lookup, not a 308 redirect

    def dispatch(path: str = "") -> Response:
        t0 = time.perf_counter()
        request = flask_request._get_current_object()  # type: ignore[attr-defined]
        environ = request.environ
        raw, size = read_body(request.stream, request.content_length, app.settings.max_body_bytes)
        query = request.args.to_dict() if environ.get("QUERY_STRING") else {}
        result = app.handle(request.method, request.path, query=query, headers=dict(request.headers),
                            raw=raw, started=t0, body_size=size)
        return Response(result.data, status=result.status, mimetype="application/json")

    flask_app.add_url_rule("/", "toolkit", dispatch, methods=list(METHODS))
    flask_app.add_url_rule("/<path:path>", "toolkit", dispatch, methods=list(METHODS))
    flask_app.register_error_handler(HTTPException, _http_error)
    return flask_app


def _http_error(exc: HTTPException) -> Response:
    """An error Flask or Werkzeug answers itself, in the one JSON error shape."""
    status = exc.code or 500
    original = getattr(exc, "original_exception", None)
    if status == 500 and original is not None:
        message = (f"{flask_request.method} {flask_request.path} raised "
                   f"{type(original).__name__}: {original}")
        hint = "A route or hook added to app.flask failed; see the traceback in the 'toolkit' logger."
    else:
        message = exc.description or exc.name
        hint = f"Send one of {', '.join(METHODS)} with a JSON body to a handler's path."
    err = ToolkitError(message, status=status, hint=hint)
    err.kind = KINDS.get(status) or exc.name.lower().replace(" ", "_")
    response = Response(json.dumps(error_body(err)), status=status, mimetype="application/json")
    for name, value in exc.get_headers():  # e.g. Allow of a 405
        if name.lower() != "content-type":
            response.headers[name] = value
    return response
