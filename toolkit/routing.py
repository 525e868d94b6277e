"""Paths to handlers: ``/order-status``, ``/orders/<order_id>``, ``/items/<int:n>``, ``/files/<path:p>``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .errors import MethodNotAllowed, NotFound
from .params import Signature
from .request import METHODS

_CONVERTERS = {"str": (r"[^/]+", str), "int": (r"-?\d+", int), "float": (r"-?\d+(?:\.\d+)?", float),
               "path": (r".+", str)}
_PART = re.compile(r"<(?:(\w+):)?(\w+)>")


def normalize_path(path: str) -> str:
    """``"orders/"`` -> ``"/orders"``; the root stays ``"/"``."""
    path = "/" + path.strip().strip("/")
    return path


@dataclass(frozen=True)
class Route:
    path: str
    fn: Callable[..., Any]
    methods: frozenset[str] | None  # None: every method
    signature: Signature
    pattern: re.Pattern[str] | None  # None for a static path
    converters: tuple[tuple[str, Callable[[str], Any]], ...]

    @cached_property
    def name(self) -> str:  # read on every request: worked out once
        return getattr(self.fn, "__name__", None) or repr(self.fn)

    def allows(self, method: str) -> bool:
        return self.methods is None or method in self.methods


def compile_route(path: str, fn: Callable[..., Any], methods: Any) -> Route:
    path = normalize_path(path)
    allowed = None
    if methods is not None:
        allowed = frozenset(m.upper() for m in ([methods] if isinstance(methods, str) else methods))
        bad = sorted(allowed - set(METHODS))
        if bad:
            raise ValueError(f"Unknown HTTP method {', '.join(bad)} for {path!r}; use {', '.join(METHODS)}.")
    regex, converters, pos = "", [], 0
    for m in _PART.finditer(path):
        conv = m.group(1) or "str"
        if conv not in _CONVERTERS:
            raise ValueError(
                f"Unknown converter {conv!r} in {path!r}; use one of {', '.join(_CONVERTERS)}, "
                "e.g. '/orders/<int:order_id>'."
            )
        regex += re.escape(path[pos:m.start()]) + f"(?P<{m.group(2)}>{_CONVERTERS[conv][0]})"
        converters.append((m.group(2), _CONVERTERS[conv][1]))
        pos = m.end()
    pattern = re.compile(regex + re.escape(path[pos:]) + r"\Z") if converters else None
    return Route(path, fn, allowed, Signature.of(fn), pattern, tuple(converters))


class Router:
    """Static paths in a dict, parameterised ones tried most-specific first."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._dynamic: list[Route] = []

    def add(self, route: Route) -> Route | None:
        """Register ``route``; returns the route it replaced, if any."""
        old = self._routes.get(route.path)
        self._routes[route.path] = route
        self._dynamic = sorted(
            (r for r in self._routes.values() if r.pattern is not None),
            key=lambda r: -len(_PART.sub("", r.path)),
        )
        return old

    def remove(self, path: str) -> Route | None:
        old = self._routes.pop(normalize_path(path), None)
        self._dynamic = [r for r in self._dynamic if r is not old]
        return old

    def routes(self) -> list[Route]:
        return list(self._routes.values())

    def match(self, method: str, path: str) -> tuple[Route, dict[str, Any]]:
        """The route for ``method path`` and its path parameters; raises 404 / 405 errors."""
        path = normalize_path(path)
        candidates: list[tuple[Route, dict[str, Any]]] = []
        static = self._routes.get(path)
        if static is not None and static.pattern is None:
            candidates.append((static, {}))
        for route in self._dynamic:
            m = route.pattern.match(path) if route.pattern else None
            if m:
                candidates.append((route, {n: conv(m.group(n)) for n, conv in route.converters}))
        for route, params in candidates:
            if route.allows(method):
                return route, params
        if candidates:
            route = candidates[0][0]
            allowed = ", ".join(sorted(route.methods or ()))
            raise MethodNotAllowed(
                f"{route.path!r} answers {allowed} only, not {method}.",
                hint=f"Set the API step's method to {allowed.split(', ')[0]}, or add {method} to "
                f"methods= in @app.handler({route.path!r}, methods=...).",
                handler=route.name,
            )
        registered = ", ".join(sorted(self._routes)) or "none yet"
        raise NotFound(
            f"No handler for {path!r} (registered: {registered}).",
            hint=f"Define it with @app.handler({path!r}), or fix the URL in the API step.",
        )
