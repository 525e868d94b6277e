"""``toolkit.App``: the registry of handlers and the pure dispatch from a request to a reply.

No Flask and no ipywidgets here: the server, the test client and ``app.call`` all go through
:meth:`App.handle`, so a handler answers the same everywhere.
"""

from __future__ import annotations

import json
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from . import access
from .config import Settings
from .errors import HandlerError, NotFound, ToolkitError, error_body
from .log import Exchange, Log, Masker, fingerprint, logger, outbound, trace
from .log.buffer import in_process
from .log.exchange import PASSED, REFUSED, SKIPPED
from .log.turns import current_turn
from .params import bind
from .reply import LIST_NOTICE, JsonAnswer, encode, has_list, normalize
from .request import Incoming, Request
from .routing import Route, Router, compile_route, normalize_path

if TYPE_CHECKING:  # App's conveniences, named for type checkers only (the core never imports Flask)
    from .server.adapter import Flask, FlaskClient
    from .server.lifecycle import Server
    from .widgets.logview import LogView

F = TypeVar("F", bound=Callable[..., Any])
INTERNAL = "/_toolkit/"
_INTERNAL_ROOT = INTERNAL[:-1]  # "/_toolkit" itself is reserved too
ReplaceHook = Callable[["App", Route, Route], None]
# Called as hook(app, old_route, new_route) when a handler is replaced; every new App starts with these.
# ``import toolkit`` adds the re-check of toolkit.testing.rerun (it shows what changed under the cell).
DEFAULT_REPLACE_HOOKS: list[ReplaceHook] = []


@dataclass
class Outgoing:
    """The answer to an :class:`~toolkit.Incoming` request, as :meth:`App.handle` returns it: status,
    JSON body and its encoded bytes, the error (if any) and the log entry. The server sends ``data``
    with ``status`` and ``headers``; ``app.call`` returns ``body``.

    Named ``Outgoing`` (it was ``toolkit.Response``, a name Flask's own ``Response`` also has: that
    old name still works for one release, with a ``DeprecationWarning``).

    >>> app = App("demo")
    >>> app.add_handler("/ping", lambda: "pong")  # doctest: +ELLIPSIS
    <function <lambda> at ...>
    >>> answer = app.handle(Incoming("GET", "/ping"))
    >>> answer.status, answer.body["messages"][0]["config"]["textMessages"][0]["text"]
    (200, 'pong')
    """

    status: int
    body: Any
    data: bytes
    error: BaseException | None = None
    exchange: Exchange | None = field(default=None, repr=False)  # what app.log recorded
    headers: dict[str, str] = field(default_factory=dict)  # extra headers (a JsonAnswer's, an error's)


HANDLER_FAILED = "%s %s failed: %s\n%s"  # the log line of a 5xx (toolkit serve hides a notebook's own)


