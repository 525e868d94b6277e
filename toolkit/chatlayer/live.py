"""``toolkit.LiveBot``: the real, published bot as a conversation partner, through Chatlayer's
**webhook channel** -- so a conversation script written against the emulated flow runs unchanged
against the live bot: ``Conversation(LiveBot(app, ...))``.

The user's turns go out with the V1 API (``POST /v1/channels/webhook/{channelId}/messages``, Bearer
token; ``livebot_endpoint="legacy"`` picks Chatlayer's deprecated ``/api/webhookMessage/{botId}``). The
bot's answers come back as Chatlayer POSTs them to the channel's webhook URL, in its outbound
Messenger-like format: to a receiver route on the app's own server (``livebot_path``), exposed through
the tunnel. The receiver is a toolkit handler, not a Flask route, so that it can be added while the
server runs (Flask refuses routes after its first request), shows in ``app.log`` and the log view like
every call, and skips the app's Bearer / HMAC checks (Chatlayer's webhook sends none) to check the
verify token instead. It answers 200 to every well-formed body it does not show (an ``event``, an unknown
message, attachment or button type, extra members): Chatlayer retries a refused delivery (contract 8.1).
Only a wrong verify token is refused (401); a malformed body is a 400 naming what is wrong.

A turn is complete once no new message arrived for ``livebot_quiet_s``; with nothing complete after
``livebot_deadline_s`` it fails with :class:`~toolkit.errors.LiveBotTimeout`, naming the turn and what did
arrive. Offline, :meth:`toolkit.V1Emulator.webhook_channel` plays Chatlayer's side over loopback.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from ..emulator.transcript import message_text
from ..errors import BadRequest, ConfigError, LiveBotTimeout, NotServing, Unauthorized
from ..html.templates import macro
from ..request import Request
from ..routing import normalize_path
from ..wire.webhook import recipient_of, shown
from .client import ChatlayerClient

ENDPOINTS = {"v1": "/v1/channels/webhook/{channel}/messages", "legacy": "/api/webhookMessage/{bot}"}
ALIASES = {"botium": "legacy"}  # the old name of the deprecated legacy form
OUTBOUND_HINT = "Chatlayer's outbound format: {recipient: {id}, verifyToken, message: {...}}."
INBOX_MAX = 1000  # messages kept per user, and users kept: the oldest are dropped (counted in .dropped)


class LiveBot:
    """The bot behind webhook channel ``channel_id``, reached with access token ``token``.

    ``app`` is the app whose server receives the answers (serve it, and expose it for a real bot);
    ``public_url`` is that server's public base URL (``server.expose().url``), shown in the paste guide.
    ``verify_token``: paste the one Chatlayer generated in the channel's settings (the normal path,
    contract 8.10); without it a random one is made, to paste into the channel instead (the fallback).
    ``bot_id`` is needed by the legacy endpoint only. ``base_url`` replaces the region's host (the
    :class:`toolkit.V1Emulator`'s ``url`` offline). Other keywords override the ``livebot_*`` settings.
    ``settled`` (offline only): a function that says Chatlayer's side has delivered everything, e.g. an
    emulated channel's ``idle``; a turn then also waits for it, so a slow machine never splits a turn.
    """

    live_partner = True  # what Conversation recognises

    def __init__(self, app: Any, channel_id: str, token: str, *, verify_token: str | None = None,
                 bot_id: str | None = None, base_url: str | None = None, public_url: str | None = None,
                 region: str | None = None, endpoint: str | None = None, path: str | None = None,
                 quiet_s: float | None = None, deadline_s: float | None = None,
                 version: str = "DRAFT", settled: Callable[[], bool] | None = None) -> None:
        s = app.settings
        if not channel_id:
            raise ConfigError("LiveBot needs the webhook channel's id.",
                              hint="Add a Webhook channel to the bot in Chatlayer (Channels) and copy "
                              "its id.")
        self.app, self.channel_id, self.name = app, str(channel_id), str(channel_id)
        self.endpoint = ALIASES.get(endpoint or s.livebot_endpoint, endpoint or s.livebot_endpoint)
        if self.endpoint not in ENDPOINTS:
            raise ConfigError(f"Unknown livebot endpoint {self.endpoint!r}.",
                              hint="Use 'v1' (the current API) or 'legacy' (the deprecated one).")
        self.path = normalize_path(path or s.livebot_path)
        self.quiet_s = float(s.livebot_quiet_s if quiet_s is None else quiet_s)
        self.deadline_s = float(s.livebot_deadline_s if deadline_s is None else deadline_s)
        self.verify_token = verify_token or secrets.token_urlsafe(18)
        self.generated_token = not verify_token  # the fallback: paste it into the channel
        self.public_url = public_url
        self.settled = settled
        self.client = ChatlayerClient(token, bot_id or self.channel_id, region or s.livebot_region, version,
                                      base_url=base_url)
        # the newest accepted outbound bodies, as they came (at most INBOX_MAX: older ones are dropped)
        self.received: list[dict[str, Any]] = []
        self.refused = 0  # calls to the receiver with a wrong verify token
        self.skipped = 0  # accepted bodies that show nothing (events, unknown types)
        self.dropped = 0  # messages dropped from the bounded inbox (oldest first)
        self.stray = 0  # messages for users this LiveBot never wrote to (e.g. a previous cell's), ignored
        self._inbox: dict[str, deque[tuple[int, float, dict[str, Any]]]] = {}  # user -> (n, time, message)
        self._counts: dict[str, int] = {}  # user -> messages ever received
        self._users: set[str] = set()  # whom this LiveBot wrote to: only their answers are taken
        self._cond = threading.Condition()
        app.add_handler(self.path, self._receiver(), methods="POST", public=True)

    # --- sending a turn, waiting for its answer -----------------------------------------------------

    def exchange(self, user: Mapping[str, Any], message: Mapping[str, Any], *,
                 session_data: Mapping[str, Any] | None = None, turn: str = "a turn") -> list[dict[str, Any]]:
        """Send one user message and return the bot's answer (``{type, config}`` messages) once no new
        message arrived for ``quiet_s``; raise :class:`LiveBotTimeout` at ``deadline_s``."""
        server = getattr(self.app, "server", None)
        if server is None or not server.running:
            raise NotServing(
                f"The live bot's answers arrive at app {self.app.name!r}'s server, which is not running, so "
                f"{turn} would only wait {self.deadline_s:g} s for nothing.",
                hint="Serve the app in this kernel first: server = app.serve(port=0) (and server.expose() "
                "for a real bot).")
        user_id = str(user["id"])
        with self._cond:
            start, refused = self._counts.get(user_id, 0), self.refused
            self._users.add(user_id)
        deadline = time.monotonic() + self.deadline_s
        self.client.webhook_message(self.channel_id, message, user, session_data=session_data,
                                    endpoint=self.endpoint, verify_token=self.verify_token)
        with self._cond:
            while True:
                got = [(t, m) for n, t, m in self._inbox.get(user_id, ()) if n >= start]
                now = time.monotonic()
                quiet = bool(got) and now - got[-1][0] >= self.quiet_s
                if quiet and (self.settled is None or self.settled()):
                    return [m for _, m in got]
                if now >= deadline:
                    raise self._timeout(turn, [m for _, m in got], self.refused - refused)
                until = deadline if not got else min(deadline, got[-1][0] + self.quiet_s)
                self._cond.wait(max(0.002, until - now) if not quiet else 0.002)

    def _timeout(self, turn: str, arrived: list[dict[str, Any]], refused: int) -> LiveBotTimeout:
        what = ("nothing arrived" if not arrived else
                f"{len(arrived)} message(s) arrived, still coming: " + " | ".join(map(message_text, arrived)))
        also = f"; {refused} call(s) to the receiver were refused for a wrong verify token" if refused else ""
        return LiveBotTimeout(
            f"The live bot did not complete {turn} within {self.deadline_s:g} s (livebot_deadline_s): "
            f"{what}{also}.",
            hint=f"Check that the channel's Webhook URL is {self.webhook_url()} and its Verify token is this "
            "LiveBot's (see its guide), that the server runs and the tunnel is open; for a slow bot raise "
            "livebot_deadline_s.", turn=turn, arrived=arrived)

    # --- the receiver -------------------------------------------------------------------------------

    def _receiver(self) -> Any:
        def livebot_webhook(request: Request) -> None:
            self._receive(request.body)

        return livebot_webhook

    def _receive(self, body: Any) -> None:
        if not isinstance(body, Mapping):
            raise BadRequest(f"A webhook call's body must be a JSON object, got {type(body).__name__}.",
                             hint=OUTBOUND_HINT)
        given = str(body.get("verifyToken") or "")
        if not hmac.compare_digest(given.encode(), self.verify_token.encode()):
            with self._cond:
                self.refused += 1
            raise Unauthorized("The verifyToken of this webhook call does not match the LiveBot's."
                               if given else "This webhook call has no verifyToken.",
                               hint="Give LiveBot(verify_token=...) the token shown in the channel's "
                               "settings (Chatlayer: Channels -> Webhook -> Verify token); see "
                               "livebot.guide().")
        try:
            user_id = recipient_of(body)
        except ValueError as exc:
            raise BadRequest(f"A malformed outbound message: {exc}.", hint=OUTBOUND_HINT) from None
        message = body.get("message")
        if not isinstance(message, Mapping):
            raise BadRequest("A webhook call needs a message object.", hint=OUTBOUND_HINT)
        try:
            converted = shown(message)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise BadRequest(f"A malformed outbound message the toolkit cannot read: {exc}",
                             hint="A shape the toolkit does not know: please report it.") from None
        if converted is not None and not user_id:
            raise BadRequest("A webhook call that shows a message needs recipient.id (or senderId).",
                             hint=OUTBOUND_HINT)
        with self._cond:
            if converted is not None and str(user_id) not in self._users:
                self.stray += 1  # not an answer to this LiveBot (a previous cell's turn?): ignored
                return
            self.received.append(dict(body))
            if len(self.received) > INBOX_MAX:
                self.dropped += 1
                del self.received[0]
            if converted is None or not user_id:
                self.skipped += 1  # answered 200: Chatlayer would retry a refused delivery
                return
            user_id = str(user_id)
            n = self._counts.get(user_id, 0)
            self._counts[user_id] = n + 1
            self._inbox.setdefault(user_id, deque(maxlen=INBOX_MAX)).append((n, time.monotonic(), converted))
            self._cond.notify_all()

    def expect(self, *user_ids: str) -> None:
        """Take the bot's answers for ``user_ids`` too, though this LiveBot did not write to them (a user
        another tool started, e.g. Chatlayer's own web widget). Answers for users this LiveBot neither
        wrote to nor expects are counted as ``stray`` and ignored, so a re-run cell never takes the
        previous cell's late answers.

        >>> bot.expect("user-9")        # doctest: +SKIP
        """
        with self._cond:
            self._users.update(str(u) for u in user_ids)

    def inbox(self, user_id: str) -> list[dict[str, Any]]:
        """Every shown message that arrived for ``user_id``, as ``{type, config}`` messages, oldest first."""
        with self._cond:
            return [m for _, _, m in self._inbox.get(str(user_id), ())]

    # --- what to paste --------------------------------------------------------------------------------

    def webhook_url(self) -> str:
        """The receiver's URL: public when ``public_url`` is set, else the local server's (or a path)."""
        server = getattr(self.app, "server", None)
        base = self.public_url or (server.url if server is not None else "")
        return base.rstrip("/") + self.path

    def send_url(self) -> str:
        """Where user messages go."""
        path = ENDPOINTS[self.endpoint].format(channel=self.channel_id, bot=self.client.bot_id)
        return self.client.base_url + path

    def guide(self) -> str:
        """Exactly what to paste into the channel's settings, and what is used to send."""
        token = f"  Verify token: {self.verify_token}  ({self._token_origin()})"
        lines = ["In Chatlayer: Channels -> Webhook (of this bot), paste:",
                 f"  Webhook URL:  {self.webhook_url()}",
                 token,
                 f"User messages go to POST {self.send_url()} (livebot_endpoint={self.endpoint!r}).",
                 f"A turn is complete after {self.quiet_s:g} s without a new message; it fails after "
                 f"{self.deadline_s:g} s."]
        if not self.public_url:
            lines.append("Not public yet: Chatlayer cannot reach a local URL. Expose the server "
                         "(tunnel = server.expose()) and set livebot.public_url = tunnel.url.")
        return "\n".join(lines)

    def _token_origin(self) -> str:
        """Whose verify token this is: Chatlayer's (the normal path) or one generated here (the fallback)."""
        if not self.generated_token:
            return "Chatlayer's, as given: leave the channel's as it is"
        return ("generated here, the fallback: paste it into the channel, or better pass Chatlayer's own as "
                "LiveBot(verify_token=...)")

    def __repr__(self) -> str:
        extra = "".join(f", {n} {what}" for n, what in ((self.dropped, "dropped from the inbox"),
                                                        (self.stray, "stray (not for this LiveBot)")) if n)
        return f"<LiveBot channel {self.channel_id!r}: receiver {self.path}, {self.endpoint} endpoint{extra}>"

    def _repr_html_(self) -> str:
        rows = [("Webhook URL", self.webhook_url(), ""),
                ("Verify token", self.verify_token, self._token_origin())]
        return str(macro("chatlayer.html", "webhook_guide")(rows, self.guide().splitlines()[3:]))

