"""The web adapters, both thin over :meth:`App.handle` so they cannot disagree: the Flask app (one
catch-all rule; ``app.flask_app`` / ``app.test_client()``) and a lean WSGI callable that skips
Flask's request machinery (what ``app.serve()`` runs). Handlers defined or redefined after start
are served on the next request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from flask import Flask, Response
from flask import request as flask_request
from werkzeug.exceptions import HTTPException

from ..errors import ToolkitError, error_body
from ..request import METHODS

if TYPE_CHECKING:
    from ..app import App


def read_body(stream: Any, declared: int | None, limit: int) -> tuple[bytes, int | None]:
    """The body and, when it was too large to read, its declared size.

    Reads at most ``limit + 1`` bytes: enough to tell that a body is over the limit.
    """
    if declared is not None and declared > limit:
        return b"", declared
    raw = stream.read(limit + 1)
    return raw, None


def make_flask(app: App) -> Flask:
    """A Flask app whose only rule dispatches to ``app``."""
    flask_app = Flask(f"toolkit.{app.name}")

    @flask_app.route("/", defaults={"path": ""}, methods=list(METHODS))
    @flask_app.route("/<path:path>", methods=list(METHODS))
    def dispatch(path: str) -> Response:
        t0 = time.perf_counter()
        r = flask_request
        raw, size = read_body(r.stream, r.content_length, app.settings.max_body_bytes)
        result = app.handle(r.method, "/" + path, query=r.args.to_dict(), headers=dict(r.headers),
                            raw=raw, started=t0, body_size=size)
        return Response(result.data, status=result.status, mimetype="application/json",
                        headers=result.headers or None)

    @flask_app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        err = ToolkitError(exc.description or exc.name, status=exc.code or 500,
                           hint=f"Send one of {', '.join(METHODS)} with a JSON body.")
        err.kind = exc.name.lower().replace(" ", "_")
        return Response(json.dumps(error_body(err)), status=err.status, mimetype="application/json")

    return flask_app


def make_wsgi(app: App) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A lean WSGI callable over ``app.handle``: the same answers as ``app.flask_app``, faster."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        t0 = time.perf_counter()
        headers = environ_headers(environ)
        declared = _declared(environ)
        raw, size = (b"", None) if declared == 0 else read_body(
            environ["wsgi.input"], declared, app.settings.max_body_bytes)
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        result = app.handle(environ["REQUEST_METHOD"], path or "/", query=query_dict(environ),
                            headers=headers, raw=raw, started=t0, body_size=size)
        start_response(f"{result.status} {_PHRASES.get(result.status, '')}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(result.data))),
                        *result.headers.items()])
        return [result.data]

    return wsgi


def _declared(environ: dict[str, Any]) -> int | None:
    """The declared body length; None when the body ends with the stream (chunked)."""
    if not environ.get("CONTENT_LENGTH"):
        return None if environ.get("wsgi.input_terminated") else 0
    try:
        return max(0, int(environ["CONTENT_LENGTH"]))
    except ValueError:
        return 0


_PHRASES = {s.value: s.phrase for s in HTTPStatus}


def environ_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request headers of a WSGI environ, spelled like Werkzeug's (``X-Api-Key``)."""
    headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


def query_dict(environ: dict[str, Any]) -> dict[str, str]:
    """The query string as a dict; the first value of a repeated key wins (as Werkzeug's ``to_dict``)."""
    qs = environ.get("QUERY_STRING")
    if not qs:
        return {}
    query: dict[str, str] = {}
    for k, v in parse_qsl(qs.encode("latin-1").decode("utf-8", "replace"), keep_blank_values=True):
        query.setdefault(k, v)
    return query
