"""A small HTTP/1.1 WSGI server for the kernel: one accept thread, one thread per connection.

Werkzeug's dev server opens a thread *and* a connection per request (it always answers
``Connection: close``); this one keeps connections alive, reads requests with a buffered reader,
and stops at once: the accept loop waits on a wake-up socket, idle connections are shut down, and
busy ones get a short grace period. It binds in the caller's thread, so a busy port fails there,
and never prints: problems go to the ``toolkit.server.lifecycle`` logger.
"""

from __future__ import annotations

import json
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from ..errors import ToolkitError, error_body
from .httpwire import MAX_LINE, BadHTTP, Body, WSGIApp, parse_head, read_chunked, response_head, run_wsgi

logger = logging.getLogger("toolkit.server")

IDLE_TIMEOUT_S = 15.0  # a keep-alive connection with no request for this long is closed
DRAIN_BYTES = 64 * 1024  # an unread body up to this size is drained to keep the connection
MAX_CONNECTIONS = 256  # more open connections at once are answered 503 and closed
LINGER_BYTES, LINGER_S = 16 << 20, 2.0  # after refusing a body: read and drop this much at most


class HTTPServer:
    """Serve ``wsgi`` on ``host:port`` (``port=0``: a free port). Binds now; :meth:`start` serves."""

    def __init__(self, wsgi: WSGIApp, host: str, port: int, *,
                 max_body: Callable[[], int] = lambda: 1 << 20, name: str = "toolkit") -> None:
        self.wsgi, self.max_body, self.name = wsgi, max_body, name
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only, not a live port
            sock.bind((host, port))
            sock.listen(128)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self.socket = sock
        self.host, self.port = host, sock.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._lock = threading.Lock()
        self._conns: dict[socket.socket, tuple[threading.Thread, list[bool]]] = {}
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(target=self._accept_loop, name=f"toolkit-server-{self.name}",
                                        daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopping

    def stop(self, grace_s: float = 1.0) -> list[threading.Thread]:
        """Stop accepting, close idle connections, give busy ones ``grace_s``; close everything.

        Returns the connection threads still running a handler after that (normally none).
        """
        with self._lock:
            if self._stopping:
                return []
            self._stopping = True
        self._wake_w.send(b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        for s in (self.socket, self._wake_r, self._wake_w):
            s.close()
        self._close_conns(idle_only=True)
        deadline = time.monotonic() + grace_s
        for thread in self._threads():
            thread.join(max(0.0, deadline - time.monotonic()))
        self._close_conns(idle_only=False)
        for thread in self._threads():
            thread.join(0.05)
        return self._threads()

    def _threads(self) -> list[threading.Thread]:
        with self._lock:
            me = threading.current_thread()
            return [t for t, _ in self._conns.values() if t.is_alive() and t is not me]

    def _close_conns(self, idle_only: bool) -> None:
        with self._lock:
            conns = [s for s, (_, busy) in self._conns.items() if not (idle_only and busy[0])]
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # --- accepting ---------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self.socket, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping:
                try:
                    for key, _ in sel.select():
                        if key.fileobj is self.socket and not self._stopping:
                            self._accept()
                except Exception:  # never let the accept loop die silently
                    logger.exception("%s: accept failed", self.name)
                    time.sleep(0.01)

    def _accept(self) -> None:
        try:
            conn, _ = self.socket.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        conn.setblocking(True)
        conn.settimeout(IDLE_TIMEOUT_S)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if len(self._conns) >= MAX_CONNECTIONS:
            logger.warning("%s: %d connections open; refusing one more", self.name, len(self._conns))
            self._send_error(conn, 503, f"The server has {MAX_CONNECTIONS} connections open already.")
            _linger(conn, 0.2)  # let the client read the answer (bounded: this is the accept loop)
            conn.close()
            return
        busy = [False]
        thread = threading.Thread(target=self._connection, args=(conn, busy),
                                  name=f"toolkit-conn-{self.name}", daemon=True)
        with self._lock:
            self._conns[conn] = (thread, busy)
        thread.start()

    # --- one connection ----------------------------------------------------------------------

    def _connection(self, conn: socket.socket, busy: list[bool]) -> None:
        rfile = conn.makefile("rb", buffering=65536)
        try:
            while not self._stopping and self._request(conn, rfile, busy):
                busy[0] = False
        except BadHTTP as exc:
            self._send_error(conn, exc.status, str(exc))
            _linger(conn, 0.5)
        except (OSError, ValueError):
            pass  # the client went away, timed out, or stop() closed the socket
        except Exception:
            logger.exception("%s: connection failed", self.name)
        finally:
            with self._lock:
                self._conns.pop(conn, None)
            rfile.close()
            conn.close()

    def _request(self, conn: socket.socket, rfile: Any, busy: list[bool]) -> bool:
        """Answer one request; False when the connection must close."""
        line = rfile.readline(MAX_LINE + 1)
        while line in (b"\r\n", b"\n"):
            line = rfile.readline(MAX_LINE + 1)
        if not line:
            return False
        busy[0] = True
        environ, keep = parse_head(line, rfile, self.host, self.port)
        length, close_after = self._body_length(environ, rfile)
        body = Body(rfile, length, self._continue(conn) if "100-continue" in environ.get(
            "HTTP_EXPECT", "").lower() else None)
        environ["wsgi.input"] = body
        status, headers, data = run_wsgi(self.wsgi, environ)
        complete = not close_after
        if body.remaining:  # the app did not read it all (e.g. a 413): drain a small rest
            complete = complete and not body.waiting and body.remaining <= DRAIN_BYTES and _drain(body)
        keep = keep and complete and not self._stopping
        conn.sendall(response_head(status, headers, len(data), keep, environ["SERVER_PROTOCOL"])
                     + (b"" if environ["REQUEST_METHOD"] == "HEAD" else data))
        if not complete and not body.waiting:
            _linger(conn)
        return keep

    def _body_length(self, environ: dict[str, Any], rfile: Any) -> tuple[int, bool]:
        """The body length to offer the app, and whether the connection must close after."""
        if "chunked" in environ.pop("HTTP_TRANSFER_ENCODING", "").lower():
            data, size = read_chunked(rfile, self.max_body())
            environ["CONTENT_LENGTH"] = str(size)
            environ["toolkit.body"] = data
            return 0, len(data) < size
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise BadHTTP(f"Content-Length {environ['CONTENT_LENGTH']!r} is not a number.") from None
        if length < 0:
            raise BadHTTP("Content-Length is negative.")
        return length, False

    def _continue(self, conn: socket.socket) -> Callable[[], None]:
        return lambda: conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _send_error(self, conn: socket.socket, status: int, message: str) -> None:
        hint = ("Retry in a moment, or close idle connections." if status == 503 else
                "Send an HTTP/1.1 request with a JSON body.")
        err = ToolkitError(message, status=status, hint=hint)
        err.kind = "bad_request" if status == 400 else HTTPStatus(status).phrase.lower().replace(" ", "_")
        data = json.dumps(error_body(err)).encode()
        try:
            conn.sendall(response_head(f"{status} {HTTPStatus(status).phrase}",
                                       [("Content-Type", "application/json")], len(data), False,
                                       "HTTP/1.1") + data)
        except OSError:
            pass

    def __repr__(self) -> str:
        return f"<HTTPServer {self.name!r} {'running' if self.running else 'stopped'}>"


def _linger(conn: socket.socket, seconds: float = LINGER_S) -> None:
    """Read and drop what the client still sends (the rest of a refused body), so that it gets to
    read the answer instead of a connection reset. Bounded in bytes and time."""
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(seconds)
        deadline, left = time.monotonic() + seconds, LINGER_BYTES
        while left > 0 and time.monotonic() < deadline:
            chunk = conn.recv(65536)
            if not chunk:
                break
            left -= len(chunk)
    except OSError:
        pass


def _drain(body: Body) -> bool:
    try:
        body.read()
        return True
    except OSError:
        return False


