"""HTTP/1.1 on the wire for :mod:`toolkit.server.engine`: the request head as a WSGI environ, bodies
(``Content-Length``, chunked, ``Expect: 100-continue``), calling the WSGI app, the response head.

Limits are enforced here (line length, header count); a request that is not HTTP/1.x raises
:class:`BadHTTP`, which the server answers in the one error shape before closing the connection.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from ..errors import ToolkitError, error_body

logger = logging.getLogger("toolkit.server")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_LINE = 16 * 1024  # longest request line or header line
MAX_HEADERS = 100


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

    @property
    def waiting(self) -> bool:
        """The client waits for ``100 Continue`` before sending the body (not sent yet)."""
        return self._first is not None

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
        if self._first is not None:
            return self.read(0) + self.readline(size)
        n = self.remaining if size is None or size < 0 else min(size, self.remaining)
        data = self._rfile.readline(n) if n else b""
        self.remaining -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


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