class App:
    """The registry of handlers. Everything hangs off it: ``app.serve()``, ``app.call()``, ``app.log``.

    >>> app = App("demo")
    >>> @app.handler("/greet")
    ... def greet(name: str = "there"):
    ...     return f"Hello {name}!"
    >>> app.call("/greet", {"name": "Ada"})["messages"][0]["config"]
    {'textMessages': [{'text': 'Hello Ada!'}]}
    """

    def __init__(self, name: str = "toolkit", **settings: Any) -> None:
        self.name = name
        self.settings = Settings(**settings)
        self.log = Log(self.settings.log_size, self.settings.retry_window_s, self.settings.deadline_s)
        if self.settings.log_url:  # every worker also writes its exchanges to the log database
            from .log.dblog import DbLogWriter

            self.log.subscribe(DbLogWriter(self.settings.log_url, self.settings.log_retention))
        self.notices: list[str] = []
        self._masker = Masker.from_settings(self.settings)
        self._router = Router()
        self._warned_slow: set[str] = set()
        self._noted_list = False
        # paths answered without access control (add_handler public=True, a calibration probe): their
        # handler checks the caller itself
        self.unchecked_paths: set[str] = set()
        self.server: Server | None = None  # the running server of app.serve(), if any
        self.replace_hooks: list[ReplaceHook] = list(DEFAULT_REPLACE_HOOKS)
        if self.settings.capture_outbound and outbound.install_once():
            self.notice("Recording the outbound HTTP calls that handlers make with requests: "
                        "requests.Session.send is now wrapped for this Python process (calls made "
                        "outside a handler pass through untouched). Turn it off with "
                        "App(..., capture_outbound=False) or TOOLKIT_CAPTURE_OUTBOUND=0.")

    # --- registration --------------------------------------------------------------------------

    def handler(self, path: str | None = None, *, methods: Any = None) -> Callable[[F], F]:
        """Register the decorated function for ``path`` (default ``/<function name>``).

        The function is returned unchanged, so it stays callable from a cell or a test.
        """

        def decorator(fn: F) -> F:
            return self.add_handler(path or f"/{fn.__name__}", fn, methods=methods)

        return decorator

    def add_handler(self, path: str, fn: F, *, methods: Any = None, public: bool = False) -> F:
        """The plain twin of :meth:`handler`. Re-registering a path replaces its handler.

        ``public=True`` skips the app's access control (Bearer, Basic, header, HMAC) for this static
        path: only for a handler that checks its caller itself, e.g. a webhook's verify token.
        """
        if not callable(fn):
            raise TypeError(f"add_handler({path!r}, ...) needs a function, got {type(fn).__name__}.")
        route = compile_route(path, fn, methods)
        if public and route.pattern is not None:
            raise ValueError(f"public=True needs a static path, got {path!r}.")
        if public:
            self.unchecked_paths.add(route.path)
        else:
            self.unchecked_paths.discard(route.path)
        old = self._router.add(route)
        if old is not None:
            self.notice(f"Replaced handler for {old.path!r} ({old.name} -> {fn.__name__}).")
            for hook in list(self.replace_hooks):
                try:
                    hook(self, old, route)
                except Exception:  # a failing hook never breaks redefining a handler
                    logger.exception("replace hook %r failed", hook)
        return fn

    def remove_handler(self, path: str) -> None:
        """Stop serving ``path``."""
        self.unchecked_paths.discard(normalize_path(path))
        if self._router.remove(path) is None:
            raise KeyError(f"No handler for {normalize_path(path)!r}.")

    @property
    def handlers(self) -> dict[str, Callable[..., Any]]:
        """Registered paths and their functions."""
        return {r.path: r.fn for r in self._router.routes()}

    def routes(self) -> list[Route]:
        return self._router.routes()

    def notice(self, message: str) -> None:
        """Tell the user something worth knowing once (logged at INFO, kept in ``app.notices``).

        For the layers around the app (the server, background pushes): e.g. a server stopped with
        requests still running. The last 100 notices are kept.

        >>> app = App("demo")
        >>> app.notice("Server stopped.")
        >>> app.notices[-1]
        'Server stopped.'
        """
        logger.info(message)
        self.notices.append(message)
        del self.notices[:-100]

    @property
    def masker(self) -> Masker:
        """What hides secrets wherever this app keeps a request (log, fixtures, pushes): built from
        the ``sensitive_keys`` setting and the access-control secrets; replaced by :meth:`configure`.

        >>> App("demo").masker.sensitive("password")
        True
        """
        return self._masker

    def configure(self, **settings: Any) -> None:
        """Change settings on the live app (e.g. ``app.configure(deadline_s=2)``)."""
        self.settings = self.settings.replace(**settings)
        self._masker = Masker.from_settings(self.settings)
        if self.log.size != self.settings.log_size:
            self.log.resize(self.settings.log_size)
        self.log.retry_window_s = self.settings.retry_window_s
        self.log.deadline_s = self.settings.deadline_s

    # --- dispatch ------------------------------------------------------------------------------

    def handle(self, incoming: Incoming, *, raise_errors: bool = False,
               check_access: bool = True) -> Outgoing:
        """Answer one request: parse, check access, find the handler, bind, run, validate, log.

        Every way in (the server, the test client, :meth:`call`, the emulator, replays) comes here,
        so a handler answers the same everywhere. Errors are answered, not raised, unless
        ``raise_errors=True`` (then the handler's own exception is re-raised after it is logged).
        ``check_access=False`` skips access control: only for in-process replays of requests that
        were already accepted (their logged headers are masked).

        >>> app = App("demo")
        >>> app.add_handler("/ping", lambda: "pong")  # doctest: +ELLIPSIS
        <function <lambda> at ...>
        >>> app.handle(Incoming("GET", "/ping")).status
        200
        """
        method, path, query, headers, raw = (incoming.method, incoming.path, incoming.query,
                                             incoming.headers, incoming.raw)
        t0 = incoming.started if incoming.started is not None else time.perf_counter()
        entry = Exchange(method.upper(), normalize_path(path), 0, query=dict(query) if query else {},
                         source=incoming.source, turn=current_turn(self.log))
        try:
            response = self._respond(entry, path, query, headers, raw, incoming.body_size, check_access)
        except ToolkitError as exc:
            exc.handler = exc.handler or entry.handler
            response = self._error_response(exc, exc, entry, (query, headers, raw))
        except Exception as exc:
            response = self._error_response(_handler_error(exc, entry.handler), exc, entry,
                                            (query, headers, raw))
        if response.error is None and entry.path.startswith(_INTERNAL_ROOT):
            return response  # health polls and handler lists are not logged
        self._record(entry, response, headers, raw, t0)
        if raise_errors and response.error is not None:
            raise response.error
        return response

    def _respond(self, entry: Exchange, path: str, query: Mapping[str, str] | None,
                  headers: Mapping[str, str] | None, raw: bytes, body_size: int | None,
                  check_access: bool) -> Outgoing:
        """The answer of a request that passes every check (raises the error of one that does not)."""
        s = self.settings
        if entry.path.startswith(_INTERNAL_ROOT):
            return self._internal(entry.path, Request.build(entry.method, path, headers=headers))
        request = Request.build(entry.method, path, query=query, headers=headers, raw=raw,
                                max_body_bytes=s.max_body_bytes, size=body_size, max_depth=s.max_body_depth)
        checking = check_access and entry.path not in self.unchecked_paths
        entry.access = REFUSED if checking else SKIPPED
        if checking:
            access.check_access(request, s)
            entry.access = PASSED
        route, path_params = self._router.match(request.method, request.path)
        entry.handler = name = route.name
        kwargs = bind(name, route.signature, request, path_params, self._masker)
        result = self._run(route, kwargs, entry, request)
        if isinstance(result, JsonAnswer):
            return Outgoing(result.status, result.body, result.encode(), headers=dict(result.headers))
        wire, data = encode(normalize(result, handler=name, redirect_form=s.redirect_form),
                            handler=name, max_bytes=s.max_reply_bytes, warnings=entry.warnings,
                            strict=s.strict_replies)
        self._after_reply(entry, wire)
        return Outgoing(200, wire, data)

    def _run(self, route: Route, kwargs: dict[str, Any], entry: Exchange,
             request: Request | None = None) -> Any:
        """Call the handler inside a trace; what it touched goes on ``entry``."""
        tr = None
        try:
            with trace(self._masker) as tr:
                if request is not None:
                    tr.request_values = _lazy_values(self._masker, request)
                h0 = time.perf_counter()
                try:
                    return route.fn(**kwargs)
                finally:
                    entry.handler_ms = (time.perf_counter() - h0) * 1000
        finally:
            if tr is not None:
                entry.tables = tr.tables
                entry.outbound = tr.outbound if self.settings.capture_outbound else []
                entry.flags.extend(tr.flags)

    def _after_reply(self, entry: Exchange, wire: Any) -> None:
        """Flag what the reply lost on the way (``dropped``) and note once a best-guess ``list``."""
        if entry.warnings:
            entry.flags.append("dropped")
            logger.warning("%s %s: %s", entry.method, entry.path, " ".join(entry.warnings))
        if has_list(wire) and not self._noted_list:
            self._noted_list = True
            self.notice(LIST_NOTICE)

    def _error_response(self, exc: ToolkitError, original: BaseException, entry: Exchange,
                        request: tuple[Any, Any, bytes] = (None, None, b"")) -> Outgoing:
        # an exception's text may quote a secret: a URL's ?token=, the app's token, a password the
        # request carried (raise ValueError(f"bad {password}")); all are masked, by key and by value
        masker = self._masker
        values = masker.values_in(*request) if exc.status >= 500 or request[2] else set()

        def text(t: str) -> str:
            return masker.text(t, values)

        # A client error (4xx) is the request's fault, not a crash: its message says it all, and the
        # toolkit's own frames would only hide that. Tracebacks are for handler errors (5xx).
        tb = text("".join(traceback.format_exception(original))) if exc.status >= 500 else None
        entry.error, entry.traceback = text(str(exc)), tb
        if exc.status >= 500:
            logger.error(HANDLER_FAILED, entry.method, entry.path, entry.error, tb)
        body = error_body(exc, traceback=tb if self.settings.debug else None)
        if isinstance(exc, HandlerError) and original is not exc and not self.settings.expose_errors:
            # the caller learns the exception's type, never its text (it may quote data or secrets)
            body["error"]["message"] = (f"Handler {exc.handler!r} raised {type(original).__name__} "
                                        "(its message is in app.log; expose_errors=True sends it).")
        body["error"]["message"] = text(body["error"]["message"])
        return Outgoing(exc.status, body, json.dumps(body, ensure_ascii=False).encode(), original,
                        headers=dict(getattr(exc, "headers", None) or {}))

    def _record(self, entry: Exchange, response: Outgoing, headers: Any, raw: bytes,
                t0: float) -> None:
        entry.status = response.status
        recording = self.log.size > 0  # log_size=0 turns the log off
        if recording:
            masker = self._masker
            # a refused request keeps only a capped prefix: a flood of them cannot fill memory
            limit = self.settings.log_refused_bytes if refused(response) else None
            entry.headers = masker.headers(headers)
            if limit is not None:
                entry.headers = cut_headers(entry.headers, limit)
            entry.keep_bodies(raw, response.data, masker, limit)
            entry.fingerprint = fingerprint(entry.method, entry.path, raw)
        entry.total_ms = (time.perf_counter() - t0) * 1000
        if entry.total_ms > self.settings.deadline_s * 1000:
            self._flag_slow(entry)
        if recording:
            self.log.record(entry)
        response.exchange = entry

    def _flag_slow(self, entry: Exchange) -> None:
        entry.flags.append("slow")
        if entry.path not in self._warned_slow:
            self._warned_slow.add(entry.path)
            self.notice(f"{entry.path} took {entry.total_ms:,.0f} ms, over the deadline of "
                        f"{self.settings.deadline_s:g} s: Chatlayer may time out. Answer at once and "
                        "push the result later, or make the handler faster.")

    def _internal(self, path: str, request: Request) -> Outgoing:
        if path == INTERNAL + "health":
            body: dict[str, Any] = {"status": "ok", "app": self.name, "handlers": len(self.handlers)}
        elif path == INTERNAL + "handlers":
            access.check_access(request, self.settings)
            body = {"handlers": [
                {"path": r.path, "handler": r.name, "methods": sorted(r.methods) if r.methods else "any"}
                for r in self._router.routes()]}
        else:
            raise NotFound(f"Unknown toolkit path {path!r}.",
                           hint=f"Use {INTERNAL}health or {INTERNAL}handlers.")
        return Outgoing(200, body, json.dumps(body).encode())

    # --- calling without a network --------------------------------------------------------------

    def call(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
        raise_errors: bool = True,
        check_access: bool = False,
    ) -> dict[str, Any]:
        """Answer a request in-process and return exactly the JSON body the server would send.

        Handler exceptions (and toolkit errors) are re-raised unless ``raise_errors=False``.
        In-process calls come from your own kernel, so access control (Bearer, Basic, HMAC) is
        skipped unless ``check_access=True``; HTTP requests and the test client always check it.
        """
        raw = b"" if body is None else json.dumps(body).encode()
        response = self.handle(Incoming(method, path, query, headers, raw, source="call"),
                               raise_errors=raise_errors, check_access=check_access)
        answer: dict[str, Any] = response.body  # a reply or an error body: always a JSON object
        return answer

    @cached_property
    def flask(self) -> Flask:
        """The app's own ``flask.Flask``: the one WSGI app that ``app.serve()``, ``toolkit serve``,
        ``toolkit export`` and ``app.test_client()`` run (``gunicorn module:app.flask``).

        Its catch-all rule dispatches to :meth:`handle`; routes, blueprints, hooks and extensions
        added to it are served everywhere (add them before the first request: Flask's rule).
        """
        from .server.adapter import make_flask

        return make_flask(self)

    @property
    def flask_app(self) -> Flask:
        """Deprecated: the old name of :attr:`flask` (warns; removed in the next release)."""
        warnings.warn("app.flask_app is deprecated and will be removed in the next release: use app.flask.",
                      DeprecationWarning, stacklevel=2)
        return self.flask

    def test_client(self) -> FlaskClient:
        """A Flask test client of :attr:`flask`; errors come back as HTTP responses.

        Its requests are in-process: logged like served ones, never flagged as retries."""
        client = self.flask.test_client()
        client.open = in_process(client.open)  # type: ignore[method-assign]
        return client

    def serve(self, host: str = "127.0.0.1", port: int = 5000, **settings: Any) -> Server:
        """Serve the handlers over HTTP from background threads; returns once listening.

        Re-running replaces this app's running server; ``port=0`` picks a free port; ``settings``
        are applied first (``app.configure``). See :mod:`toolkit.server.lifecycle`.
        """
        from .server.lifecycle import serve

        return serve(self, host, port, **settings)

    def log_view(self) -> LogView:
        """The live log of this app as a notebook widget (a :class:`toolkit.LogView`).

        A new view replaces (closes) this app's previous one, so re-running the cell just works.
        """
        from .widgets.logview import LogView

        return LogView(self)

    def __repr__(self) -> str:
        n = len(self.handlers)
        return f"<App {self.name!r}: {n} handler{'' if n == 1 else 's'}>"


