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
from ..log import logger
from ..request import METHODS, Incoming

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from ..app import App

# Flask and FlaskClient are named here so the core (App's annotations) can name them without importing Flask.
__all__ = ["KINDS", "Flask", "FlaskClient", "headers_of", "make_flask", "read_body"]
KINDS = {413: "payload_too_large"}  # Werkzeug's name where ours differs


def read_body(request: Any, limit: int) -> tuple[bytes, int | None]:
    """The body and, when it was too large to read, its declared size.

    Reads at most ``limit + 1`` bytes straight from ``wsgi.input`` (never past ``Content-Length``):
    enough to tell that a body is over the limit. A body a ``before_request`` hook already read
    (``request.get_data()``) is taken from Flask's cache.
    """
    cached = request.__dict__.get("_cached_data")
    if cached is not None:
        return (cached, None) if len(cached) <= limit else (b"", len(cached))
    environ = request.environ
    declared = environ.get("CONTENT_LENGTH")
    if declared:
        try:
            size = int(declared)
        except ValueError:
            return b"", None
        if size > limit:
            return b"", size
        return (environ["wsgi.input"].read(size) if size > 0 else b""), None
    if environ.get("wsgi.input_terminated"):  # a chunked body, already de-chunked by the server
        return environ["wsgi.input"].read(limit + 1), None
    return b"", None


def headers_of(environ: dict[str, Any]) -> dict[str, str]:
    """The request headers of a WSGI environ, spelled as Werkzeug does (``X-Api-Key``)."""
    names = _NAMES
    headers = {names.get(key) or _name(key): value for key, value in environ.items()
               if key[:5] == "HTTP_"}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["Content-Length"] = environ["CONTENT_LENGTH"]
    return headers


_NAMES: dict[str, str] = {}  # environ key -> header name, e.g. HTTP_X_API_KEY -> X-Api-Key


def _name(key: str) -> str:
    name = key[5:].replace("_", "-").title()
    if len(_NAMES) < 1024:  # the usual few names; a client sending ever new ones does not grow it
        _NAMES[key] = name
    return name


def make_flask(app: App) -> Flask:
    """A Flask app whose catch-all rule dispatches to ``app`` (relative paths: the working folder)."""
    flask_app = Flask(f"toolkit.{app.name}", root_path=os.getcwd(), static_folder=None)
    flask_app.url_map.merge_slashes = False  # '//x' reaches the handler lookup, not a 308 redirect

    def dispatch(path: str = "") -> Response:
        t0 = time.perf_counter()
        request = flask_request._get_current_object()  # type: ignore[attr-defined]
        environ = request.environ
        raw, size = read_body(request, app.settings.max_body_bytes)
        query = request.args.to_dict() if environ.get("QUERY_STRING") else {}
        result = app.handle(Incoming(request.method, request.path, query, headers_of(environ), raw,
                                     started=t0, body_size=size))
        return Response(result.data, status=result.status, mimetype="application/json",
                        headers=result.headers or None)

    flask_app.add_url_rule("/", "toolkit", dispatch, methods=list(METHODS))
    flask_app.add_url_rule("/<path:path>", "toolkit", dispatch, methods=list(METHODS))
    flask_app.register_error_handler(HTTPException, lambda exc: _http_error(exc, app))
    return flask_app


def _http_error(exc: HTTPException, app: App | None = None) -> Response:
    """An error Flask or Werkzeug answers itself, in the one JSON error shape. The text of a user
    route's exception reaches the caller only with the ``expose_errors`` setting (masked)."""
    status = exc.code or 500
    original = getattr(exc, "original_exception", None)
    if status == 500 and original is not None:
        where = f"{flask_request.method} {flask_request.path} raised {type(original).__name__}"
        masker = app._masker if app is not None else None
        said = masker.text(str(original)) if masker is not None else str(original)
        logger.error("%s: %s", where, said)
        exposed = app is not None and app.settings.expose_errors
        message = (f"{where}: {said}" if exposed else
                   f"{where} (its message is in the 'toolkit' logger; expose_errors=True sends it).")
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
