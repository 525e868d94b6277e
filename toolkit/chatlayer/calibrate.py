"""Calibration against the user's own bot: settle what Chatlayer's documentation leaves open (the HMAC
scheme, the Content-Type, whether values keep their JSON type, the timeout and retries) by looking at
what the bot really sends.

``cal = toolkit.calibrate(app, secret)`` registers a probe handler (``cal.path``); showing ``cal`` in a
cell says what to paste into a Chatlayer API step. Each call of the probe is recorded (in memory
only); ``cal.report()`` shows what came, ``cal.suggested`` the settings that follow and ``cal.apply()``
sets them on the app (the emulator reads its settings from the app it calls).

The probe answers without the app's access control (it runs the check itself and reports what it
would have said), so a wrong guess of the scheme does not hide the very call that settles it. Close
the calibration (``cal.close()``) when done: the probe path is removed.

The slow probe cannot tie up the server: it waits on a request thread, so at most
``server_threads - 2`` (at least 1) probes wait at once, and, when the app has access control, only a
probe that passes at least one of its checks (e.g. the Bearer token, while the HMAC scheme is still
being calibrated) waits. Any other is answered at once, its ``Probe.skipped`` saying why; the other
handlers keep at least two threads.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..access import access_required, check_access
from ..errors import CalibrationError, ToolkitError
from ..request import Request
from .calreport import CalibrationReport, paste_html, paste_text, timing_of

NAMESPACE = "calibration"
SLOW_DELAYS = (1.0, 2.0, 4.0, 8.0, 12.0, 16.0, 20.0, 25.0, 30.0, 40.0)
Clock = Callable[[], float]


@dataclass
class Probe:
    """One call of the probe, as it arrived (headers unmasked: in memory only, never shown raw)."""

    n: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(repr=False)
    raw: bytes = field(repr=False)
    arrived: float  # the calibration's clock
    wall: float  # time.time() at arrival, to compare with a signed timestamp
    rejected: str | None = None  # what the app's access control would have said
    delay: float = 0.0  # how long the probe waited before answering (slow probe)
    retry_of: int | None = None  # n of the identical request this repeats
    finished: float | None = None
    skipped: str | None = None  # why a slow probe answered at once (too many waiting, refused)

    @property
    def body(self) -> Any:
        try:
            return json.loads(self.raw) if self.raw else None
        except (ValueError, UnicodeDecodeError):
            return self.raw.decode("utf-8", errors="replace")

    def same_request(self, other: Probe) -> bool:
        return (self.method, self.path, self.query, self.raw) == (other.method, other.path, other.query,
                                                                   other.raw)

    def __repr__(self) -> str:
        again = f", retry of #{self.retry_of}" if self.retry_of else ""
        return f"<Probe #{self.n} {self.method} {self.path}{again}>"


class Calibration:
    """A probe handler on ``app`` and what it has seen. See :func:`calibrate`."""

    def __init__(self, app: Any, secret: str | None = None, *, path: str = "/calibrate",
                 slow: bool = False, delays: Sequence[float] = SLOW_DELAYS, clock: Clock = time.monotonic,
                 keep: int = 50) -> None:
        if slow and (not delays or any(d < 0 for d in delays)):
            raise CalibrationError("delays must be a non-empty list of seconds (0 or more).",
                                   hint="e.g. toolkit.calibrate(app, slow=True, delays=[1, 2, 4, 8]).")
        self.app, self.path, self.slow = app, "/" + path.strip("/"), slow
        self.delays = tuple(float(d) for d in delays)
        # the key of the bot's HMAC setting: given, else the one the app already checks with
        self._secret = secret or app.settings.hmac_secret or None
        self._clock, self._keep = clock, keep
        self._probes: list[Probe] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.most_waiting = max(1, int(app.settings.server_threads) - 2)  # slow probes waiting at once
        self._waiting = threading.BoundedSemaphore(self.most_waiting)
        app.add_handler(self.path, self._handle)
        app.unchecked_paths.add(self.path)

    # --- the probe -----------------------------------------------------------------------------

    def _handle(self, request: Request) -> dict[str, Any]:
        probe = self._record(request)
        if probe.delay and probe.rejected is not None and not self._holds_a_credential(request):
            probe.delay, probe.skipped = 0.0, f"not delayed: access control refuses it ({probe.rejected})"
        elif probe.delay and not self._waiting.acquire(blocking=False):
            probe.delay, probe.skipped = 0.0, (f"not delayed: {self.most_waiting} slow probe(s) already "
                                               "wait (server_threads - 2), to keep threads for the others")
        elif probe.delay:
            try:
                self._closed.wait(probe.delay)
            finally:
                self._waiting.release()
        probe.finished = self._clock()
        return self._answer(probe)

    def _holds_a_credential(self, request: Request) -> bool:
        """Whether the caller passes at least one of the app's access checks (Bearer, Basic, custom
        header, HMAC), or the app has none: a slow probe waits only for such a caller."""
        settings = self.app.settings
        if not access_required(settings):
            return True
        checks = ("auth_bearer", "auth_basic", "auth_header", "hmac_secret")
        for name in (n for n in checks if settings[n]):
            try:
                check_access(request, settings.replace(**{n: "" for n in checks if n != name}))
            except ToolkitError:
                continue
            return True
        return False

    def _record(self, request: Request) -> Probe:
        try:
            check_access(request, self.app.settings)
            rejected = None
        except ToolkitError as exc:
            rejected = exc.message
        with self._lock:
            probe = Probe(len(self._probes) + 1, request.method, request.path, dict(request.query),
                          dict(request.headers), request.raw, self._clock(), time.time(), rejected)
            first = next((p for p in reversed(self._probes) if p.retry_of is None and p.same_request(probe)
                          and self._recent(p, probe.arrived)), None)
            probe.retry_of = first.n if first else None
            originals = sum(1 for p in self._probes if p.retry_of is None)
            index = originals - 1 if first else originals
            probe.delay = self.delays[min(index, len(self.delays) - 1)] if self.slow else 0.0
            self._probes.append(probe)
            del self._probes[:-self._keep]
        return probe

    def _recent(self, original: Probe, now: float) -> bool:
        """An identical request is a retry while the first is unanswered or just answered."""
        return original.finished is None or now - original.finished <= self.app.settings.retry_window_s

    def _answer(self, probe: Probe) -> dict[str, Any]:
        body = probe.body if isinstance(probe.body, dict) else {}
        data = {"number": 42, "object": {"a": 1}, "answered_after_s": probe.delay}
        reply: dict[str, Any] = {
            "session": {"namespace": NAMESPACE, "data": data},
            "messages": [{"type": "text", "config": {"textMessages": [
                {"text": f"Calibration call {probe.n} received"
                         + (f" (answered after {probe.delay:g} s)." if self.slow else ".")}]}}],
        }
        block = body.get("block")
        originals = sum(1 for p in self.probes if p.retry_of is None)
        # chain the calls: the slow probe until its delays run out, the plain one once (for the types)
        again = originals < len(self.delays) if self.slow else originals == 1
        if isinstance(block, str) and block.strip() and again and not self._closed.is_set():
            reply["action"] = {"nextDialogstate": block}  # call the step again, at once
        return reply

    # --- what it saw ----------------------------------------------------------------------------

    @property
    def probes(self) -> list[Probe]:
        """Every call recorded so far, oldest first."""
        with self._lock:
            return list(self._probes)

    def report(self, which: int = -1) -> CalibrationReport:
        """What Chatlayer sent in call ``which`` (the last by default), with the scheme and the types."""
        probes = self.probes
        if not probes:
            raise CalibrationError(
                f"The probe {self.path} has not been called yet.",
                hint="Paste what the calibration shows into an API step of your bot, trigger it (e.g. "
                "in the bot's preview), then run calibration.report() again.")
        timing = timing_of(probes) if self.slow else None
        return CalibrationReport(probes[which], probes, self._secret, self.app.settings, timing)

    @property
    def suggested(self) -> dict[str, Any]:
        """The settings that follow from what was seen (no secret among them); empty before a call."""
        return self.report().suggested if self.probes else {}

    def apply(self) -> dict[str, Any]:
        """Configure the app (and so the emulator that calls it) with :attr:`suggested`; the HMAC secret
        given to :func:`calibrate` is set too when a scheme was found. Returns what was set (masked)."""
        settings = dict(self.suggested)
        if not settings:
            raise CalibrationError("Nothing to apply: the probe saw no call yet, or nothing was settled.",
                                   hint="Trigger the API step, then check calibration.report().")
        secret = {"hmac_secret": self._secret} if self._secret and "hmac_header" in settings else {}
        self.app.configure(**settings, **secret)
        return {**settings, **({"hmac_secret": "***"} if secret else {})}

    def close(self) -> None:
        """Remove the probe path and release any call still waiting. Safe twice."""
        self._closed.set()
        self.app.unchecked_paths.discard(self.path)
        if self.path in self.app.handlers:
            self.app.remove_handler(self.path)

    def __enter__(self) -> Calibration:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- display ----------------------------------------------------------------------------------

    def url(self) -> tuple[str | None, str]:
        """The URL to paste and a note: through the tunnel when exposed, else the local URL."""
        server = getattr(self.app, "server", None)
        if server is None or not getattr(server, "running", False):
            return None, "The app is not served: run server = app.serve(port=0), then server.expose()."
        from ..tunnel.expose import tunnel_of

        tunnel = tunnel_of(server)
        if tunnel is not None:
            return tunnel.url + self.path, ""
        return server.url + self.path, ("A local URL: Chatlayer cannot reach it. Run server.expose() "
                                        "and show the calibration again for the public URL.")

    def _repr_html_(self) -> str:
        return paste_html(self)

    def guide(self) -> str:
        """What to paste into the API step, as plain text."""
        return paste_text(self)

    def __repr__(self) -> str:
        n = len(self.probes)
        state = "closed" if self._closed.is_set() else f"{n} call{'' if n == 1 else 's'} seen"
        kind = "slow probe" if self.slow else "probe"
        return (f"<Calibration {kind} {self.path}: {state}; HMAC secret "
                f"{'given' if self._secret else 'not given'}>")


def calibrate(app: Any, secret: str | None = None, **options: Any) -> Calibration:
    """Register a probe on ``app`` and return the :class:`Calibration` that tells what to paste into a
    Chatlayer API step and, once the bot has called it, what Chatlayer really sends.

    ``secret``: the key of the bot's HMAC API setting, if it has one (never shown; default: the app's
    ``hmac_secret``). Options: ``path``
    (default ``/calibrate``), ``slow=True`` (answer after growing ``delays`` to measure the timeout and
    the retries), ``clock`` (a monotonic clock, for tests). Calling it again replaces the probe.
    """
    previous = _current.get(app)
    if previous is not None:
        previous.close()
    calibration = Calibration(app, secret, **options)
    _current[app] = calibration
    return calibration


_current: weakref.WeakKeyDictionary[Any, Calibration] = weakref.WeakKeyDictionary()
