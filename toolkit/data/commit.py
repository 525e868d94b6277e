"""Serialised writes to one file, shared by every Table on it, with group commit of appends.

Writes hold :class:`WriteLock`: a thread lock, then an OS file lock (the ``filelock`` package:
``flock`` on Linux and macOS, ``msvcrt.locking`` on Windows), so threads and processes on one
machine take turns. The lock file is ``.<file name>.lock`` in the table's folder
(``data/.orders.csv.lock`` for ``data/orders.csv``; the real file's folder for a symlink); on Linux
and macOS it is left in place (removing it while another process waits on it would let two writers
in). An append writes only the new lines
(one O_APPEND write, after checking that the file is still the version in memory); an update or
delete rewrites the file (temp file + ``os.replace``).
When many threads append at once, the thread holding the lock writes every row queued so far
in one go; each caller still gets its own row back, or its own error.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock

from ..errors import TableError
from ..files import write_atomic
from .csvformat import Format
from .csvload import read_bytes, signature
from .hints import missing_file
from .state import Signature
from .write import PAGE

POLL_S = 0.002  # how often a process waiting for another's lock tries again


class Appender(Protocol):
    """What a commit needs from a CSV backend (its public interface, see :mod:`.csvbackend`)."""

    file: str
    key: str | None

    @property
    def signature(self) -> Signature: ...

    @property
    def fmt(self) -> Format: ...

    def current(self, raw: bytes, sig: Signature) -> None: ...

    def prepare_append(self, values: dict[str, Any], taken: set[Any]) -> tuple[dict[str, Any], bytes]: ...

    def appended(self, rows: list[dict[str, Any]], before: Signature, after: Signature) -> None: ...


@dataclass
class Append:
    """One queued ``Table.append``: filled in (``row`` or ``error``) by whichever thread commits it."""

    table: Appender
    values: dict[str, Any]
    row: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None
    done: bool = False
    lead: bool = False  # this caller commits the queue (the others wait for their event)
    event: threading.Event = field(default_factory=threading.Event)


def lock_path(real: str) -> str:
    """The lock file of the (real, symlinks resolved) table file ``real``: ``.<name>.lock`` beside it.

    >>> lock_path("/srv/bot/data/orders.csv")
    '/srv/bot/data/.orders.csv.lock'
    """
    folder, name = os.path.split(real)
    return os.path.join(folder, f".{name}.lock")


class WriteLock:
    """The write lock of one file: a thread lock, plus the OS lock between processes.

    Reentrant within a thread; the OS lock is taken by the outermost ``with`` and released by it.

    >>> with shared_for(Path("data/orders.csv")).lock:   # doctest: +SKIP
    ...     pass                                          # no other writer of the file here
    """

    def __init__(self, real: str) -> None:
        self._threads = threading.RLock()
        self._process = FileLock(lock_path(real), thread_local=False)
        self._depth = 0

    def __enter__(self) -> WriteLock:
        self._threads.acquire()
        if self._depth == 0:
            try:
                self._process.acquire(poll_interval=POLL_S)
            except BaseException:
                self._threads.release()
                raise
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                self._process.release()
        finally:
            self._threads.release()


class Shared:
    """What every Table on the same file shares: the write lock, the append queue, a write count.

    Appends use a leader: the first caller commits every queued row in one rewrite, then hands
    the lead to the first row queued meanwhile, so no caller commits for ever.
    """

    def __init__(self, real: str) -> None:
        self.lock = WriteLock(real)
        self.generation = 0  # bumped after every write: readers reload before they answer
        self._queue: list[Append] = []
        self._queue_lock = threading.Lock()
        self._leading = False

    def write(self, path: str, data: bytes) -> Signature:
        """Replace the file atomically (the real file behind a symlink). Call with ``lock`` held.

        Returns the signature of the new file.
        """
        real = os.path.realpath(path)
        write_atomic(real, data)
        self.generation += 1
        return signature(os.stat(real))

    def append(self, table: Appender, values: dict[str, Any]) -> dict[str, Any]:
        """Queue a row and return it once it is in the file (written by this thread or another)."""
        job = Append(table, values)
        with self._queue_lock:
            self._queue.append(job)
            job.lead, self._leading = not self._leading, True
        if not job.lead:
            job.event.wait()
        if not job.done:  # leading (from the start, or handed the lead)
            self._lead(table.file)
        if job.error is not None:
            raise job.error
        return job.row

    def _lead(self, path: str) -> None:
        with self._queue_lock:
            batch, self._queue = self._queue, []
        try:
            with self.lock:
                self._commit(path, batch)
        finally:
            with self._queue_lock:
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].event.set()
                else:
                    self._leading = False
            for job in batch:
                job.event.set()

    def _commit(self, path: str, batch: list[Append]) -> None:
        try:
            real = os.path.realpath(path)
            try:
                before = signature(os.stat(real))
            except FileNotFoundError:
                raise missing_file(Path(path)) from None
            raw: bytes | None = None
            rows, records, tables = [], [], {}
            taken: dict[str | None, set[Any]] = {}
            for job in batch:
                try:
                    if job.table.signature != before:  # changed by someone else: read it
                        if raw is None:
                            raw, before = read_bytes(real)
                        job.table.current(raw, before)
                    keys = taken.setdefault(job.table.key, set())
                    job.row, record = job.table.prepare_append(job.values, keys)
                    rows.append(job.row)
                    records.append(record)
                    tables[id(job.table)] = job.table
                except Exception as exc:  # this row is refused; the others still go in
                    job.error = exc
            if records:
                fmt = next(iter(tables.values())).fmt
                after = self._append_bytes(real, before, b"".join(records), fmt)
                for table in tables.values():
                    table.appended(rows, before, after)
        except BaseException as exc:  # nothing was written: every row gets the error
            for job in batch:
                job.error = job.error or exc
        finally:
            for job in batch:
                job.done = True

    def _append_bytes(self, real: str, before: Signature, data: bytes, fmt: Format) -> Signature:
        """Add ``data`` at the end of the file, which must still be at ``before``. Returns the new
        signature. Under the lock.

        One ``write`` with O_APPEND when the new text fits in the file's last page (readers see all
        of it or none of it); otherwise the whole file is replaced atomically.
        """
        fd = os.open(real, os.O_RDWR | os.O_APPEND | getattr(os, "O_BINARY", 0))
        try:
            st = os.fstat(fd)
            if signature(st) != before:
                raise TableError(f"{real} was changed by another program while a row was being added; "
                                 "nothing was written.",
                                 hint="Try again; a program that writes the file without the toolkit's lock "
                                      "(an editor) should not save it while the service writes it.")
            if st.st_size and os.pread(fd, 1, st.st_size - 1) not in (b"\n", b"\r"):
                data = fmt.newline.encode(fmt.body_encoding) + data  # the file lacked a final line end
            if st.st_size % PAGE + len(data) > PAGE:
                return self.write(real, os.pread(fd, st.st_size, 0) + data)
            written = os.write(fd, data)
            if written != len(data):  # pragma: no cover - a full disk
                raise OSError(f"only {written} of {len(data)} bytes written to {real}")
            os.fsync(fd)
            self.generation += 1
            return signature(os.fstat(fd))
        finally:
            os.close(fd)


_shared: dict[str, Shared] = {}
_shared_lock = threading.Lock()


def shared_for(path: Path) -> Shared:
    """The one Shared of a file (symlinks and relative paths resolved)."""
    real = os.path.realpath(path)
    with _shared_lock:
        if real not in _shared:
            _shared[real] = Shared(real)
        return _shared[real]
