"""Replies: the ``Reply`` type, turning whatever a handler returned into the wire dict, and the
validator every reply passes before it leaves (also used by the emulator on foreign backends).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from .errors import ReplyError, article
from .jsonable import to_jsonable
from .messages import text
from .validation import message_problems, reply_problems
from .wire.lenient import tolerate

__all__ = ["Reply", "encode", "has_list", "message_problems", "normalize", "redirect", "redirect_target",
           "tidy", "validate"]

ACCEPTED_FORMS = (
    "toolkit.Reply(...), a reply dict {session, messages, action: {nextDialogstate}}, a str "
    "(one text message), one message such as toolkit.text(...), a list of messages, or None"
)
REPLY_KEYS = ("session", "messages", "action", "nextDialogstate")
LIST_NOTICE = (
    "A 'list' message was sent. Chatlayer names the type but never published its config for the API "
    "step; toolkit sends its best guess (the V1 listTemplate shape: elements, an optional button). "
    "Check it renders in your bot's channel before relying on it."
)


@dataclass
class Reply:
    """What a handler answers: session data (stored first), messages (sent second), and the
    block to move the user to (last).

    ``session`` is ``{"namespace": "order", "data": {...}}`` or the short form ``{"order": {...}}``.
    ``messages`` items may be builders' dicts or plain strings (one text message each).

    ``next_dialogstate=None`` (or ``""``, which the app drops with a warning) means no redirect.

    >>> Reply(messages=["Hi"], next_dialogstate="b1").to_wire()["action"]
    {'nextDialogstate': 'b1'}
    """

    session: Mapping[str, Any] | None = None
    messages: list[Any] = field(default_factory=list)
    next_dialogstate: str | None = None

    def to_wire(self, redirect_form: str = "action") -> dict[str, Any]:
        """The JSON-ready reply, redirect written as ``redirect_form`` says."""
        wire: dict[str, Any] = {}
        if self.session is not None:
            wire["session"] = _session(self.session)
        if self.messages:
            wire["messages"] = [text(m) if isinstance(m, str) else m for m in self.messages]
        if self.next_dialogstate is not None:
            wire.update(redirect(self.next_dialogstate, redirect_form))
        return wire


@dataclass
class JsonAnswer:
    """An answer that is not a Chatlayer reply: any JSON ``body`` with a ``status`` and ``headers``,
    sent as it is (the reply validator is skipped). For apps that are not API-step backends, such as
    the V1 emulator, or a health page.

    >>> JsonAnswer({"message": "EVENT_RECEIVED"}).status
    200
    """

    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The body as UTF-8 JSON bytes."""
        return json.dumps(to_jsonable(self.body), ensure_ascii=False).encode()


def redirect(target: str, form: str = "action") -> dict[str, Any]:
    """The redirect member(s) in the form the ``redirect_form`` setting picks."""
    out: dict[str, Any] = {}
    if form in ("both", "top"):
        out["nextDialogstate"] = target
    if form in ("both", "action"):
        out["action"] = {"nextDialogstate": target}
    return out


def _session(session: Mapping[str, Any]) -> dict[str, Any]:
    if len(session) == 1:
        ((namespace, data),) = session.items()
        return {"namespace": namespace, "data": data}
    if len(session) == 2 and "namespace" in session and "data" in session:
        return dict(session)
    raise ReplyError(
        f"Reply session names {len(session)} namespaces ({', '.join(map(str, session))}); "
        "Chatlayer stores one namespace per reply.",
        hint="Put everything under one namespace, e.g. session={'order': {'status': ..., 'eta': ...}}.",
    )


