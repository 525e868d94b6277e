"""``toolkit.ChatlayerClient``: Chatlayer's V1 REST API, for pushing messages into a conversation later
and reading conversations and session data (contract §5).

>>> client = ChatlayerClient("tokenId:tokenSecret", "my-bot")
>>> client
<ChatlayerClient bot 'my-bot', eu, DRAFT, token ***>

``base_url`` replaces the region's host: point it at :class:`toolkit.V1Emulator` to work offline.
A 429 answer is retried after the wait the rate-limit headers ask for, within ``max_retries`` and
``max_wait_s``; every other failure raises :class:`ChatlayerError` saying what to do.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from ..errors import ChatlayerError, ChatlayerTimeout, ConfigError
from ..wire.v1format import flatten, to_v1
from ..wire.webhook import user_of

logger = logging.getLogger("toolkit")

REGIONS = {
    "eu": "https://api.chatlayer.ai",
    "us": "https://api.prod.us-east4.gcp.chatlayer.ai",
    "asia": "https://api.prod.asia-south1.gcp.chatlayer.ai",
    "staging": "https://api.staging.europe-west1.gc.chatlayer.ai",  # contract 8.8
}
VERSIONS = ("DRAFT", "LIVE")
TOKEN_HELP = ("Create an access token in Chatlayer under Settings -> Access tokens (it looks like "
              "'tokenId:tokenSecret') and pass it as ChatlayerClient(token=...); a token only works in "
              "the region (eu, us, asia) of its bot.")


class ChatlayerClient:
    """A client for Chatlayer's V1 REST API, built on ``requests``.

    ``region`` picks the host (``eu``, ``us``, ``asia``, ``staging``); ``base_url`` overrides it.
    ``version`` is ``DRAFT`` or ``LIVE`` (sent as ``?version=``). ``timeout`` is per call, in seconds.
    On 429 the client waits as ``Retry-After`` / ``x-ratelimit-reset`` say and retries, at most
    ``max_retries`` times and ``max_wait_s`` seconds in all. Safe to share between threads.
    """

    def __init__(self, token: str, bot_id: str, region: str = "eu", version: str = "DRAFT",
                 base_url: str | None = None, timeout: float = 10.0, *, max_retries: int = 3,
                 max_wait_s: float = 30.0) -> None:
        token = (token or "").strip()
        self._token = token[7:].strip() if token.lower().startswith("bearer ") else token
        if not bot_id:
            raise ConfigError("ChatlayerClient needs a bot_id.",
                              hint="Copy it from the bot's URL in Chatlayer (…/bots/<bot id>/…) or send "
                              "{internal.botId} from the API step.")
        self.bot_id = str(bot_id)
        self.region = region.lower()
        if base_url is None and self.region not in REGIONS:
            raise ConfigError(f"Unknown Chatlayer region {region!r}.",
                              hint=f"Use one of {', '.join(REGIONS)}, or pass base_url=...")
        self.version = str(version).upper()
        if self.version not in VERSIONS:
            raise ConfigError(f"Unknown bot version {version!r}.",
                              hint="Use 'DRAFT' (the bot you are editing) or 'LIVE' (the published bot).")
        self.base_url = (base_url or REGIONS[self.region]).rstrip("/")
        self.custom_url = base_url is not None
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.max_wait_s = float(max_wait_s)
        self.stats = {"calls": 0, "retries": 0, "waited_s": 0.0}
        self._sessions: list[requests.Session] = []
        self._idle: list[requests.Session] = []
        self._lock = threading.Lock()

    # --- the V1 endpoints ---------------------------------------------------------------------------

    def push(self, session_id: str, *messages: Any) -> Any:
        """Send messages into conversation ``session_id`` (``POST …/actions`` with ``sendMessages``).

        Messages are what a handler returns: ``toolkit.text(...)`` and the other builders, plain
        strings, lists of them or a ``toolkit.Reply``; they are converted to the V1 format.
        """
        items = [to_v1(m) for m in flatten(messages)]
        if not items:
            raise ValueError("push() needs at least one message, e.g. client.push(session_id, 'Done!').")
        return self.send_actions(session_id, {"sendMessages": items})

    def send_actions(self, session_id: str, actions: Mapping[str, Any]) -> Any:
        """``POST …/conversations/{session_id}/actions`` with a raw actions body."""
        return self.request("POST", f"{self._conversation(session_id)}/actions", json=dict(actions))

    def session_data(self, session_id: str) -> Any:
        """The session data of conversation ``session_id``."""
        return self.request("GET", f"{self._conversation(session_id)}/session-data")

    def delete_session_data(self, session_id: str) -> None:
        """Delete the session data of conversation ``session_id``."""
        self.request("DELETE", f"{self._conversation(session_id)}/session-data")

    def conversations(self, **params: Any) -> list[Any]:
        """The bot's conversations (items carry ``user.sessionId``); ``params`` go in the query."""
        return _items(self.request("GET", f"/v1/bots/{quote(self.bot_id, safe='')}/conversations",
                                   params=params))

    def messages(self, session_id: str, **params: Any) -> list[Any]:
        """The messages of conversation ``session_id``."""
        return _items(self.request("GET", f"{self._conversation(session_id)}/messages", params=params))

    def nlp_extract(self, expression: str, language: str = "en") -> Any:
        """What the bot's NLP understands in ``expression``: ``POST /v1/bots/{botId}/nlp/extract`` with
        ``{language, expression}``. Returns the ``extract`` object: ``intents`` of ``{intent, score}``,
        ``entities`` of ``{name, value, score, startIndex, endIndex, systemEntity}`` (contract 8.2),
        read from ``{extract: ...}`` or the legacy ``{data: {extract: ...}}``."""
        if not str(expression or "").strip():
            raise ValueError("nlp_extract() needs the text to understand, e.g. client.nlp_extract('hi').")
        answer = self.request("POST", f"/v1/bots/{quote(self.bot_id, safe='')}/nlp/extract",
                              json={"language": language, "expression": str(expression)})
        return extract_of(answer)

    def bots(self) -> list[Any]:
        """The bots the token may use (``GET /v1/bots``): ``[{id, name}, ...]``, read from a bare array
        (what real clients consume, contract 8.7) or ``{data: [...]}``."""
        return _items(self.request("GET", "/v1/bots"))

    def webhook_message(self, channel_id: str, message: Mapping[str, Any],
                        user: Mapping[str, Any] | None = None, *, conversation_id: str | None = None,
                        session_data: Mapping[str, Any] | None = None, endpoint: str = "v1",
                        verify_token: str = "") -> Any:
        """Inject a user message into a conversation of a webhook channel; the bot's answers go to the
        channel's webhook URL. ``message`` is built with :mod:`toolkit.wire.webhook`
        (``text_message("hi")`` ...); the conversation is named by ``user`` (needs an ``id``; only
        ``id, firstName, lastName, preferredLanguage`` are sent, the Redoc's fields) or by
        ``conversation_id`` (as Botium sends it, no ``user``: contract 8.3).

        ``endpoint="v1"``: ``POST /v1/channels/webhook/{channel_id}/messages`` with ``{message, user |
        conversationId, sessionData}`` (answer ``{"message": "EVENT_RECEIVED"}``).
        ``endpoint="legacy"``: the **deprecated** webhook API, ``POST /api/webhookMessage/{bot_id}`` with
        ``{sender: {id}, text, verifyToken}``; a click sends its payload as JSON text (what the legacy
        API did). ``"botium"`` is an old name of ``"legacy"``.
        """
        found = user_of({"user": user or {}, "conversationId": conversation_id})
        if found is None:
            raise ValueError("webhook_message() needs user={'id': ...} or conversation_id=...: the id of "
                             "the conversation's user.")
        if endpoint in ("legacy", "botium"):
            return self.request("POST", f"/api/webhookMessage/{quote(self.bot_id, safe='')}",
                                json={"sender": {"id": found["id"]}, "text": legacy_text(message),
                                      "verifyToken": verify_token})
        payload: dict[str, Any] = {"message": dict(message)}
        if user:
            payload["user"] = found
        else:
            payload["conversationId"] = found["id"]
        if session_data:
            payload["sessionData"] = dict(session_data)
        return self.request("POST", f"/v1/channels/webhook/{quote(str(channel_id), safe='')}/messages",
                            json=payload)

    def _conversation(self, session_id: str) -> str:
        if not session_id:
            raise ValueError("A session id is needed: send {internal.sessionId} from the API step "
                             "(a Body row of Type variable) and pass it on.")
        return f"/v1/bots/{quote(self.bot_id, safe='')}/conversations/{quote(str(session_id), safe='')}"

    # --- transport ------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json: Any = None,
                params: Mapping[str, Any] | None = None) -> Any:
        """One call to ``base_url + path`` with auth, ``?version=``, timeout and 429 retries.

        Returns the decoded JSON answer (``{}`` when empty); raises :class:`ChatlayerError`.
        """
        what = f"{method.upper()} {path}"
        query = {"version": self.version, **(params or {})}
        waited = 0.0
        for attempt in range(self.max_retries + 1):
            response = self._send(method, path, what, json, query)
            if response.status_code != 429:
                return _answer(response) if response.ok else self._raise(response, what)
            wait = retry_wait(response.headers, attempt)
            if attempt == self.max_retries or waited + wait > self.max_wait_s:
                why = (f"still limited after {attempt} retries ({waited:.1f} s of waiting)"
                       if attempt == self.max_retries else
                       f"it asks to wait {wait:.1f} s more, beyond max_wait_s={self.max_wait_s:g}")
                raise _rate_limited(response, what, why)
            logger.info("Chatlayer rate limit on %s: retrying in %.2f s", what, wait)
            time.sleep(wait)
            waited += wait
            self.stats["retries"] += 1
            self.stats["waited_s"] += wait
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, path: str, what: str, body: Any,
              query: Mapping[str, Any]) -> requests.Response:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self.stats["calls"] += 1
        session = self._checkout()
        try:
            return session.request(method.upper(), self.base_url + path, params=query, json=body,
                                   headers=headers, timeout=self.timeout)
        except requests.Timeout:
            raise ChatlayerTimeout(
                f"Chatlayer did not answer {what} within timeout={self.timeout:g} s.",
                hint="Try again, or raise ChatlayerClient(timeout=...). A push that timed out may still "
                "have been delivered: check with client.messages(session_id) before sending it again.",
            ) from None
        except requests.RequestException as exc:
            raise ChatlayerError(
                f"Could not reach Chatlayer at {self.base_url} for {what}: {type(exc).__name__}.",
                hint="Check the network and the region ('eu', 'us', 'asia') or base_url. To work offline, "
                "use toolkit.V1Emulator() and its .client().",
            ) from exc
        finally:
            with self._lock:
                self._idle.append(session)

    def _checkout(self) -> requests.Session:
        """A pooled session (one per concurrent call), so threads never share one mid-call."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
            session = requests.Session()
            self._sessions.append(session)
            return session

    def _raise(self, response: requests.Response, what: str) -> Any:
        body = _decoded(response)
        message, hint = _explain(response.status_code, what, _detail(body), self)
        raise ChatlayerError(message, hint=hint, api_status=response.status_code, body=body)

    def close(self) -> None:
        """Close the pooled connections."""
        with self._lock:
            sessions, self._sessions, self._idle = self._sessions, [], []
        for s in sessions:
            s.close()

    def __enter__(self) -> ChatlayerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "custom base_url" if self.custom_url else self.region
        token = "***" if self._token else "missing"
        return f"<ChatlayerClient bot {self.bot_id!r}, {where}, {self.version}, token {token}>"


# --- helpers ------------------------------------------------------------------------------------------


def extract_of(answer: Any) -> Any:
    """The ``extract`` object of an NLP answer: ``{extract: ...}``, ``{data: {extract: ...}}`` (the
    legacy docs' wrapper) or, failing both, the answer as it came."""
    if isinstance(answer, Mapping):
        if isinstance(answer.get("extract"), Mapping):
            return dict(answer["extract"])
        data = answer.get("data")
        if isinstance(data, Mapping) and isinstance(data.get("extract"), Mapping):
            return dict(data["extract"])
    return answer


def legacy_text(message: Mapping[str, Any]) -> str:
    """The ``text`` of the deprecated legacy API for an inbound message: a typed text as it is, a click
    as its payload JSON (``{"nextDialogstateId", "sessionDataToSet"?}``) or, without one, its title."""
    kind, body = next(iter(message.items()))
    if kind == "postbackMessage":
        carried = {k: body[k] for k in ("nextDialogstateId", "sessionDataToSet") if body.get(k)}
        return json.dumps(carried) if carried else str(body.get("title") or "")
    return str(body.get("text") or body.get("title") or "")


def retry_wait(headers: Mapping[str, str], attempt: int, now: float | None = None) -> float:
    """Seconds to wait before retrying a 429: ``Retry-After``, else ``x-ratelimit-reset``, else 1, 2, 4 s.

    ``x-ratelimit-reset`` is read as a Unix time when it is that large (in seconds, as Chatlayer's docs
    say and the emulator sends, or in milliseconds, as the docs' example shows), else as seconds to wait.
    """
    now = time.time() if now is None else now
    for name in ("Retry-After", "x-ratelimit-reset"):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            try:
                value = email.utils.parsedate_to_datetime(raw).timestamp() - now
            except (TypeError, ValueError):
                continue
        else:
            if value > 1e12:
                value = value / 1000 - now
            elif value > 1e9:
                value -= now
        return max(0.0, value)
    return float(2 ** attempt)


def _rate_limited(response: requests.Response, what: str, why: str) -> ChatlayerError:
    limit = response.headers.get("x-ratelimit-limit", "?")
    return ChatlayerError(
        f"Chatlayer's rate limit stopped {what} (429, limit {limit} calls): {why}.",
        hint="Make fewer calls (one push can carry several messages), or raise the client's "
        "max_retries / max_wait_s.",
        api_status=429, body=_decoded(response),
    )


def _explain(status: int, what: str, detail: str, client: ChatlayerClient) -> tuple[str, str]:
    if status == 401:
        problem = "no token was given" if not client._token else "the token is wrong, expired or revoked"
        return f"Chatlayer refused {what} (401 Unauthorized): {problem}{detail}.", TOKEN_HELP
    if status == 403:
        return (f"Chatlayer refused {what} (403 Forbidden): the token may not use bot "
                f"{client.bot_id!r}{detail}.", "Use a token from the workspace of this bot. " + TOKEN_HELP)
    if status == 404:
        return (f"Chatlayer found nothing at {what} (404){detail}.",
                f"Check the bot id ({client.bot_id!r}), the session id (send {{internal.sessionId}} from "
                f"the API step) and the version ({client.version}): a DRAFT conversation is not in LIVE.")
    if status in (400, 422):
        return (f"Chatlayer rejected {what} ({status}){detail}.",
                "Check what was sent: build messages with toolkit.text(...), toolkit.buttons(...) and the "
                "other builders; the client converts them to the V1 format.")
    if status >= 500:
        return (f"Chatlayer failed on {what} ({status}){detail}.",
                "The fault is on Chatlayer's side: try again later. The client does not retry it, since a "
                "push may already have been delivered.")
    return f"Chatlayer answered {what} with {status}{detail}.", "See Chatlayer's answer in error.body."


def _decoded(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


def _answer(response: requests.Response) -> Any:
    body = _decoded(response)
    return {} if body is None else body


def _detail(body: Any) -> str:
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, Mapping) else inner
        if message is None:
            message = body.get("message")
        return f": {str(message).rstrip('.')}" if message else ""
    return f": {str(body)[:200].rstrip('.')}" if body else ""


def _items(body: Any) -> list[Any]:
    if isinstance(body, Mapping) and isinstance(body.get("data"), list):
        return list(body["data"])
    return list(body) if isinstance(body, list) else [body]