def _lazy_values(masker: Masker, request: Request) -> Callable[[], frozenset[str]]:
    """The values of ``request``'s sensitive keys, computed on the first call only (most handlers
    make no outbound call, so most requests never pay for it)."""
    found: list[frozenset[str]] = []

    def values() -> frozenset[str]:
        if not found:
            found.append(frozenset(masker.values_in(request.query, request.headers, request.raw)))
        return found[0]

    return values


def refused(response: Response) -> bool:
    """Whether the toolkit refused the request (a 4xx it answered itself: bad JSON, no access, too
    large, unknown path) rather than a handler answering it."""
    return response.error is not None and 400 <= response.status < 500


def cut_headers(headers: dict[str, str], limit: int) -> dict[str, str]:
    """``headers`` kept while their names and values total at most ``limit`` bytes; the rest is
    left out with a marker (one more key, ``…``, saying how many bytes arrived)."""
    out: dict[str, str] = {}
    used = total = 0
    for name, value in headers.items():
        size = len(name) + len(value)
        total += size
        if used + size <= limit:
            out[name] = value
            used += size
        elif used < limit:  # the one header that crosses the limit keeps its head
            room = max(limit - used - len(name), 0)
            out[name[:limit]] = value[:room] + "…"
            used = limit
    if total > used:
        out["…"] = f"[cut: {total:,} bytes]"
    return out


def _handler_error(exc: Exception, handler: str | None) -> HandlerError:
    """A handler's own exception as the toolkit error the server answers (the original chained)."""
    wrapped = HandlerError(
        f"Handler {handler!r} raised {type(exc).__name__}: {exc}",
        hint="See the traceback in app.log (or the log view); fix the handler and re-run "
        "its cell: the server picks it up at once.",
        handler=handler,
    )
    wrapped.__cause__ = exc
    return wrapped


if TYPE_CHECKING:
    Response = Outgoing  # the old name still type-checks; at run time it warns
else:  # hidden from type checkers: a misspelt name stays a type error

    def __getattr__(name: str) -> Any:
        if name == "Response":  # the old name of Outgoing, for one release
            warnings.warn(RESPONSE_DEPRECATED, DeprecationWarning, stacklevel=2)
            return Outgoing
        raise AttributeError(f"module 'toolkit.app' has no attribute {name!r}")


RESPONSE_DEPRECATED = ("toolkit.Response is deprecated and will be removed in the next release: use "
                        "toolkit.Outgoing (what App.handle returns; Flask has its own Response).")
