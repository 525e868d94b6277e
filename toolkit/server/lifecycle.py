"""``app.serve()``: the embedded server's lifecycle, safe to re-run from a notebook.

``app.serve(port=5000)`` binds in the caller's thread (a busy port fails in the cell, with the way
out), serves ``app.flask`` with waitress on daemon threads (:mod:`toolkit.server.engine`) and
returns a :class:`Server`. Running the cell again, even with a new ``App`` of the same name, first
stops the server it replaces. Every running server is kept in one registry of this process and
stopped at interpreter exit.
"""

from __future__ import annotations

import atexit
import errno
import functools
import logging
import socket
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ..access import check_settings
from ..errors import ConfigError, PortInUse, ToolkitError
from .engine import HTTPServer, Tuning

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("toolkit.server")
C = TypeVar("C", bound=Callable[[], object])

_running: list[Server] = []
_registry_lock = threading.RLock()
_serve_watchers: list[weakref.ref[Callable[[Server], object]]] = []


class Server:
    """A running embedded server: ``.url``, ``.port``, ``.stop()``; also a context manager.

    >>> with app.serve(port=0) as server:        # doctest: +SKIP
    ...     requests.post(server.url + "/greet", json={"name": "Ada"})
    """

    def __init__(self, app: App, core: HTTPServer, host: str) -> None:
        self.app, self.host, self._core = app, host, core
        self._callbacks: list[Callable[[], object]] = []
        self._lock = threading.Lock()
        self._stopped = False
        self.stop_reason = ""
        """Why it stopped: ``""`` while running, ``"stop"`` (its :meth:`stop` was called), ``"replaced"``
        (the app was served again, e.g. a re-run cell) or ``"exit"`` (the interpreter is ending)."""

    @property
    def port(self) -> int:
        """The port it listens on (the one picked when served with ``port=0``)."""
        return self._core.port

    @property
    def url(self) -> str:
        """Where to send requests from this machine, e.g. ``http://127.0.0.1:5000``."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def browser_url(self) -> str:
        """Where a person opens it: :attr:`url`, or behind JupyterHub / jupyter-server-proxy the proxied
        URL (``/user/ada/proxy/5000``; the ``proxy_url_prefix`` setting). Programs use :attr:`url`."""
        from ..proxyurls import human_url

        return human_url(self.url, self.port, self.app.settings.proxy_url_prefix)

    @property
    def running(self) -> bool:
        return not self._stopped and self._core.running

    def on_stop(self, callback: C) -> C:
        """Call ``callback()`` when the server stops (at once if it already has). Returns it.

        The callback runs in the thread that stops the server, before the port is freed; it can read
        :attr:`stop_reason`. A callback that raises is logged and does not block the stop.

        >>> server.on_stop(lambda: print("stopped"))  # doctest: +SKIP
        """
        with self._lock:
            if not self._stopped:
                self._callbacks.append(callback)
                return callback
        _call(callback)
        return callback

    def stop(self) -> None:
        """Stop serving and free the port: prompt, and safe to call twice."""
        self._stop("stop")

    def _stop(self, reason: str) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self.stop_reason = reason
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            _call(callback)
        left = self._core.stop()
        with _registry_lock:
            if self in _running:
                _running.remove(self)
        if getattr(self.app, "server", None) is self:
            self.app.server = None
        if left:
            self.app.notice(f"Server {self.app.name!r} stopped while {len(left)} request(s) were still "
                            "in a handler; their answers are dropped when the handler returns.")

    def expose(self, **kwargs: Any) -> Any:
        from ..tunnel.expose import expose

        return expose(self, **kwargs)

    def unexpose(self) -> Any:
        from ..tunnel.expose import unexpose

        return unexpose(self)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Server {self.app.name!r} {'running' if self.running else 'stopped'}>"

    def _repr_html_(self) -> str | None:
        """Running: the repr and a link a person can open (the proxied URL behind a hub); stopped:
        nothing (the text repr shows)."""
        return server_link_html(repr(self), self.browser_url) if self.running else None


def server_link_html(label: str, url: str) -> str:
    """``label`` and a link to ``url``'s health page, for a notebook."""
    from ..html.templates import macro

    return str(macro("widgets.html", "server_link")(label, url))



def serve(app: App, host: str = "127.0.0.1", port: int = 5000, **settings: Any) -> Server:
    """Serve ``app`` on ``host:port`` from daemon threads; returns once it is listening.

    A server of the same app (or of an app with the same name: a re-run notebook) is stopped
    first. ``port=0`` picks a free port. A port held by anyone else raises :class:`PortInUse`.
    """
    if settings:
        app.configure(**settings)
    port = _check_port(port)
    check_settings(app.settings)
    with _registry_lock:
        for old in [s for s in _running if s.app is app or s.app.name == app.name]:
            logger.info("Replacing the running server of app %r.", app.name)
            old._stop("replaced")
        holder = next((s for s in _running if port and s.port == port), None)
        if holder is not None:
            raise _in_use_here(holder, port, host)
        core = _bind(app, host, port)
        server = Server(app, core, host)
        core.start()
        _running.append(server)
    app.server = server
    for watcher in _watchers():
        _call(functools.partial(watcher, server))
    return server


