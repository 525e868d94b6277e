"""The Flask adapter: one catch-all rule hands every request to :meth:`App.handle`, so handlers
defined or redefined after start are served on the next request.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from flask import Flask, Response
from flask import request as flask_request
from werkzeug.exceptions import HTTPException

from .errors import ToolkitError, error_body
from .request import METHODS

if TYPE_CHECKING:
    from .app import App


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
        return Response(result.data, status=result.status, mimetype="application/json")

    @flask_app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        err = ToolkitError(exc.description or exc.name, status=exc.code or 500,
                           hint=f"Send one of {', '.join(METHODS)} with a JSON body.")
        err.kind = exc.name.lower().replace(" ", "_")
        return Response(json.dumps(error_body(err)), status=err.status, mimetype="application/json")

    return flask_app