def normalize(value: Any, *, handler: str, redirect_form: str = "action") -> dict[str, Any]:
    """Turn a handler's return value into the wire dict (not yet validated)."""
    if value is None:
        return {}
    if isinstance(value, Reply):
        return value.to_wire(redirect_form)
    if isinstance(value, str):
        return {"messages": [text(value)]}
    if isinstance(value, Mapping):
        if "type" in value and "config" in value:
            return {"messages": [dict(value)]}
        return _with_redirect_form(dict(value), redirect_form)
    if isinstance(value, list | tuple):
        return {"messages": [text(m) if isinstance(m, str) else m for m in value]} if value else {}
    raise ReplyError(
        f"Handler {handler!r} returned {article(type(value).__name__)}, which is not a reply.",
        hint=f"Return one of: {ACCEPTED_FORMS}.",
        handler=handler,
    )


def _with_redirect_form(wire: dict[str, Any], form: str) -> dict[str, Any]:
    target = redirect_target(wire)
    if target is None or not isinstance(target, str):
        return wire
    wire.pop("nextDialogstate", None)
    action = wire.pop("action", None)
    extra = {k: v for k, v in action.items() if k != "nextDialogstate"} if isinstance(action, dict) else {}
    wire.update(redirect(target, form))
    if extra:
        wire.setdefault("action", {}).update(extra)
    return wire


def redirect_target(wire: Mapping[str, Any]) -> Any:
    """The redirect of a wire reply in either form (``action.nextDialogstate`` or top-level)."""
    action = wire.get("action")
    nested = action.get("nextDialogstate") if isinstance(action, Mapping) else None
    return nested if nested is not None else wire.get("nextDialogstate")


# --- what is dropped rather than refused ------------------------------------------------------


def tidy(wire: Any) -> tuple[Any, list[str]]:
    """``wire`` without what Chatlayer cannot use but need not fail the reply, and a warning for each.

    Dropped: unknown top-level keys (e.g. ``"success": true`` of hand-written backends; the value is
    never quoted, it may be a secret) and an empty redirect (``""``: no block to go to, so no
    redirect). ``None`` as a redirect is simply no redirect. ``wire`` itself is not changed.
    """
    if not isinstance(wire, Mapping):
        return wire, []
    out, warnings = dict(wire), []
    for key in [k for k in out if k not in REPLY_KEYS and k not in ("type", "config")]:
        kind = _json_kind(out.pop(key))
        close = difflib.get_close_matches(str(key), REPLY_KEYS, n=1)
        guess = f" Did you mean {close[0]!r}?" if close else ""
        warnings.append(f"Dropped the top-level key {key!r} ({kind}): a reply holds only session, messages "
                        "and action.nextDialogstate, and Chatlayer documents no other key, so the reply "
                        f"was sent without it.{guess}")
    empty = []
    if "nextDialogstate" in out and _no_id(out["nextDialogstate"]):
        value = out.pop("nextDialogstate")
        empty += [] if value is None else [f"nextDialogstate {value!r}"]
    action = out.get("action")
    if isinstance(action, Mapping) and "nextDialogstate" in action and _no_id(action["nextDialogstate"]):
        value = action["nextDialogstate"]
        empty += [] if value is None else [f"action.nextDialogstate {value!r}"]
        rest = {k: v for k, v in action.items() if k != "nextDialogstate"}
        out.pop("action") if not rest else out.update(action=rest)
    if empty:
        warnings.append(f"Dropped the empty redirect ({' and '.join(empty)}): an empty block id cannot be "
                        "followed, so the reply was sent without a redirect. Return None for no redirect, "
                        "or a block id.")
    return out, warnings


def _no_id(value: Any) -> bool:
    """``None`` or a blank string: a redirect to nowhere."""
    return value is None or (isinstance(value, str) and not value.strip())


def _json_kind(value: Any) -> str:
    for kinds, name in ((bool, "a boolean"), (str, "a string"), (int | float, "a number"),
                        (Mapping, "an object"), (list | tuple, "an array")):
        if isinstance(value, kinds):
            return name
    return "null" if value is None else article(type(value).__name__)


