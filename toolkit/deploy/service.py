"""Run an App under a production WSGI server: waitress (everywhere: one process, N threads) or
gunicorn (Linux/macOS: N worker processes). ``python -m toolkit serve`` lands here.

Each worker is stateless per request (the conversation's session lives in Chatlayer), so workers and
machines can be added behind a load balancer; ``/_toolkit/health`` answers its health checks.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..app import App
from ..errors import ServeError
from ..tunnel.expose import has_access_control
from .loader import load, wsgi_app

SERVERS = ("auto", "waitress", "gunicorn")
Announce = Callable[[str], None]


def gunicorn_available() -> bool:
    """gunicorn is importable and this is a POSIX system (it does not run on Windows)."""
    return os.name == "posix" and importlib.util.find_spec("gunicorn") is not None


def choose_server(server: str, workers: int) -> str:
    """``auto``: gunicorn for more than one worker when available, else waitress."""
    if server not in SERVERS:
        raise ServeError(f"Unknown server {server!r}.", hint=f"Use one of {', '.join(SERVERS)}.")
    if server == "auto":
        return "gunicorn" if workers > 1 and gunicorn_available() else "waitress"
    if server == "gunicorn" and not gunicorn_available():
        raise ServeError("gunicorn is not available here (not installed, or Windows).",
                         hint="pip install gunicorn (Linux/macOS), or use --server waitress "
                         "(one process; raise --threads).")
    return server


def describe(app: App, server: str, workers: int, threads: int, url: str) -> str:
    """The one line the command prints when it is ready."""
    paths = sorted(r.path for r in app.routes())
    shown = ", ".join(paths[:8]) + (f", ... ({len(paths) - 8} more)" if len(paths) > 8 else "")
    how = f"gunicorn, {workers} workers" if server == "gunicorn" else f"waitress, {threads} threads"
    count = f"{len(paths)} handler{'s' * (len(paths) != 1)}"
    return f"Serving {app.name!r} ({count}: {shown or 'none'}) with {how} at {url}"


def run_waitress(wsgi: Any, host: str, port: int, threads: int, announce: Announce,
                 settings: Any = None) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM), with the waitress options of ``app.serve()``
    (connection limit, channel timeout; ``settings``: the app's) but ``threads`` threads."""
    from waitress import create_server

    from ..config import Settings
    from ..server.engine import Tuning, harden

    options = Tuning.from_settings(settings or Settings()).options() | {"threads": threads}
    server = harden(create_server(wsgi, host=host, port=port, **options))
    announce(f"http://{_host(host)}:{server.effective_port}")  # type: ignore[union-attr]

    def stop(*_: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    server.run()


def run_gunicorn(wsgi: Any, host: str, port: int, workers: int, announce: Announce,
                 options: dict[str, Any] | None = None) -> None:
    """Serve with gunicorn: the App is loaded once here, then the worker processes are forked."""
    from gunicorn.app.base import BaseApplication

    def when_ready(arbiter: Any) -> None:
        bound = arbiter.LISTENERS[0].sock.getsockname()
        announce(f"http://{_host(host)}:{bound[1]}")

    settings = {"bind": f"{_host(host)}:{port}", "workers": workers, "preload_app": True,
                "when_ready": when_ready, "proc_name": "toolkit", **(options or {})}

    class Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25.1: no socket in $HOME
                self.cfg.set("control_socket_disable", True)
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return wsgi

    Gunicorn().run()


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def access_log(app: App) -> None:
    """One line per request on stderr: method, path, status, handler, milliseconds."""
    log = logging.getLogger("toolkit.access")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    app.log.subscribe(lambda e: log.info("%s %s %s %s %.1f ms", e.method, e.path, e.status,
                                         e.handler or "-", e.total_ms))


def serve(path: str, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, threads: int = 4,
          server: str = "auto", app_name: str | None = None, strict: bool = False,
          log_requests: bool = False, announce: Announce | None = None) -> int:
    """Load PATH's App and serve it until interrupted. A notebook runs with its own folder as the
    working directory (as in Jupyter), so its relative data paths keep working."""
    kind = choose_server(server, workers)
    check_port(host, port)  # a busy port fails now, with the fix, before the notebook runs
    target = Path(path)
    if target.suffix == ".ipynb" and target.is_file():
        os.chdir(target.resolve().parent)
        path = target.name
    app = load(path, app_name, strict=strict)
    if not has_access_control(app.settings):
        print("Note: no access control is set, so anyone who reaches this server can call it. Set "
              "TOOLKIT_AUTH_BEARER (or TOOLKIT_AUTH_BASIC, TOOLKIT_AUTH_HEADER, TOOLKIT_HMAC_SECRET).",
              file=sys.stderr, flush=True)
    if log_requests:
        access_log(app)

    def ready(url: str) -> None:
        (announce or _print)(describe(app, kind, workers, threads, url))

    if kind == "gunicorn":
        run_gunicorn(wsgi_app(app), host, port, workers, ready)
    else:
        if workers > 1:
            _print(f"Note: waitress runs one process; serving with {threads} threads "
                   f"(gunicorn, for {workers} worker processes, is not available here).")
        run_waitress(wsgi_app(app), host, port, threads, ready, app.settings)
    return 0


def check_port(host: str, port: int) -> None:
    """Raise the error of :func:`toolkit.server.lifecycle.listen_error` (with the fix, spelled as
    options) when ``host:port`` cannot be listened on."""
    from ..server.engine import bind
    from ..server.lifecycle import COMMAND_LINE, listen_error

    if port == 0:
        return
    try:
        bind(host, port).close()
    except OSError as exc:
        raise listen_error(exc, host, port, COMMAND_LINE) from None


def _print(line: str) -> None:
    print(line, flush=True)
