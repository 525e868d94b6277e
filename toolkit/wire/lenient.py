"""Replies real backends send that the contract does not allow, read the way Chatlayer most likely
reads them (contract 8.12: these bots work in production, Chatlayer's handling is unpublished).

``tolerate(wire)`` returns the reply as it is applied and one warning per guess, each naming the fix:

* ``"session": null``, ``"messages": null``, ``"action": null`` or ``{}``: nothing to apply (no warning);
* a ``session`` without ``namespace``: its ``data`` members become top-level session variables;
* a text line with ``"text": null``: no bubble for that line (a message left without lines is skipped);
* a button of type ``call``: a ``phone_number`` button (the 2020 spec names a ``call`` field there),
  its number taken from ``payload`` or ``call``.

The setting ``strict_replies=True`` refuses these replies instead (the toolkit's contract checks).

>>> tolerate({"session": None, "action": {}})
({}, [])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NO_NAMESPACE = "__top_level__"  # where a namespace-less session's data goes (see apply in the emulator)
STRICT_FIX = "Or set strict_replies=True to refuse such replies."


def tolerate(wire: Any) -> tuple[Any, list[str]]:
    """``wire`` as it is applied, and a warning for each guess made (``wire`` itself is not changed)."""
    if (_as_written(wire) if type(wire) is dict else not isinstance(wire, Mapping)):
        return wire, []
    # a shallow copy: every part changed below is rebuilt, never edited in place (this runs on every reply)
    out, warnings = dict(wire), []
    for key in ("session", "messages", "action"):
        if key in out and (out[key] is None or (key == "action" and out[key] == {})):
            out.pop(key)
    session = out.get("session")
    data = session.get("data") if isinstance(session, Mapping) else None
    if isinstance(session, Mapping) and "namespace" not in session and isinstance(data, Mapping):
        out["session"] = {"namespace": NO_NAMESPACE, "data": dict(data)}
        keys = ", ".join(map(str, list(data)[:5])) or "none"
        warnings.append(f"The reply's session has no namespace: its data members ({keys}) were written as "
                        "top-level session variables, the most likely reading (Chatlayer's is unpublished). "
                        "Add \"namespace\": \"<name>\" to session, and read them as {<name>.key}. "
                        + STRICT_FIX)
    messages = out.get("messages")
    if isinstance(messages, list):
        kept = (_message(m, i, warnings) for i, m in enumerate(messages))
        out["messages"] = [m for m in kept if m is not None]
    return out, warnings


def _as_written(wire: Mapping[str, Any]) -> bool:
    """Whether nothing in ``wire`` needs a lenient reading: the usual reply, checked cheaply with plain
    ``dict``/``list`` type checks and loops (any other container takes the full path, which is always
    right), as this runs on every reply."""
    if type(wire) is not dict:
        return False
    session, messages, action = wire.get("session", ""), wire.get("messages", ""), wire.get("action", "")
    if session is None or messages is None or action is None or action == {}:
        return False
    if type(session) is dict:
        if "namespace" not in session and "data" in session:
            return False
    elif isinstance(session, Mapping):
        return False
    if type(messages) is list:
        for message in messages:
            if not _message_as_written(message):
                return False
    elif isinstance(messages, list):
        return False
    return True


def _message_as_written(message: Any) -> bool:
    if type(message) is not dict:
        return not isinstance(message, Mapping)
    config = message.get("config")
    if type(config) is not dict:
        return not isinstance(config, Mapping)
    lines = config.get("textMessages")
    if type(lines) is list:
        for line in lines:
            if type(line) is not dict or ("text" in line and line["text"] is None):
                return False
    elif isinstance(lines, list):
        return False
    if not _buttons_as_written(config.get("buttons")):
        return False
    cards = config.get("elements")
    if type(cards) is list:
        for card in cards:
            if type(card) is not dict or not _buttons_as_written(card.get("buttons")):
                return False
    elif isinstance(cards, list):
        return False
    return True


def _buttons_as_written(buttons: Any) -> bool:
    if type(buttons) is not list:
        return not isinstance(buttons, list)
    for button in buttons:
        if type(button) is not dict or button.get("type") == "call":
            return False
    return True


def _message(message: Any, i: int, warnings: list[str]) -> Any:
    if not isinstance(message, Mapping) or not isinstance(message.get("config"), Mapping):
        return message
    config = dict(message["config"])
    lines = config.get("textMessages")
    if isinstance(lines, list):
        kept = [t for t in lines if not (isinstance(t, Mapping) and "text" in t and t["text"] is None)]
        if len(kept) != len(lines):
            warnings.append(f"messages[{i}] has {len(lines) - len(kept)} text line(s) with \"text\": null: "
                            "no bubble is shown for them, the most likely reading. Send a text string, or "
                            "leave the line out. " + STRICT_FIX)
            config["textMessages"] = kept
            if not kept and message.get("type") == "text":
                return None
    if isinstance(config.get("buttons"), list):
        config["buttons"] = [_button(b, f"messages[{i}].buttons[{j}]", warnings)
                             for j, b in enumerate(config["buttons"])]
    if isinstance(config.get("elements"), list):
        config["elements"] = [_card(c, i, k, warnings) for k, c in enumerate(config["elements"])]
    return {**message, "config": config}


def _card(card: Any, i: int, k: int, warnings: list[str]) -> Any:
    if not isinstance(card, Mapping) or not isinstance(card.get("buttons"), list):
        return card
    where = f"messages[{i}].elements[{k}].buttons"
    return {**card, "buttons": [_button(b, f"{where}[{j}]", warnings) for j, b in enumerate(card["buttons"])]}


def _button(button: Any, where: str, warnings: list[str]) -> Any:
    if not isinstance(button, Mapping) or button.get("type") != "call":
        return button
    number = button.get("payload") or button.get("call") or ""
    warnings.append(f"{where} has type 'call': shown as a phone_number button calling {number!r} (the 2020 "
                    "spec names a call field next to phone_number). Use type 'phone_number' with the number "
                    "as payload. " + STRICT_FIX)
    return {"type": "phone_number", "title": button.get("title", ""), "payload": str(number)}