def has_list(wire: Any) -> bool:
    """Whether a reply sends a ``list`` message (its shape is a best guess: see ``LIST_NOTICE``)."""
    messages = wire.get("messages") if isinstance(wire, Mapping) else None
    if isinstance(messages, list):
        for m in messages:
            if isinstance(m, Mapping) and m.get("type") == "list":
                return True
    return False


# --- validation (the checks themselves: toolkit/validation.py) ----------------------------------


def validate(wire: Any, *, max_bytes: int | None = None, handler: str | None = None,
             warnings: list[str] | None = None, strict: bool = False) -> dict[str, Any]:
    """Check a wire reply against the Chatlayer contract and return it as plain JSON.

    Raises :class:`ReplyError` with every problem found, each saying what to change. Accepts
    both redirect forms and the ``{type, config}`` messages that real backends send. Unknown
    top-level keys and an empty redirect are dropped (see :func:`tidy`), with a line added to
    ``warnings`` (a list) for each. Unless ``strict`` (the ``strict_replies`` setting), the replies
    real backends send outside the contract pass with a warning (:mod:`toolkit.wire.lenient`).
    """
    plain: dict[str, Any] = encode(wire, handler=handler, max_bytes=max_bytes, warnings=warnings,
                                   strict=strict)[0]
    return plain


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _reply_encoder() -> Callable[[Any], str]:
    """One JSON encoder for every reply: UTF-8 text as is, no NaN. ``json.dumps`` builds its C
    encoder again on every call, half the cost of a small reply; this one is built once. It keeps
    no state (no ``markers``: a reply that refers to itself raises RecursionError)."""
    if c_make_encoder is None:  # pragma: no cover - CPython always has the C accelerator
        return json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False).encode
    chunks = c_make_encoder(None, _not_json, encode_basestring, None, ": ", ", ", False, False, False)
    return lambda value: "".join(chunks(value, 0))


_ENCODE = _reply_encoder()


def encode(wire: Any, *, handler: str | None = None, max_bytes: int | None = None,
           warnings: list[str] | None = None, strict: bool = False) -> tuple[Any, bytes]:
    """Tidy, validate and encode a wire reply: ``(plain JSON value, UTF-8 bytes)``.

    ``max_bytes`` (the ``max_reply_bytes`` setting) bounds the encoded size; what :func:`tidy` drops
    is told in ``warnings`` (a list, extended in place) when one is given.
    """
    wire, dropped = tidy(wire)
    if warnings is not None:
        warnings.extend(dropped)
    try:
        try:
            data = _ENCODE(wire)
        except (TypeError, ValueError):  # numpy / pandas values, NaN, timestamps: convert first
            wire = to_jsonable(wire)
            data = _ENCODE(wire)
    except ReplyError as exc:
        exc.handler = handler
        raise
    except RecursionError:
        of = f" of handler {handler!r}" if handler else ""
        raise ReplyError(f"The reply{of} contains itself (a dict or list inside itself) or nests too "
                         "deep to be sent as JSON.",
                         hint="Return a copy of the data (e.g. dict(row)), not a structure that "
                         "refers back to itself.", handler=handler) from None
    checked, guesses = (wire, []) if strict else tolerate(wire)
    if warnings is not None:
        warnings.extend(guesses)
    problems = reply_problems(checked)
    if problems:
        who = f"Handler {handler!r} returned an invalid reply" if handler else "Invalid reply"
        raise ReplyError(
            f"{who}: " + "; ".join(problems) + ".",
            hint="Build replies with toolkit.Reply and the message builders (toolkit.text, ...).",
            handler=handler,
        )
    encoded = data.encode()
    if max_bytes is not None and len(encoded) > max_bytes:
        of = f" of handler {handler!r}" if handler else ""
        raise ReplyError(
            f"The reply{of} is {len(encoded):,} bytes, over the max_reply_bytes limit of {max_bytes:,}.",
            hint="Send fewer or shorter messages (e.g. fewer carousel cards), or raise max_reply_bytes.",
            handler=handler,
        )
    return wire, encoded

