"""Share a running server with a real bot: ``server.expose()`` opens a public HTTPS URL through a
tunnel provider (ngrok by default) and shows what to paste into the Chatlayer API step.

Secure by default: exposing needs access control. With none configured, a random Bearer token is
generated (``app.configure(auth_bearer=...)``), shown once, and masked after that.

One agent per kernel: every expose reuses it; ``server.stop()`` closes the server's tunnel; interpreter
exit stops the agent. Opening runs on a worker thread with a deadline (``tunnel_timeout_s``), so no
network means a clear error in seconds, never a hung cell.

Providers are small (:class:`TunnelProvider`), so another tunnel tool can plug in
(:func:`register_provider`). :class:`FakeProvider` rehearses the whole flow offline; the ngrok one
is :class:`toolkit.tunnel.ngrok.NgrokProvider`.
"""

from __future__ import annotations

import atexit
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from ..errors import TunnelError
from ..log import logger
from .guide import Tunnel

__all__ = ["FakeProvider", "Tunnel", "TunnelError", "TunnelProvider", "agent", "close_all", "expose",
           "register_provider", "unexpose"]

T = TypeVar("T")
FAKE_DOMAIN = "fake-tunnel.test"


class TunnelProvider(ABC):
    """What a tunnel tool must do to plug into ``server.expose(provider=...)``.

    Providers that compare equal would run the same agent, so exposing with an equal provider
    (e.g. from a re-run cell) reuses the agent that is already running.
    """

    name: ClassVar[str] = "tunnel"

    def check(self) -> None:
        """Fail fast, before any network, when the provider cannot work (missing package, no token)."""
        return None

    @abstractmethod
    def open(self, local_url: str, timeout_s: float) -> str:
        """Start the agent if needed, open a tunnel to ``local_url``, return its public https URL.

        May block: :func:`expose` runs it on a worker thread and gives up after ``timeout_s``.
        """

    @abstractmethod
    def close(self, public_url: str) -> None:
        """Close one tunnel; the agent keeps running for the next expose."""

    @abstractmethod
    def shutdown(self) -> None:
        """Close every tunnel and stop the agent."""

    def abort(self) -> None:
        """Clean up after an :meth:`open` that missed its deadline (e.g. stop a half-started agent)."""
        self.shutdown()

    def session(self) -> requests.Session:
        """A ``requests.Session`` that reaches this provider's public URLs."""
        return requests.Session()


@dataclass(eq=True)
class FakeProvider(TunnelProvider):
    """An offline tunnel for rehearsals and tests: ``https://<random>.fake-tunnel.test`` URLs that
    only :meth:`session` can reach, forwarded over loopback to the local server the way ngrok
    forwards (``Host`` kept, ``X-Forwarded-Proto: https`` and ``X-Forwarded-For`` added).

    All fake providers compare equal, so a re-run cell reuses the running (pretend) agent.
    """

    name: ClassVar[str] = "fake"
    starts: int = field(default=0, compare=False)
    running: bool = field(default=False, compare=False)
    routes: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def open(self, local_url: str, timeout_s: float) -> str:
        if not self.running:
            self.running = True
            self.starts += 1
        host = f"{secrets.token_hex(4)}.{FAKE_DOMAIN}"
        self.routes[host] = local_url.rstrip("/")
        return f"https://{host}"

    def close(self, public_url: str) -> None:
        self.routes.pop(urlsplit(public_url).hostname or "", None)

    def shutdown(self) -> None:
        self.routes.clear()
        self.running = False

    def session(self) -> requests.Session:
        s = requests.Session()
        s.mount("https://", _FakeAdapter(self))
        return s

    def __repr__(self) -> str:
        n = len(self.routes)
        return f"<FakeProvider: {n} tunnel{'s' * (n != 1)}>"


class _FakeAdapter(HTTPAdapter):
    """Sends ``https://<host>.fake-tunnel.test/...`` to the local server; refuses every other host."""

    def __init__(self, provider: FakeProvider) -> None:
        super().__init__()
        self.provider = provider

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        target = self.provider.routes.get(host)
        if target is None:
            why = ("is closed (its server stopped or was unexposed)" if host.endswith(FAKE_DOMAIN)
                   else "is not a fake tunnel: the fake provider never leaves this machine")
            raise requests.ConnectionError(f"https://{host} {why}.", request=request)
        local = urlsplit(target)
        request.url = urlunsplit((local.scheme, local.netloc, parts.path, parts.query, ""))
        request.headers["Host"] = host
        request.headers["X-Forwarded-Proto"] = "https"
        request.headers["X-Forwarded-For"] = "203.0.113.10"  # a documentation address (RFC 5737)
        return super().send(request, *args, **kwargs)


def _ngrok() -> TunnelProvider:
    from .ngrok import NgrokProvider

    return NgrokProvider()


PROVIDERS: dict[str, Callable[[], TunnelProvider]] = {"ngrok": _ngrok, "fake": FakeProvider}

_lock = threading.RLock()
_agent: TunnelProvider | None = None
_tunnels: dict[int, Tunnel] = {}
_atexit_registered = False


def register_provider(name: str, factory: Callable[[], TunnelProvider]) -> None:
    """Make ``server.expose(provider=name)`` use ``factory()`` (another tunnel tool)."""
    PROVIDERS[name] = factory


def agent() -> TunnelProvider | None:
    """The kernel's one tunnel agent, if one was started."""
    return _agent


def _resolve(provider: TunnelProvider | str | None) -> TunnelProvider:
    if isinstance(provider, TunnelProvider):
        return provider
    name = provider or "ngrok"
    if name not in PROVIDERS:
        raise TunnelError(f"Unknown tunnel provider {name!r}.",
                          hint=f"Use one of {', '.join(sorted(PROVIDERS))}, a TunnelProvider instance, "
                          "or add one with toolkit.tunnel.expose.register_provider(name, factory).")
    return PROVIDERS[name]()


