"""Helpers of the server tests (test_adapter, test_engine, test_lifecycle): real HTTP on loopback,
and what this process holds open (its threads and socket inodes)."""

from __future__ import annotations

import http.client
import json
import os
import socket

from helpers import listening_here

import toolkit as tk


def request(server: tk.Server, method: str, path: str, body: bytes | dict | list | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """One request on a fresh connection; the status and the JSON answer."""
    status, _, data = exchange(server.port, method, path, body, headers)
    return status, json.loads(data or b"{}")


def exchange(port: int, method: str, path: str, body: bytes | dict | list | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection; status, headers and the raw answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers=headers or {})
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def split(answer: bytes) -> tuple[int, str, bytes]:
    """Status, Content-Type and body of one raw HTTP answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    ctype = next((line.split(":", 1)[1].strip() for line in lines[1:]
                  if line.lower().startswith("content-type:")), "")
    return int(lines[0].split()[1]), ctype, body


def healthy(server: tk.Server) -> bool:
    return request(server, "GET", "/_toolkit/health") == (
        200, {"status": "ok", "app": server.app.name, "handlers": len(server.app.handlers)})


def text_of(reply: dict) -> str:
    return reply["messages"][0]["config"]["textMessages"][0]["text"]


def listening(port: int) -> bool:
    """Whether a socket of this process listens on ``port`` (another program may take a port once
    ours is freed: asking the machine, or connecting to a "dead" port, raced with it)."""
    return listening_here(port)


def socket_inodes() -> set[str]:
    """The sockets this process holds open, by inode (``socket:[1234]``)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile (e.g. the listdir's own fd)
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def make_app(name: str = "srv", **settings) -> tk.App:
    """An app with the handlers the server tests use."""
    app = tk.App(name, **settings)

    @app.handler("/greet")
    def greet(name: str = "there"):
        return f"Hello {name}!"

    @app.handler("/orders", methods=["POST"])
    def orders(orderId: str):  # noqa: N803 - a Chatlayer body key
        return tk.Reply(session={"order": {"id": orderId}}, messages=[tk.text(f"Order {orderId}")])

    @app.handler("/boom")
    def boom():
        raise KeyError("sku")

    return app


GREETING = {"messages": [{"type": "text", "config": {"textMessages": [{"text": "Hello Ada!"}]}}]}
