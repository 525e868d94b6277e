"""The embedded server engine: waitress, run on a daemon thread of the kernel.

:class:`HTTPServer` binds the socket in the caller's thread (a busy port fails there, at once),
hands it to :func:`waitress.create_server` and runs waitress's event loop on a daemon thread.
:meth:`HTTPServer.stop` follows webtest's ``StopableWSGIServer``: the loop closes every channel and
the listening socket, then the task dispatcher is shut down and every thread this server started
is joined (a handler still running is given a short grace). Waitress does not promise a
programmatic stop, so its major version is pinned and ``tests/test_lifecycle.py`` guards it.

Nothing prints: waitress's loggers get a ``NullHandler`` and our own problems go to
``toolkit.server``.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from waitress import create_server, wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.task import ThreadedTaskDispatcher

logger = logging.getLogger("toolkit.server")
logging.getLogger("waitress").addHandler(logging.NullHandler())  # never a line in a notebook cell

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
STOP_GRACE_S = 1.0  # how long stop() waits for a handler that is still running
LOOP_TIMEOUT_S = 1.0  # the event loop wakes at least this often (stop() wakes it at once)
QUEUE_NOTE_EVERY_S = 60.0  # at most one "all threads busy" line a minute


@dataclass(frozen=True)
class Tuning:
    """Waitress's knobs as the settings table names them (see ``server_*`` in toolkit.config)."""

    threads: int = 4
    connection_limit: int = 1000
    channel_timeout_s: float = 30.0
    max_request_body: int = 16 << 20

    @classmethod
    def from_settings(cls, settings: Any) -> Tuning:
        """The tuning of an app's settings; waitress refuses bodies far over ``max_body_bytes``
        itself (the app answers the JSON 413 for the rest)."""
        return cls(settings["server_threads"], settings["server_connection_limit"],
                   settings["server_channel_timeout_s"], max(16 << 20, 4 * settings["max_body_bytes"]))

    def options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`waitress.create_server` (also used by ``toolkit serve``)."""
        return {"threads": self.threads, "connection_limit": self.connection_limit,
                "channel_timeout": self.channel_timeout_s,
                "cleanup_interval": max(1.0, min(30.0, self.channel_timeout_s / 2)),
                "max_request_body_size": self.max_request_body, "asyncore_use_poll": True,
                "ident": "toolkit",
                # X-Forwarded-* reach the app as sent (a tunnel's agent or a load balancer adds them):
                # shown in the log, never trusted for anything
                "clear_untrusted_proxy_headers": False}


class _Dispatcher(ThreadedTaskDispatcher):  # type: ignore[misc]
    """Waitress's thread pool, keeping the threads it starts so that :meth:`HTTPServer.stop` can
    join exactly those."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.started: list[threading.Thread] = []
        self.queue_logger = _QueueNote(name)

    def start_new_thread(self, target: Callable[[int], None], thread_no: int) -> None:
        thread = threading.Thread(target=target, args=(thread_no,), daemon=True,
                                  name=f"toolkit-{self.name}-worker-{thread_no}")
        self.started.append(thread)
        thread.start()


class _QueueNote:
    """Stands in for waitress's queue logger, which makes a warning record for every request that
    finds all threads busy (a few percent of the server's time under load): one line on
    ``toolkit.server`` a minute at most, saying what to do."""

    def __init__(self, name: str) -> None:
        self.name, self.next_at = name, 0.0

    def warning(self, message: str, depth: int = 0, *args: Any) -> None:
        now = time.monotonic()
        if now >= self.next_at:
            self.next_at = now + QUEUE_NOTE_EVERY_S
            logger.warning("%s: all server threads are busy, %d request(s) wait in the queue. Make the "
                           "slow handlers faster, or raise the server_threads setting.", self.name, depth)


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (``port=0``: a free one); raises :class:`OSError`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only, not a live port
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class SmugglingSafeParser(HTTPRequestParser):  # type: ignore[misc]
    """waitress's request parser, but a request with both Content-Length and Transfer-Encoding gets
    its connection closed after the answer (RFC 9112 §6.3: such a message may be an attempt at
    request smuggling). waitress already reads the body by Transfer-Encoding alone, but keeps the
    connection open; asking for ``Connection: close`` makes it answer with that header and close."""

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            self.headers["CONNECTION"] = "close"
            self.connection_close = True