def on_serve(callback: Callable[[Server], object]) -> None:
    """Call ``callback(server)`` each time a server starts in this process (a re-run cell's too).

    Held weakly: a bound method stops being called once its object is gone, so a widget that
    follows its app's server needs no unsubscribing. A callback that raises is logged.

    >>> on_serve(view.follow)  # doctest: +SKIP
    """
    ref: weakref.ref[Callable[[Server], object]]
    if hasattr(callback, "__self__"):
        ref = weakref.WeakMethod(callback)
    else:
        ref = weakref.ref(callback)
    with _registry_lock:
        _serve_watchers.append(ref)


def _watchers() -> list[Callable[[Server], object]]:
    with _registry_lock:
        _serve_watchers[:] = [r for r in _serve_watchers if r() is not None]
        return [f for f in (r() for r in _serve_watchers) if f is not None]


def running() -> list[Server]:
    """Every server running in this process."""
    with _registry_lock:
        return list(_running)


def stop_all() -> None:
    """Stop every server of this process (also run at interpreter exit)."""
    for server in running():
        server.stop()


def _stop_at_exit() -> None:
    for server in running():
        server._stop("exit")


atexit.register(_stop_at_exit)


def _bind(app: App, host: str, port: int) -> HTTPServer:
    try:
        return HTTPServer(app.flask, host, port, name=app.name, tuning=Tuning.from_settings(app.settings))
    except OSError as exc:
        raise listen_error(exc, host, port) from None


class Spelling(NamedTuple):
    """How the fix in a :func:`listen_error` names a port and a host for its reader."""

    port: str  # a format with {}: "app.serve(port={})" or "--port {}"
    host: str  # "host={!r}" or "--host {}"
    mine: str  # what to say when it may be a server of the reader's own


NOTEBOOK = Spelling("app.serve(port={})", "host={!r}",
                    " If it is a server of yours in another notebook, stop it there (or restart that "
                    "kernel).")
COMMAND_LINE = Spelling("--port {}", "--host {}", " Or stop the program that listens there.")


def listen_error(exc: OSError, host: str, port: int, spelling: Spelling = NOTEBOOK) -> ToolkitError:
    """The error to raise when listening on ``host:port`` failed with ``exc``, its fix spelled for the
    notebook (``app.serve(port=0)``, the default) or the command line (``--port 0``, ``COMMAND_LINE``).

    A busy port is a :class:`PortInUse` naming a port that is free now; no rights, or a host that is
    not this machine's, a :class:`ConfigError`.

    >>> listen_error(OSError(errno.EACCES, "Permission denied"), "127.0.0.1", 80).hint
    'Use a port above 1023, or app.serve(port=0) to pick a free one.'
    """
    p = spelling.port.format
    if exc.errno == errno.EADDRINUSE:
        free = next_free_port(host, port)
        return PortInUse(f"Port {port} on {host} is already in use by another program.", port=port,
                         free_port=free,
                         hint=f"Use {p(0)} to pick a free port{_or_free(free, spelling)}.{spelling.mine}")
    if exc.errno == errno.EACCES:
        return ConfigError(f"Port {port} needs administrator rights.",
                           hint=f"Use a port above 1023, or {p(0)} to pick a free one.")
    h = spelling.host.format
    return ConfigError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
                       hint=f"Use {h('127.0.0.1')} (this machine only) or {h('0.0.0.0')} (every network "
                       "interface).")


def _in_use_here(holder: Server, port: int, host: str) -> PortInUse:
    free = next_free_port(host, port)
    return PortInUse(
        f"Port {port} is already served by app {holder.app.name!r} in this kernel.",
        port=port, free_port=free,
        hint=f"Stop that server first (its .stop(), or toolkit.server.lifecycle.stop_all()), or use "
        f"app.serve(port=0){_or_free(free)}.",
    )


def _or_free(free: int | None, spelling: Spelling = NOTEBOOK) -> str:
    return f", or {spelling.port.format(free)} (free now)" if free else ""


def next_free_port(host: str, port: int, tries: int = 50) -> int | None:
    """The first port after ``port`` that can be bound on ``host`` now, or None."""
    taken = {s.port for s in running()}
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        if candidate in taken:
            continue
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return None


def _check_port(port: Any) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"port must be a whole number from 0 to 65535, got {port!r}.",
                          hint="Use e.g. app.serve(port=5000), or port=0 to pick a free port.")
    return port


def _call(callback: Callable[[], object]) -> None:
    try:
        callback()
    except Exception:  # a failing callback never blocks the stop
        logger.exception("on_stop callback %r failed", callback)
