"""Filling handler parameters from a request, by name, with type-hint conversion.

Precedence, highest first: path parameters, JSON body keys, query keys. A parameter named
``request`` receives the :class:`~toolkit.Request`; ``**params`` receives every value.
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest, article
from .log.masking import Masker
from .request import DEPTH_CEILING, Request, too_deep

_MISSING = inspect.Parameter.empty
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


@dataclass(frozen=True)
class Param:
    name: str
    kind: Any  # annotation with None stripped, or Any
    optional: bool  # annotation admits None
    default: Any


@dataclass(frozen=True)
class Signature:
    """The parts of a handler's signature that binding needs, computed once at registration."""

    params: tuple[Param, ...]
    wants_request: bool
    var_keyword: bool

    @classmethod
    def of(cls, fn: Callable[..., Any]) -> Signature:
        sig = inspect.signature(fn)
        try:
            hints = typing.get_type_hints(fn)
        except Exception:  # unresolvable forward references: fall back to no conversion
            hints = {}
        params, wants_request, var_kw = [], False, False
        for p in sig.parameters.values():
            if p.kind is p.VAR_KEYWORD:
                var_kw = True
            elif p.kind is p.VAR_POSITIONAL:
                continue
            elif p.name == "request":
                wants_request = True
            else:
                kind, optional = _unwrap(hints.get(p.name, Any))
                params.append(Param(p.name, kind, optional, p.default))
        return cls(tuple(params), wants_request, var_kw)


def _unwrap(hint: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        return (args[0] if len(args) == 1 else Any), optional
    return hint, hint is Any


def merged_values(request: Request, path_params: Mapping[str, Any]) -> dict[str, Any]:
    """Every value a handler can receive, with the documented precedence applied."""
    return {**request.query, **request.body, **path_params}


def bind(
    handler: str, sig: Signature, request: Request, path_params: Mapping[str, Any],
    masker: Masker | None = None,
) -> dict[str, Any]:
    """Keyword arguments for the handler. Raises :class:`BadRequest` naming what to fix; the value
    that failed is shown masked by ``masker`` (the app's; by default the default settings')."""
    values = merged_values(request, path_params)
    kwargs: dict[str, Any] = {}
    for p in sig.params:
        if p.name in values:
            kwargs[p.name] = convert(handler, p, values[p.name], masker)
        elif p.default is _MISSING:
            raise _missing(handler, p.name, values)
    if sig.var_keyword:
        kwargs = {**values, **kwargs}
    if sig.wants_request:
        kwargs["request"] = request
    return kwargs


def _missing(handler: str, key: str, values: Mapping[str, Any]) -> BadRequest:
    arrived = ", ".join(sorted(values)) or "none"
    return BadRequest(
        f"Handler {handler!r} needs {key!r}, but the request did not send it "
        f"(keys that arrived: {arrived}).",
        hint=f"In the Chatlayer API step add a Body (or Query) row with Key '{key}' and Type "
        f"'variable' pointing at the session value; or give the parameter a default, "
        f"e.g. {key}=None.",
        handler=handler,
    )


def convert(handler: str, param: Param, value: Any, masker: Masker | None = None) -> Any:
    """Convert one value to the parameter's annotated type."""
    if value is None:
        if param.optional or param.kind is Any:
            return None
        raise _bad(handler, param, value, masker)
    kind = param.kind
    if type(value) is kind:  # already the annotated type (the usual case): nothing to convert
        return value
    origin = typing.get_origin(kind) or kind
    try:
        if kind is Any or kind is inspect.Parameter.empty:
            return value
        if origin is bool:
            return _to_bool(value)
        if origin is int:
            return _to_int(value)
        if origin is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if origin is str:
            if isinstance(value, dict | list):
                raise ValueError
            return value if isinstance(value, str) else json.dumps(value)
        if origin in (dict, list):
            if isinstance(value, str):
                if too_deep(value, masker.depth if masker else DEPTH_CEILING):  # json.loads recurses
                    raise ValueError
                value = json.loads(value)
            if not isinstance(value, origin):
                raise ValueError
            return value
    except (TypeError, ValueError, RecursionError):
        raise _bad(handler, param, value, masker) from None
    return value  # other annotations: passed through unchanged


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    low = str(value).strip().lower()
    if low in _TRUE | _FALSE:
        return low in _TRUE
    raise ValueError(value)


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    if isinstance(value, str):
        stripped = value.strip()
        return int(float(stripped)) if stripped.endswith(".0") else int(stripped)
    return int(value)


def _bad(handler: str, param: Param, value: Any, masker: Masker | None) -> BadRequest:
    """The error of a value that does not convert: it names the parameter and the type wanted, and
    shows the value only cut and masked (never the value of a sensitive key)."""
    name = getattr(param.kind, "__name__", str(param.kind))
    return BadRequest(
        f"Handler {handler!r}: {param.name!r} must be {name}, got {shown(param.name, value, masker)}.",
        hint=f"Check the API step row '{param.name}' sends {article(name)}, or change the type hint "
        f"of {param.name}.",
        handler=handler,
    )


def shown(key: str, value: Any, masker: Masker | None = None, limit: int = 40) -> str:
    """How an error message may show the value of ``key``: its type, plus the value itself cut to
    ``limit`` characters and masked; a sensitive key's value is never shown."""
    masker = masker or Masker.default()
    kind = type(value).__name__
    if masker.sensitive(key):
        return f"{article(kind)} (value hidden: {key!r} is a sensitive key)"
    safe = masker.text(value) if isinstance(value, str) else masker(value)
    text = repr(safe)
    return f"{text[:limit] + '…' if len(text) > limit else text} ({kind})"