class SmugglingSafeChannel(HTTPChannel):  # type: ignore[misc]
    """waitress's channel with :class:`SmugglingSafeParser`."""

    parser_class = SmugglingSafeParser


def harden(server: Any) -> Any:
    """Make a waitress server (``create_server``'s answer) use :class:`SmugglingSafeChannel`."""
    if getattr(server, "channel_class", None) is HTTPChannel:
        server.channel_class = SmugglingSafeChannel
    return server


class HTTPServer:
    """Serve the WSGI callable ``wsgi`` on ``host:port`` with waitress. Binds now; :meth:`start`
    serves on a daemon thread; :meth:`stop` stops completely (safe twice)."""

    def __init__(self, wsgi: WSGIApp, host: str, port: int, *, name: str = "toolkit",
                 tuning: Tuning | None = None) -> None:
        self.name, self.host = name, host
        self.tuning = tuning or Tuning()
        sock = bind(host, port)
        self._map: dict[int, Any] = {}
        self._dispatcher = _Dispatcher(name)
        try:
            self._server = harden(create_server(wsgi, map=self._map, _dispatcher=self._dispatcher,
                                                sockets=[sock], **self.tuning.options()))
        except BaseException:
            sock.close()
            raise
        self.port: int = sock.getsockname()[1]
        self._pull, self._pull_lock, self._closed = self._server.pull_trigger, threading.Lock(), False
        self._server.pull_trigger = self._pull_trigger  # a late worker never writes to a closed pipe
        self._stop_lock = threading.Lock()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker threads and the event loop (a daemon thread)."""
        self._dispatcher.set_thread_count(self.tuning.threads)
        self._thread = threading.Thread(target=self._loop, name=f"toolkit-{self.name}-server",
                                        daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopping

    def stop(self, grace_s: float = STOP_GRACE_S) -> list[threading.Thread]:
        """Close every connection and the socket, end the worker threads, join them.

        A handler still running gets ``grace_s``; the threads still in a handler after that are
        returned (normally none): they end on their own when the handler returns.
        """
        with self._stop_lock:
            if self._stopping:
                return []
            self._stopping = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._pull_trigger()
            self._thread.join()
        else:
            self._close_channels()
        deadline = time.monotonic() + grace_s
        self._dispatcher.shutdown(cancel_pending=True, timeout=grace_s)
        me = threading.current_thread()
        for thread in self._dispatcher.started:
            if thread is not me:
                thread.join(max(0.0, deadline - time.monotonic()))
        left = [t for t in self._dispatcher.started if t.is_alive() and t is not me]
        if not left:
            self._close_trigger()
        else:  # close the trigger when the last of them ends
            threading.Thread(target=self._close_when_done, args=(left,), daemon=True,
                             name=f"toolkit-{self.name}-reaper").start()
        return left

    # --- the event loop (its own thread) -----------------------------------------------------

    def _loop(self) -> None:
        try:
            while not self._stopping and self._map:
                wasyncore.loop(timeout=LOOP_TIMEOUT_S, map=self._map, use_poll=True, count=1)
        except Exception:  # never die silently; stop() still cleans up
            logger.exception("%s: the server loop failed", self.name)
        finally:
            self._close_channels()

    def _close_channels(self) -> None:
        """Close the connections and the listening socket (in the loop thread, after the loop)."""
        for dispatcher in list(self._map.values()):
            if isinstance(dispatcher, HTTPChannel):
                dispatcher.handle_close()  # also wakes a worker waiting to write to it
        self._server.maintenance(0)
        self._server.accepting = False
        wasyncore.dispatcher.close(self._server)  # the listening socket (not yet the trigger)

    def _pull_trigger(self) -> None:
        """Wake the event loop (what waitress's workers call after writing an answer)."""
        with self._pull_lock:
            if not self._closed:
                self._pull()

    def _close_trigger(self) -> None:
        with self._pull_lock:
            if not self._closed:
                self._closed = True
                self._server.trigger.close()

    def _close_when_done(self, threads: list[threading.Thread]) -> None:
        for thread in threads:
            thread.join()
        self._close_trigger()

    def __repr__(self) -> str:
        return f"<HTTPServer {self.name!r} {'running' if self.running else 'stopped'}>"
