"""A small HTTP/1.1 WSGI server for the kernel: one accept thread, one thread per connection.

Werkzeug's dev server opens a thread *and* a connection per request (it always answers
``Connection: close``); this one keeps connections alive, reads requests with a buffered reader,
and stops at once: the accept loop waits on a wake-up socket, idle connections are shut down, and
busy ones get a short grace period. It binds in the caller's thread, so a busy port fails there,
and never prints: problems go to the ``toolkit.server`` logger.
"""

from __future__ import annotations

import io
import json
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

from .errors import ToolkitError, error_body

logger = logging.getLogger("toolkit.server")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_LINE = 16 * 1024  # longest request line or header line
MAX_HEADERS = 100
IDLE_TIMEOUT_S = 15.0  # a keep-alive connection with no request for this long is closed
DRAIN_BYTES = 64 * 1024  # an unread body up to this size is drained to keep the connection


class BadHTTP(Exception):
    """A request that is not HTTP/1.x; answered with ``status`` and the connection closed."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Body(io.RawIOBase):
    """``wsgi.input``: at most ``length`` bytes of the request body, read on demand.

    ``on_first_read`` sends ``100 Continue`` to a client that waits for it.
    """

    def __init__(self, rfile: Any, length: int, on_first_read: Callable[[], None] | None = None) -> None:
        self._rfile, self.remaining, self._first = rfile, length, on_first_read

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        first = self._first
        if first is not None:
            self._first = None
            first()
        n = self.remaining if size is None or size < 0 else min(size, self.remaining)
        data = self._rfile.read(n) if n else b""
        self.remaining -= len(data)
        if len(data) < n:
            raise ConnectionError("client closed the connection in the middle of the body")
        return data

    def readline(self, size: int | None = -1) -> bytes:
        return self.read(size)  # bodies are JSON: whole reads are all that is needed

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


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
        if body.remaining:
            close_after = close_after or body.remaining > DRAIN_BYTES or not _drain(body)
        keep = keep and not close_after and not self._stopping
        conn.sendall(response_head(status, headers, len(data), keep, environ["SERVER_PROTOCOL"])
                     + (b"" if environ["REQUEST_METHOD"] == "HEAD" else data))
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
        err = ToolkitError(message, status=status, hint="Send an HTTP/1.1 request with a JSON body.")
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


def parse_head(line: bytes, rfile: Any, host: str, port: int) -> tuple[dict[str, Any], bool]:
    """The WSGI environ of a request line and its headers, and whether keep-alive is wanted."""
    if len(line) > MAX_LINE:
        raise BadHTTP(f"Request line longer than {MAX_LINE:,} bytes.", 414)
    parts = line.split()
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise BadHTTP(f"Malformed request line {line[:80]!r}: expected 'METHOD /path HTTP/1.1'.")
    method, target, version = (p.decode("latin-1") for p in parts)
    if target.startswith(("http://", "https://")):
        target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(), "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"), "QUERY_STRING": query,
        "SERVER_NAME": host, "SERVER_PORT": str(port), "SERVER_PROTOCOL": version,
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": _NullErrors(),
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    for _ in range(MAX_HEADERS + 1):
        raw = rfile.readline(MAX_LINE + 1)
        if raw in (b"\r\n", b"\n"):
            break
        if not raw:
            raise ConnectionError("connection closed in the headers")
        if len(raw) > MAX_LINE:
            raise BadHTTP(f"Header line longer than {MAX_LINE:,} bytes.", 431)
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise BadHTTP(f"Malformed header line {raw[:80]!r}: expected 'Name: value'.")
        key = name.upper().replace("-", "_")
        key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key
        value = value.strip()
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    else:
        raise BadHTTP(f"More than {MAX_HEADERS} header lines.", 431)
    conn = environ.get("HTTP_CONNECTION", "").lower()
    keep = "keep-alive" in conn if version == "HTTP/1.0" else "close" not in conn
    return environ, keep


def read_chunked(rfile: Any, limit: int) -> tuple[bytes, int]:
    """A chunked body and its size. Past ``limit`` bytes it stops reading and returns ``b""`` with
    the size seen so far (over the limit), so the app answers 413 and the connection closes.
    """
    parts: list[bytes] = []
    size = 0
    while True:
        line = rfile.readline(MAX_LINE + 1)
        try:
            n = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BadHTTP(f"Malformed chunk size line {line[:40]!r}.") from None
        if n < 0:
            raise BadHTTP("Negative chunk size.")
        if n == 0:
            while rfile.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts), size
        if size + n > limit:
            return b"", size + n
        chunk = rfile.read(n)
        if len(chunk) < n:
            raise ConnectionError("connection closed in a chunk")
        parts.append(chunk)
        size += n
        rfile.readline(MAX_LINE + 1)


def run_wsgi(wsgi: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call the WSGI app; its status, headers and whole body. A crash answers 500 in the error shape."""
    if "toolkit.body" in environ:
        environ["wsgi.input"] = io.BytesIO(environ.pop("toolkit.body"))
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: chunks.append(data)

    chunks: list[bytes] = []
    try:
        result = wsgi(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
    except Exception as exc:
        logger.exception("WSGI app failed on %s %s", environ["REQUEST_METHOD"], environ["PATH_INFO"])
        err = ToolkitError(f"The server failed: {type(exc).__name__}.", hint="See the toolkit.server log.")
        return "500 Internal Server Error", [("Content-Type", "application/json")], json.dumps(
            error_body(err)).encode()
    status, headers = started
    return status, [(k, v) for k, v in headers if k.lower() not in _OWN_HEADERS], b"".join(chunks)


_OWN_HEADERS = {"content-length", "connection", "transfer-encoding", "keep-alive"}


def response_head(status: str, headers: list[tuple[str, str]], length: int, keep: bool,
                  protocol: str) -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append(f"Content-Length: {length}")
    if not keep:
        lines.append("Connection: close")
    elif protocol == "HTTP/1.0":
        lines.append("Connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _drain(body: Body) -> bool:
    try:
        body.read()
        return True
    except OSError:
        return False


class _NullErrors:
    """``wsgi.errors`` that goes to the logger, never to stderr."""

    def write(self, text: str) -> None:
        if text.strip():
            logger.warning("%s", text.rstrip())

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass
