"""``toolkit.Background``: the long-running handler pattern. Answer the API step at once, do the slow
part on a background thread, push its result into the conversation through Chatlayer's V1 API.

>>> jobs = Background(app, client)                            # doctest: +SKIP
>>> @app.handler("/payment")                                  # doctest: +SKIP
... def payment(sessionId: str, amount: float):
...     jobs.run(sessionId, check_payment, amount)            # check_payment's answer is pushed later
...     return "One moment, I'm checking your payment…"       # the step's answer, now

The slow function returns what a handler returns (a str, messages, a list, a ``Reply`` with
messages). The push waits until the handler has returned, so it never overtakes the step's answer.
Each job is recorded in ``app.log`` as a ``PUSH`` exchange (``source="push"``) with the push call
nested under it; a failure (the slow part raised, or the push failed) is an error entry flagged
``push-failed`` and a notice in ``app.notices``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ChatlayerError, ToolkitError, error_body
from ..log import Exchange, current_trace, logger, outbound, trace
from ..reply import normalize

if TYPE_CHECKING:
    from ..app import App
    from .client import ChatlayerClient

ANSWER_WAIT_S = 30.0  # longest wait for the handler's answer before pushing anyway
_numbers = itertools.count(1)


class Job:
    """One background job: ``status`` is ``running``, ``pushed``, ``nothing to push`` or ``failed``
    (``skipped (offline replay)`` when started while a fixture is replayed offline)."""

    def __init__(self, name: str, session_id: str) -> None:
        self.name, self.session_id = name, session_id
        self.status = "running"
        self.result: Any = None
        self.error: str | None = None
        self.exchange: Exchange | None = None
        self.done = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished (True) or ``timeout`` passed (False)."""
        return self.done.wait(timeout)

    def __repr__(self) -> str:
        return f"<Job {self.name}: {self.status}>"


class Background:
    """Runs slow parts of handlers on background threads and pushes their results with ``client``.

    ``on_error``: a message (e.g. ``"Sorry, that did not work."``) pushed when the slow part raises,
    so the user is not left waiting; ``None`` pushes nothing.
    """

    def __init__(self, app: App, client: ChatlayerClient, *, on_error: Any = None,
                 keep: int = 100) -> None:
        self.app, self.client, self.on_error = app, client, on_error
        self.jobs: deque[Job] = deque(maxlen=keep)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def run(self, session_id: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Job:
        """Call ``fn(*args, **kwargs)`` on a background thread and push what it returns into
        conversation ``session_id``. Returns the :class:`Job` at once.
        """
        if not session_id:
            raise ValueError("Background.run needs the conversation's session id: send "
                             "{internal.sessionId} from the API step and pass it on.")
        job = Job(getattr(fn, "__name__", "job"), str(session_id))
        outbound.ensure_installed()  # the push is logged under the job even when no handler ran yet
        if outbound.replaying():  # a fixture replayed offline: no slow work, nothing pushed for real
            job.status = "skipped (offline replay)"
            job.done.set()
            self.jobs.append(job)
            return job
        answered = _answered_event()
        thread = threading.Thread(target=self._work, args=(job, fn, args, kwargs, answered),
                                  name=f"toolkit-background-{next(_numbers)}", daemon=True)
        with self._lock:
            self.jobs.append(job)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return job

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for every job; True when all have finished within ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    @property
    def pending(self) -> int:
        """How many jobs are still running."""
        return sum(1 for j in list(self.jobs) if not j.done.is_set())

    # --- one job -------------------------------------------------------------------------------------

    def _work(self, job: Job, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
              answered: threading.Event | None) -> None:
        entry = Exchange("PUSH", f"/{job.name}", 0, handler=job.name, query={"session": job.session_id},
                         source="push")
        t0 = time.perf_counter()
        sent: Any = None
        answer: Any = None
        with trace(self.app.masker) as tr:
            try:
                job.result = fn(*args, **kwargs)
                entry.handler_ms = (time.perf_counter() - t0) * 1000
                messages = _messages(job.result, job.name)
                if answered is not None and not answered.wait(ANSWER_WAIT_S):
                    logger.warning("job %s: the handler has not answered after %ss; pushing anyway",
                                   job.name, ANSWER_WAIT_S)
                if messages:
                    sent = {"sendMessages": messages}
                    answer = self.client.push(job.session_id, *messages)
                job.status, entry.status = ("pushed", 200) if messages else ("nothing to push", 204)
            except Exception as exc:
                answer = self._failed(job, entry, exc)
        entry.outbound = tr.outbound
        entry.keep_bodies(_bytes(sent), _bytes(answer), self.app.masker)
        entry.total_ms = (time.perf_counter() - t0) * 1000
        job.exchange = self.app.log.record(entry)
        job.done.set()

    def _failed(self, job: Job, entry: Exchange, exc: Exception) -> Any:
        job.status, entry.flags = "failed", ["push-failed"]
        entry.traceback = "".join(traceback.format_exception(exc))
        if isinstance(exc, ChatlayerError):
            entry.status = exc.status
            job.error = f"Push of job {job.name!r} to session {job.session_id!r} failed: {exc}"
        else:
            entry.status = exc.status if isinstance(exc, ToolkitError) else 500
            job.error = (f"Background job {job.name!r} for session {job.session_id!r} raised "
                         f"{type(exc).__name__}: {exc}")
            self._apologise(job)
        entry.error = job.error
        logger.warning("%s", job.error)
        self.app.notice(job.error.split("\n")[0])
        return error_body(exc if isinstance(exc, ToolkitError) else ToolkitError(str(exc)))

    def _apologise(self, job: Job) -> None:
        if self.on_error is None:
            return
        try:
            self.client.push(job.session_id, self.on_error)
        except Exception as exc:  # the job is already failed: note it and go on
            job.error = f"{job.error}\n  The on_error message could not be pushed either: {exc}"

    def __repr__(self) -> str:
        jobs = list(self.jobs)
        failed = sum(1 for j in jobs if j.status == "failed")
        return (f"<Background {self.app.name!r}: {self.pending} running, {len(jobs) - self.pending} done, "
                f"{failed} failed>")


def _answered_event() -> threading.Event | None:
    """An event set when the running handler returns (None outside a handler)."""
    tr = current_trace()
    if tr is None:
        return None
    event = threading.Event()
    tr.after.append(event.set)
    return event


def _messages(result: Any, name: str) -> list[Any]:
    wire = normalize(result, handler=name)
    extra = sorted(k for k in wire if k != "messages")
    if extra:
        raise ToolkitError(
            f"Background job {name!r} returned {', '.join(extra)}, but a push can only carry messages.",
            hint="Return messages only (e.g. toolkit.text(...)): Chatlayer's V1 actions call documents "
            "sendMessages alone. Let the user's next step read or write the session instead.",
            handler=name,
        )
    return list(wire.get("messages", []))


def _bytes(value: Any) -> bytes:
    return b"" if value is None else json.dumps(value, default=str).encode()
