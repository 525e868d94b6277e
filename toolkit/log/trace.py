"""The trace of one request: while a handler runs, :func:`trace` collects what it touched (table
versions, outbound calls); :func:`note_table_read` and :func:`note_outbound` add to it from any
layer without imports upward.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .logger import logger

if TYPE_CHECKING:
    from .masking import Masker


@dataclass
class Trace:
    """What one handler call touched: table versions read and outbound HTTP calls made."""

    tables: dict[str, str] = field(default_factory=dict)
    outbound: list[dict[str, Any]] = field(default_factory=list)
    masker: Masker | None = None  # how outbound calls are masked (the app's sensitive_keys)
    after: list[Callable[[], None]] = field(default_factory=list)  # run when the handler returns
    flags: list[str] = field(default_factory=list)  # copied into Exchange.flags, e.g. "stale:orders"
    # the values of the request's sensitive keys, found on first use (an outbound call masks them)
    request_values: Callable[[], frozenset[str]] = field(default=frozenset, repr=False)


_current: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("toolkit_trace", default=None)


def current_trace() -> Trace | None:
    """The trace of the handler running in this context, if any."""
    return _current.get()


def note_table_read(name: str, version: str) -> None:
    """Record that the running handler read table ``name`` at ``version``."""
    t = _current.get()
    if t is not None:
        t.tables[name] = version


def note_table_error(name: str, message: str) -> None:
    """Record that table ``name`` served its last good version (its reload failed: ``message``).

    The exchange gets the flag ``stale:<name>``; the message itself is on ``Table.error``.
    """
    t = _current.get()
    if t is not None and f"stale:{name}" not in t.flags:
        t.flags.append(f"stale:{name}")


def note_outbound(call: Mapping[str, Any]) -> None:
    """Record an outbound HTTP call made by the running handler."""
    t = _current.get()
    if t is not None:
        t.outbound.append(dict(call))


class trace:  # noqa: N801 - used as a context manager, like a function
    """``with trace() as t:`` collects what the code inside touches into ``t``."""

    def __init__(self, masker: Masker | None = None) -> None:
        self._masker = masker

    def __enter__(self) -> Trace:
        if not _carrying:
            carry_into_threads()
        self._trace = Trace(masker=self._masker)
        self._token = _current.set(self._trace)
        return self._trace

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)
        for callback in self._trace.after:
            try:
                callback()
            except Exception:  # e.g. a background job's hook: never breaks the answer
                logger.exception("trace callback %r failed", callback)



@dataclass
class Sandbox:
    """Where writes go while a replay runs, so that replaying never touches your data.

    Tables ask :func:`current_sandbox` before writing: inside ``with sandbox():`` a CSV table writes
    to a throwaway copy of its file (:meth:`copy_of`) and a database table rolls its write back.
    """

    folder: str
    copies: dict[str, str] = field(default_factory=dict)  # real path -> throwaway copy
    writes: list[str] = field(default_factory=list)  # what was kept away from the real data

    def copy_of(self, path: str) -> str:
        """The throwaway copy of file ``path`` (made on first use, from the file as it is now)."""
        import os
        import shutil

        real = os.path.realpath(path)
        if real not in self.copies:
            target = os.path.join(self.folder, f"{len(self.copies)}-{os.path.basename(real)}")
            if os.path.exists(real):
                shutil.copyfile(real, target)
            self.copies[real] = target
        return self.copies[real]


_sandbox: contextvars.ContextVar[Sandbox | None] = contextvars.ContextVar("toolkit_sandbox", default=None)


def current_sandbox() -> Sandbox | None:
    """The sandbox of the replay running in this context, or None (writes are real)."""
    return _sandbox.get()


class sandbox:  # noqa: N801 - used as a context manager, like a function
    """``with sandbox() as box:`` keeps every table write inside it away from the real data."""

    def __enter__(self) -> Sandbox:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="toolkit-replay-")
        self._box = Sandbox(self._tmp.name)
        carry_into_threads()
        self._token = _sandbox.set(self._box)
        return self._box

    def __exit__(self, *exc: object) -> None:
        _sandbox.reset(self._token)
        self._tmp.cleanup()


# --- carrying a replay into the threads it starts ------------------------------------------------------
# A contextvar is not inherited by a new thread, nor by a ThreadPoolExecutor task: a handler that writes
# a table or calls requests from one would act for real during a replay. So, once a handler has run or
# a sandbox or a replay has been used, Thread.start and ThreadPoolExecutor.submit are wrapped for the
# process: while one of the variables below is set in the starting context, the thread (or task) runs
# in a copy of that context, and so in the same sandbox and replay (and the same trace: a live
# handler's calls from a thread are recorded in its exchange, so that a replay can answer them).
# Nothing changes for threads started outside (live requests, waitress's own workers): the copy is
# keyed on the starting context, not on a global flag, so a replay in the kernel never sandboxes the
# traffic served meanwhile.
_CARRIED: list[contextvars.ContextVar[Any]] = [_sandbox, _current]
_carry_lock = threading.Lock()
_carrying = False


def carry_when(var: contextvars.ContextVar[Any]) -> None:
    """Also carry the context into new threads while ``var`` is set (e.g. the outbound replay)."""
    if var not in _CARRIED:
        _CARRIED.append(var)


def _active() -> bool:
    return any(var.get(None) is not None for var in _CARRIED)


def carry_into_threads() -> None:
    """Wrap ``threading.Thread.start`` and ``ThreadPoolExecutor.submit`` (once per process) so that
    threads and tasks started by a handler or during a replay run in its context (see above)."""
    global _carrying
    with _carry_lock:
        if _carrying:
            return
        _carrying = True
        from concurrent.futures import ThreadPoolExecutor

        start, submit = threading.Thread.start, ThreadPoolExecutor.submit

        def carried_start(self: threading.Thread) -> None:
            if _active():
                context, run = contextvars.copy_context(), self.run
                self.run = lambda: context.run(run)  # type: ignore[method-assign]
            start(self)

        def carried_submit(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any,
                           **kwargs: Any) -> Any:
            if _active():
                return submit(self, contextvars.copy_context().run, fn, *args, **kwargs)
            return submit(self, fn, *args, **kwargs)

        carried_start.__wrapped__ = start  # type: ignore[attr-defined]
        carried_submit.__wrapped__ = submit  # type: ignore[attr-defined]
        threading.Thread.start = carried_start  # type: ignore[method-assign]
        ThreadPoolExecutor.submit = carried_submit  # type: ignore[method-assign,assignment]
