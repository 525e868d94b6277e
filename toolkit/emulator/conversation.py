"""``toolkit.Conversation``: chat with a whole flow, as Chatlayer would run it, against a backend
(an ``App`` in-process, a running ``Server`` or a base URL over real HTTP) -- or with the real bot:
``Conversation(toolkit.LiveBot(...))`` has the same verbs and report (:mod:`toolkit.chatlayer.live`).

Every turn gets an id (``<session id>#<n>``); while it is in flight, requests the backend App gets are
linked to it (``Exchange.turn``, :mod:`toolkit.log.turns`) and listed under the user's entry:
``called /order-status → 200, 42 ms``.

``say(text)``, ``click(title)`` and ``share_location(lat, lon)`` each return a :class:`Turn`;
``transcript``, ``session``, ``errors`` (the error log) and ``notices`` show what happened.
``receive(messages)`` lets another thread push bot messages in (Chatlayer's V1 API emulation).
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..config import Settings
from ..errors import ConversationError, ToolkitError
from ..log.turns import in_turn
from ..messages import text as text_message
from ..wire.webhook import intro_message, location_message, postback_message
from ..wire.webhook import text_message as typed
from .apistep import StepError, StepResult
from .blocks import InputBlock
from .choices import Choice, find_choice, latest_choices, location_target
from .flow import Flow
from .runner import Engine
from .session import Session
from .transcript import Turn, transcript_html, transcript_text

NOT_UNDERSTOOD = "Sorry, I didn't get that. Could you put it differently?"


def calls_of(log: Any, turn_id: str, skip: str | None = None, after: int = 0) -> list[dict[str, Any]]:
    """The requests ``log`` holds for turn ``turn_id`` (but those to ``skip``, and those logged before
    entry id ``after``: an earlier run's turn of the same number), oldest first."""
    return [{"method": e.method, "path": e.path, "status": e.status, "ms": round(e.total_ms, 1),
             "handler": e.handler} for e in log.entries()
            if e.turn == turn_id and e.path != skip and getattr(e, "id", 0) > after]


class Conversation(Engine):
    """A conversation with ``flow``; API steps go to ``backend``.

    ``session`` is a :class:`Session` or a dict of starting variables; other keywords go to
    ``Session`` (``user=``, ``locale=``, ``session_id=`` ...). Settings come from ``settings``, else
    the backend App's, else the defaults. The flow starts at once (``start=False`` to wait).
    """

    def __init__(self, flow: Flow | Any, backend: Any = None, *,
                 session: Session | Mapping[str, Any] | None = None, settings: Settings | None = None,
                 start: bool = True, trace_turns: bool = True, **session_options: Any) -> None:
        self.live: Any = flow if getattr(flow, "live_partner", False) is True else None
        self.flow: Flow = flow.check() if self.live is None else Flow(f"live:{self.live.name}")
        if backend is None and self.live is not None:
            backend = getattr(self.live, "app", None)  # the app the live bot calls
        self.backend = backend
        self.trace_turns = trace_turns  # link the backend's requests to turns (off for Chatlayer's side)
        self._turn_ids = itertools.count(1)
        self._round = 0  # a live conversation starts a new user at each restart
        self._settings: Settings | None
        self._fallback = Settings()
        if isinstance(session, Session):
            self._settings = settings if settings is not None else session.settings
            self.session = session
        else:
            self._settings = settings
            self.session = Session(session, settings=self.settings, **session_options)
        self.session.settings = self.settings
        self._initial = self.session.data
        self.errors: list[StepError] = []  # Chatlayer's History -> Error logs
        self.results: list[StepResult] = []  # every API step run
        self.notices: list[str] = []
        self.current: str | None = None
        self.waiting: InputBlock | None = None
        self._entries: list[dict[str, Any]] = []
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.RLock()
        if start:
            self.start()

    @property
    def settings(self) -> Settings:
        """``settings=`` if given (or the given Session's), else the backend App's current settings,
        else the defaults (``TOOLKIT_*`` environment variables applied)."""
        if self._settings is not None:
            return self._settings
        found = getattr(getattr(self.backend, "app", self.backend), "settings", None)
        return found if isinstance(found, Settings) else self._fallback

    # --- what the user does ----------------------------------------------------------------------

    def start(self) -> Turn:
        """Open the chat: the start block runs (``internal.messageType`` is ``intro``)."""
        def act() -> None:
            if self.live is not None:
                return self._live_send(intro_message(), "the opening", self.session.data, opening=True)
            self.session._set_internal(messageType="intro", messageContent="")
            self._enter(self.flow.start)

        return self._turn(None, act)

    def restart(self) -> Turn:
        """Forget the transcript, the error log and the variables (back to the starting ones), and start."""
        with self._lock:
            used = any(e.get("sender") == "user" for e in self._entries)
            self._entries.clear()
            self.errors.clear()
            self.results.clear()
            self.notices.clear()
            self.session.clear()
            self.session.update(self._initial)
            self.session._set_internal(nlp={}, currentDialogstate=None, previousDialogstate=None)
            self.session.missing.clear()
            self.current, self.waiting = None, None
            self._round += 1 if used else 0  # a live bot: a new user, unless it only saw the opening
            self._turn_ids = itertools.count(1)  # the opening is turn 1, as in a script's report
        return self.start()

    def say(self, text: str) -> Turn:
        """Type ``text``: an input block waiting captures it; otherwise the intents decide."""
        text = str(text)

        def act() -> None:
            if self.live is not None:
                return self._live_send(typed(text), f"say {text!r}")
            self.session._set_internal(messageContent=text, messageType="text")
            if self.waiting is not None:
                self._answer(self.waiting, text)
                return
            intent = self.flow.match(text)
            nlp = {"expression": text, "intent": {"name": intent.name if intent else None,
                                                  "score": 1.0 if intent else 0.0},
                   "intents": [{"name": intent.name, "score": 1.0}] if intent else [], "entities": []}
            self.session._set_internal(nlp=nlp)
            self._trace("intent", intent.name if intent else "(fallback)")
            if intent is not None:
                self._enter(intent.go)
            elif self.flow.fallback:
                self._enter(self.flow.fallback)
            else:
                self._bot(text_message(NOT_UNDERSTOOD), None)

        return self._turn({"sender": "user", "type": "text", "text": text}, act)

    def click(self, title: str, *, card: str | None = None) -> Turn:
        """Click the button or quick reply ``title`` (the newest one offered; ``card=`` picks a
        carousel card). A postback writes its params into the session and jumps to its block."""
        with self._lock:
            choice = find_choice(self._entries, title, card)
        item = choice.item
        kind = item.get("type")
        if kind == "location":
            raise ConversationError(f"{title!r} asks for the user's location.",
                                    hint="Use conversation.share_location(lat, lon) instead of click().")
        if kind in ("web_url", "phone_number"):
            where = item.get("url") or item.get("payload")
            return self._turn({"sender": "user", "type": "link", "text": choice.title, "url": str(where)},
                              lambda: None)
        payload = item.get("payload") or {}

        def act() -> None:
            self._trace_choice(choice)
            if self.live is not None:
                clicked = postback_message(choice.title, payload.get("id"),
                                           next_dialogstate_id=payload.get("nextDialogstateId"),
                                           params=payload.get("params") or ())
                return self._live_send(clicked, f"click {title!r}")
            for param in payload.get("params") or []:
                self.session.set(str(param["key"]), param.get("value"))
            self.session._set_internal(messageContent=choice.title, messageType="postback")
            self._enter(str(payload.get("nextDialogstateId")))

        return self._turn({"sender": "user", "type": "postback", "text": choice.title}, act)

    def share_location(self, lat: float, lon: float) -> Turn:
        """Share a location (a location quick reply): stored as ``{lat, lon}`` in the variable the
        ``emulator_location_variable`` setting names, then on to the quick reply's block."""
        try:
            lat, lon = float(lat), float(lon)
        except (TypeError, ValueError):
            raise ConversationError(f"A location needs two numbers, got {lat!r}, {lon!r}.",
                                    hint="E.g. share_location(50.8466, 4.3528).") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ConversationError(f"({lat}, {lon}) is not on Earth.",
                                    hint="Latitude is -90..90, longitude -180..180 (in that order).")
        with self._lock:
            target = location_target(self._entries)

        def act() -> None:
            self._trace_location()
            if self.live is not None:
                return self._live_send(location_message(lat, lon), f"share_location({lat:g}, {lon:g})")
            self.session.set(self.settings.emulator_location_variable, {"lat": lat, "lon": lon})
            self.session._set_internal(messageContent=f"{lat},{lon}", messageType="postback")
            if target:
                self._enter(target)
            else:
                self._notice("A location was shared, but no location quick reply was offered: it is "
                             f"stored in {self.settings.emulator_location_variable} and the flow waits.")

        return self._turn({"sender": "user", "type": "location", "text": f"📍 {lat:g}, {lon:g}"}, act)

    def choices(self) -> list[Choice]:
        """The buttons, quick replies and card buttons the bot offered since the user's last turn."""
        with self._lock:
            return latest_choices(self._entries)

    # --- pushed messages ---------------------------------------------------------------------------

    def receive(self, messages: Iterable[Mapping[str, Any]], source: str = "push") -> Turn:
        """Append bot messages that arrive on their own (thread-safe), e.g. pushed through the V1 API.
        Templates are filled from the session, as for every bot message."""
        items = [dict(m) for m in messages]
        def act() -> None:
            for message in items:
                self._bot(message, None, source)

        return Engine._turn(self, None, act)  # not a user's turn: nothing to trace

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` after every change of the transcript; returns the unsubscribe function."""
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    # --- turns: tracing, and the live partner ---------------------------------------------------------

    def _turn(self, user: dict[str, Any] | None, act: Callable[[], Any]) -> Turn:
        """Run one user turn; with a backend App, link the requests it gets meanwhile to the turn."""
        log = getattr(getattr(self.backend, "app", self.backend), "log", None) if self.trace_turns else None
        if log is None or not hasattr(log, "entries"):
            return super()._turn(user, act)
        turn_id = f"{self.session_id}#{next(self._turn_ids)}"
        calls: list[dict[str, Any]] = []
        mark = max((getattr(e, "id", 0) for e in log.entries()), default=0)

        def traced() -> None:
            try:
                with in_turn(turn_id, log):
                    act()
            finally:
                calls[:] = calls_of(log, turn_id, skip=getattr(self.live, "path", None), after=mark)
                if calls and user is not None:
                    user["calls"] = calls

        turn = super()._turn(user, traced)
        turn.id, turn.calls = turn_id, copy.deepcopy(calls)
        return turn

    def _live_send(self, message: dict[str, Any], what: str, session_data: Any = None, *,
                   opening: bool = False) -> None:
        assert self.live is not None
        number = sum(1 for e in self._entries if e.get("sender") == "user")
        label = what if opening else f"turn {number}: {what}"
        user = {"id": self.live_user_id, **dict(self.session.internal.user)}
        try:
            got = self.live.exchange(user, message, session_data=session_data, turn=label)
        except ToolkitError as exc:
            for m in getattr(exc, "arrived", []):
                self._entries.append({"sender": "bot", "source": "live", "block": None, "message": m})
            self._system(exc.message)
            raise
        for m in got:
            self._entries.append({"sender": "bot", "source": "live", "block": None, "message": m})

    @property
    def live_user_id(self) -> str:
        """The user id the live bot knows this conversation by (a new one after each restart)."""
        return self.session_id if not self._round else f"{self.session_id}-{self._round}"

    # --- what was said -----------------------------------------------------------------------------

    @property
    def transcript(self) -> list[dict[str, Any]]:
        """Every entry so far (a copy): user turns, bot messages, API-step errors."""
        with self._lock:
            return copy.deepcopy(self._entries)

    @property
    def session_id(self) -> str:
        return self.session.session_id

    def text(self) -> str:
        """The transcript as text, one line per entry."""
        return transcript_text(self.transcript)

    def run(self, script: Any, *, restart: bool = True, progress: bool | None = None) -> Any:
        """Play a script (a list of turns, or a CSV file) and return its pass/fail :class:`Report`.
        A CSV file's run shows a progress bar (``progress=`` turns it on or off)."""
        from .script import run_script

        return run_script(self, script, restart=restart, progress=progress)

    def check(self, script: Any, *, restart: bool = True, progress: bool | None = None) -> Any:
        """Like :meth:`run`, but raise ``AssertionError`` with the readable report when a turn fails."""
        return self.run(script, restart=restart, progress=progress).check()

    def __repr__(self) -> str:
        with self._lock:
            n = len(self._entries)
        if self.live is not None:
            return f"<Conversation with live bot {self.live.name!r}: {n} entries>"
        return f"<Conversation with flow {self.flow.name!r}: {n} entries, at {self.current!r}>"

    def _repr_html_(self) -> str:
        return transcript_html(self.transcript)
