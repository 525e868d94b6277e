"""Flow files: a flow written in YAML or JSON. Shape (README, "The emulator")::

    name: shop
    start: welcome
    fallback: not_understood        # optional: where text no intent matches goes
    on_error: sorry                 # optional: where failed API steps go
    intents:
      track: {keywords: [order, track], patterns: ['A-\\d{4}'], go: ask_order}
    blocks:
      welcome:
        messages:
          - "Hi {internal.user.firstName}!"
          - quick_replies: {text: What can I do?, replies: [{title: Track an order, go: ask_order}]}
      ask_order: {input: order.id, prompt: Which order number?, next: lookup}
      lookup:
        api: {method: POST, url: /order-status, body: [[order_id, variable, order.id]]}
        on_error: sorry
      route: {goto: [{if: order.status == shipped, go: shipped}], default: other}
      count: {set: {visits: "{visits|increment}"}, next: welcome}

Messages are the ``{type, config}`` JSON or shorthands: a string, ``text``, ``buttons``,
``quick_replies``, ``carousel``, ``media`` / ``image``. Choices are ``{title, go, params}``
(postback), ``{title, url}``, ``{title, phone}`` or ``{title, location: true, go}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import messages as m
from ..errors import FlowError
from .apistep import ApiStep
from .flow import Flow

BLOCK_KINDS = ("messages", "input", "api", "goto", "set")
COMMON = ("id", "next", "on_error", "default", "prompt", "validate", "invalid")


def load(path: Path) -> Flow:
    """Read a ``.yaml`` / ``.yml`` / ``.json`` flow file."""
    if not path.is_file():
        nearby = sorted(p.name for p in path.parent.glob("*.y*ml")) if path.parent.is_dir() else []
        raise FlowError(f"No flow file at {path.absolute()}.",
                        hint=f"Check the path (flow files here: {', '.join(nearby) or 'none'}).")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        try:
            spec = json.loads(text)
        except ValueError as exc:
            raise FlowError(f"{path.name} is not valid JSON: {exc}.", hint="Fix the line named.") from None
    else:
        import yaml

        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise FlowError(f"{path.name} is not valid YAML: {exc}.",
                            hint="Check the indentation, and quote texts holding ': ' or '{'.") from None
    if not isinstance(spec, Mapping):
        raise FlowError(f"{path.name} must hold a mapping with 'blocks'.", hint="See the README's flow file.")
    return from_dict(spec, name=str(spec.get("name") or path.stem))


def from_dict(spec: Mapping[str, Any], *, name: str | None = None) -> Flow:
    """A :class:`Flow` from the parsed content of a flow file; errors name the block and key."""
    blocks = spec.get("blocks")
    if not isinstance(blocks, Mapping) or not blocks:
        raise FlowError("A flow file needs 'blocks': a mapping of block name -> block.",
                        hint="E.g. blocks: {welcome: {messages: ['Hi!']}}.")
    flow = Flow(name or str(spec.get("name") or "flow"), start=spec.get("start"),
                fallback=spec.get("fallback"), on_error=spec.get("on_error"))
    for block_name, block in blocks.items():
        _block(flow, str(block_name), block)
    for intent_name, intent in (spec.get("intents") or {}).items():
        if not isinstance(intent, Mapping) or "go" not in intent:
            raise FlowError(f"Intent {intent_name!r} needs 'go' (a block) and keywords and/or patterns.",
                            hint="E.g. track: {keywords: [order, track], go: ask_order}.")
        flow.intent(str(intent_name), go=str(intent["go"]), keywords=_strings(intent.get("keywords")),
                    patterns=_strings(intent.get("patterns")))
    return flow.check()


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def _block(flow: Flow, name: str, spec: Any) -> None:
    if isinstance(spec, str | list):
        spec = {"messages": spec}
    if not isinstance(spec, Mapping):
        raise FlowError(f"Block {name!r} must be a mapping.", hint="E.g. welcome: {messages: ['Hi!']}.")
    kinds = [k for k in BLOCK_KINDS if k in spec]
    unknown = [k for k in spec if k not in BLOCK_KINDS and k not in COMMON]
    if len(kinds) != 1 or unknown:
        extra = f" Unknown keys: {', '.join(map(str, unknown))}." if unknown else ""
        raise FlowError(f"Block {name!r} must have exactly one of {', '.join(BLOCK_KINDS)}.{extra}",
                        hint="E.g. {messages: [...]}, {input: lead.email, validate: email}, {api: {...}}.")
    kind = kinds[0]
    common: dict[str, Any] = {"next": spec.get("next"), "id": str(spec.get("id") or "")}
    body = spec[kind]
    if kind == "messages":
        items = body if isinstance(body, list) else [body]
        flow.message(name, *[message(i, f"block {name!r}") for i in items], **common)
    elif kind == "input":
        prompt = spec.get("prompt") or []
        prompts = [message(p, f"block {name!r}") for p in (prompt if isinstance(prompt, list) else [prompt])]
        flow.input(name, prompts, str(body), validate=str(spec.get("validate") or "text"),
                   invalid=spec.get("invalid"), **common)
    elif kind == "api":
        flow.api(name, _step(name, body), on_error=spec.get("on_error"), **common)
    elif kind == "goto":
        flow.goto(name, body or [], default=spec.get("default"), id=common["id"])
    else:
        flow.set(name, dict(body or {}), **common)


def _step(name: str, spec: Any) -> ApiStep:
    if not isinstance(spec, Mapping) or "url" not in spec:
        raise FlowError(f"Block {name!r}: api needs at least a url.",
                        hint="E.g. api: {method: POST, url: /order-status, "
                        "body: [[order_id, variable, order.id]]}.")
    return ApiStep(spec.get("method", "POST"), spec["url"], query=spec.get("query") or (),
                   headers=spec.get("headers") or (), body=spec.get("body") or (), auth=spec.get("auth"),
                   hmac=spec.get("hmac"))


def message(item: Any, where: str) -> Any:
    """One message from its shorthand (a wire ``{type, config}`` passes as it is)."""
    if isinstance(item, str):
        return m.text(item)
    if not isinstance(item, Mapping):
        raise FlowError(f"In {where}: a message must be a string or a mapping, got {item!r}.",
                        hint="E.g. '- Hello!' or '- buttons: {text: ..., buttons: [...]}'.")
    if "type" in item and "config" in item:
        return dict(item)
    if len(item) != 1:
        raise FlowError(f"In {where}: a message shorthand has one key, got {', '.join(map(str, item))}.",
                        hint="Use text, buttons, quick_replies, carousel, media or image.")
    ((kind, body),) = item.items()
    if kind == "text":
        return m.text(*_strings(body))
    if kind in ("buttons", "quick_replies", "quickReplies"):
        body = body if isinstance(body, Mapping) else {}
        choices = body.get("buttons") or body.get("replies") or body.get("quick_replies") or []
        build = m.buttons if kind == "buttons" else m.quick_replies
        return build(_strings(body.get("text")) or [""], *[choice(c, where) for c in choices])
    if kind == "carousel":
        cards = body.get("cards", []) if isinstance(body, Mapping) else body
        return m.carousel(*[_card(c, where) for c in cards or []])
    if kind in ("media", "image"):
        media = {"url": body} if isinstance(body, str) else dict(body)
        return m.media(str(media.get("url", "")), str(media.get("type", "image")))
    raise FlowError(f"In {where}: unknown message kind {kind!r}.",
                    hint="Use text, buttons, quick_replies, carousel, media or image (or {type, config}).")


def choice(item: Any, where: str) -> dict[str, Any]:
    """A button or quick reply from ``{title, go, params}`` / ``{title, url}`` / ``{title, phone}`` /
    ``{title, location: true, go}`` (wire objects pass as they are)."""
    if not isinstance(item, Mapping) or not item.get("title"):
        raise FlowError(f"In {where}: a button needs a title, got {item!r}.",
                        hint="E.g. {title: Track an order, go: ask_order}.")
    if "type" in item:
        return dict(item)
    title = str(item["title"])
    if item.get("location"):
        return m.location(title, item.get("go"))
    if "url" in item:
        return dict(m.url_button(title, str(item["url"])))
    if "phone" in item:
        return dict(m.phone_button(title, str(item["phone"])))
    if "go" in item:
        return m.postback(title, str(item["go"]), item.get("params"))
    raise FlowError(f"In {where}: button {title!r} does nothing.",
                    hint="Give it go: <block> (a postback), url:, phone:, or location: true.")


def _card(item: Any, where: str) -> Any:
    if not isinstance(item, Mapping) or not item.get("title"):
        raise FlowError(f"In {where}: a carousel card needs a title.",
                        hint="E.g. {title: Bike A, image: ...}.")
    return m.card(str(item["title"]), item.get("subtitle") or item.get("subTitle"),
                  image_url=item.get("image") or item.get("imageUrl"),
                  url=item.get("url") or item.get("webUrl"),
                  buttons=[choice(b, where) for b in item.get("buttons") or []])