def _adopt(provider: TunnelProvider) -> TunnelProvider:
    """The running agent when it equals ``provider``; otherwise stop it and adopt ``provider``."""
    global _agent
    if _agent is not None and type(_agent) is type(provider) and _agent == provider:
        return _agent
    if _agent is not None:
        close_all()
    _agent = provider
    return provider


def expose(server: Any, provider: TunnelProvider | str | None = None, *, token: str | None = None,
           timeout_s: float | None = None) -> Tunnel:
    """Open a public HTTPS URL to ``server`` and return what to paste into the Chatlayer API step.

    ``provider``: ``"ngrok"`` (default), ``"fake"`` (offline rehearsal) or a :class:`TunnelProvider`.
    ``token``: the Bearer token to require; without it, and with no access control configured, a
    random one is generated and shown once. ``timeout_s`` defaults to the ``tunnel_timeout_s`` setting.
    """
    if not getattr(server, "running", False):
        raise TunnelError("The server is not running, so there is nothing to expose.",
                          hint="Start it first: server = app.serve(port=0); then server.expose().")
    app = server.app
    with _lock:
        wanted = _resolve(provider)
        wanted.check()
        current = _adopt(wanted)
        generated = _ensure_access(app, token)
        old = _tunnels.get(id(server))
        if old is not None and old.server is server and old.provider is current and old.is_open:
            if generated:  # access control was switched off since: a new token, shown once
                old.show_token_once()
            return old
        limit = app.settings.tunnel_timeout_s if timeout_s is None else float(timeout_s)
        try:
            url = _open_with_deadline(current, _local_url(server), limit)
        except BaseException:
            if generated:  # no tunnel, so no token the user never saw
                app.configure(auth_bearer="")
            raise
        tunnel = Tunnel(server, current, url.rstrip("/"), generated, on_close=unexpose)
        _tunnels[id(server)] = tunnel
        server.on_stop(lambda: unexpose(server))
        _register_atexit()
    logger.info("Exposed %r at %s via %s.", app.name, tunnel.url, current.name)
    return tunnel


def tunnel_of(server: Any) -> Tunnel | None:
    """The open tunnel of ``server``, or None."""
    with _lock:
        tunnel = _tunnels.get(id(server))
    return tunnel if tunnel is not None and tunnel.server is server and tunnel.is_open else None


def unexpose(server: Any) -> None:
    """Close ``server``'s tunnel (the agent stays up for the next expose). Safe to call twice."""
    with _lock:
        tunnel = _tunnels.get(id(server))
        if tunnel is None or tunnel.server is not server:
            return
        del _tunnels[id(server)]
    tunnel.is_open = False
    try:
        tunnel.provider.close(tunnel.url)
    except Exception as exc:  # closing must never break server.stop()
        logger.warning("Closing the tunnel %s failed: %s", tunnel.url, exc)


def close_all() -> None:
    """Close every tunnel and stop the agent (runs at interpreter exit)."""
    global _agent
    with _lock:
        for tunnel in list(_tunnels.values()):
            unexpose(tunnel.server)
        if _agent is not None:
            try:
                _agent.shutdown()
            except Exception as exc:
                logger.warning("Stopping the %s agent failed: %s", _agent.name, exc)
        _agent = None


def _register_atexit() -> None:
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(close_all)
        _atexit_registered = True


def has_access_control(settings: Any) -> bool:
    """Whether any access check (Bearer, Basic, custom header, HMAC) is configured."""
    return any(settings[k] for k in ("auth_bearer", "auth_basic", "auth_header", "hmac_secret"))


def _ensure_access(app: Any, token: str | None) -> str | None:
    """Configure ``token``, or generate one when no access control is set. Returns a generated token."""
    if token:
        app.configure(auth_bearer=token)
        return None
    if has_access_control(app.settings):
        return None
    generated = secrets.token_urlsafe(24)
    app.configure(auth_bearer=generated)
    return generated


def _local_url(server: Any) -> str:
    host = str(server.host)
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{server.port}"


def _open_with_deadline(provider: TunnelProvider, local_url: str, timeout_s: float) -> str:
    """Run ``provider.open`` on a worker thread; past ``timeout_s`` abort it and fail clearly."""
    return run_with_deadline(lambda: provider.open(local_url, timeout_s), timeout_s,
                             on_abandon=provider.abort, what=f"The {provider.name} tunnel")


def run_with_deadline(fn: Callable[[], T], timeout_s: float, *, on_abandon: Callable[[], None],
                      what: str) -> T:
    """``fn()`` on a daemon thread. If it is not done within ``timeout_s``, call ``on_abandon`` now and
    again when ``fn`` finally returns (so nothing it started is left behind), and raise TunnelError.
    """
    box: dict[str, Any] = {}
    done, abandoned = threading.Event(), threading.Event()

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc
        finally:
            done.set()
            if abandoned.is_set():
                _quietly(on_abandon)

    threading.Thread(target=work, name="toolkit-tunnel-open", daemon=True).start()
    if not done.wait(timeout_s):
        abandoned.set()
        _quietly(on_abandon)
        raise TunnelError(
            f"{what} did not open within {timeout_s:g} s: the agent could not reach its service "
            "(no network, or a proxy or firewall blocks it).",
            hint="Check the internet connection and try again; on a slow network raise the "
            "tunnel_timeout_s setting. To rehearse offline: server.expose(provider='fake').")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def _quietly(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception as exc:
        logger.warning("Cleaning up an abandoned tunnel failed: %s", exc)
