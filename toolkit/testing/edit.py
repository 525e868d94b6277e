"""Edit and replay: send a logged request again with its body, query or headers changed, logged and
diffed like any replay (what the log view's *Edit and replay* does).

>>> editable(app.log.last())                                        # doctest: +SKIP
{'query': {}, 'headers': {'Content-Type': 'application/json'}, 'body': {'order_id': 'A-1'}}
>>> replay_edited(app, app.log.last(), body={"order_id": "B-2"})      # doctest: +SKIP
<Replayed POST /orders: changed (session, messages)>
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ReplayError
from ..log import MASK, Exchange
from ..request import Incoming
from .replay import Replayed, access_rule, diff, request_bytes, safely, short

if TYPE_CHECKING:
    from ..app import App

EDITABLE = ("query", "headers", "body")
_UNCHANGED: Any = object()


def editable(exchange: Exchange) -> dict[str, Any]:
    """What an edit may change, as JSON: ``{"query", "headers", "body"}`` (secrets masked; a ``***``
    left in the body is sent as it was received). Transport headers (Host, Content-Length) are left out."""
    from .fixtures import TRANSPORT_HEADERS

    headers = {k: v for k, v in exchange.headers.items() if k.lower() not in TRANSPORT_HEADERS}
    return {"query": dict(exchange.query), "headers": headers, "body": exchange.body}


def replay_edited(app: App, exchange: Exchange, *, body: Any = _UNCHANGED,
                  query: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
                  sandbox: bool = True) -> Replayed:
    """Replay ``exchange`` with its ``body``, ``query`` or ``headers`` replaced, and diff the answer
    with the logged one. The new exchange is logged (``source="replay"``, flag ``edited``).

    A masked value (``***``) left in the body is sent as originally received; a string body is sent
    as text, anything else as JSON. Runs :func:`safely`, like :func:`replay`.
    """
    raw = request_bytes(exchange) if body is _UNCHANGED else _body_bytes(body, exchange.raw_body())
    skip, why = access_rule(exchange)  # as for any replay: a refused request is checked (fix its headers)
    with safely(exchange.outbound, sandbox=sandbox) as kept:
        response = app.handle(Incoming(exchange.method, exchange.path,
                                       dict(exchange.raw_query() if query is None else query),
                                       dict(exchange.headers if headers is None else headers), raw,
                                       source="replay"), check_access=not skip)
    new = response.exchange or Exchange(exchange.method, exchange.path, response.status, source="replay")
    new.flags.append("edited")
    changes = diff(exchange.response, new.response, old_status=exchange.status, new_status=new.status)
    return Replayed(exchange, new, changes, f"access control {'skipped' if skip else 'checked'}: {why}",
                    kept=list(kept))


def replay_json(app: App, exchange: Exchange, text: str, *, sandbox: bool = True) -> Replayed:
    """Replay ``exchange`` edited as the JSON text of :func:`editable` (what the detail pane's editor
    holds). Raises :class:`~toolkit.errors.ReplayError` naming what is wrong and where."""
    edit = parse_edit(text)
    return replay_edited(app, exchange, body=edit.get("body", _UNCHANGED), query=edit.get("query"),
                         headers=edit.get("headers"), sandbox=sandbox)


def parse_edit(text: str) -> dict[str, Any]:
    """The edited request: a JSON object with some of ``query`` and ``headers`` (objects of text) and
    ``body``."""
    shape = 'Write {"query": {...}, "headers": {...}, "body": ...}; leave a part out to keep it.'
    try:
        edit = json.loads(text)
    except ValueError as exc:
        raise ReplayError(f"The edited request is not valid JSON: {exc}.", hint=shape) from None
    if not isinstance(edit, dict):
        raise ReplayError(f"The edited request must be a JSON object, got {type(edit).__name__}.", hint=shape)
    unknown = sorted(set(edit) - set(EDITABLE))
    if unknown:
        raise ReplayError(f"The edited request has {', '.join(map(repr, unknown))}: only query, headers "
                          "and body can change (the method and path are the logged ones).", hint=shape)
    for part in ("query", "headers"):
        value = edit.get(part, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ReplayError(f"The edited {part} must be an object of text values, got {short(value)}.",
                              hint=f'E.g. "{part}": {{"name": "value"}} (numbers in quotes).')
    return edit


def _body_bytes(body: Any, received: bytes | None) -> bytes:
    """The edited body as bytes, with masked values put back from the body as received."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    try:
        original = json.loads(received) if received else None
    except ValueError:
        original = None
    return json.dumps(_unmask(body, original), ensure_ascii=False).encode()


def _unmask(edited: Any, original: Any) -> Any:
    if edited == MASK and original is not None:
        return original
    if isinstance(edited, dict) and isinstance(original, dict):
        return {k: _unmask(v, original.get(k)) for k, v in edited.items()}
    if isinstance(edited, list) and isinstance(original, list):
        return [_unmask(v, original[i] if i < len(original) else None) for i, v in enumerate(edited)]
    return edited
