"""A write lock shared by every process on one machine: an OS lock on a small file beside the table.

``fcntl.flock`` on Linux and macOS, ``msvcrt.locking`` on Windows. The lock file is
``.<name>.lock`` in the table's folder (kept: removing a lock file while another process waits on
it would let two writers in). Threads of one process take the :class:`Shared` thread lock first, so
the OS lock is only ever asked for once per process at a time.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(f: IO[bytes]) -> None:
        while True:
            try:
                msvcrt.locking(f.fileno(), msvcrt.LK_LOCK, 1)
                return
            except OSError:  # LK_LOCK gives up after 10 s: keep waiting, like flock does
                time.sleep(0.05)

    def _unlock(f: IO[bytes]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(f: IO[bytes]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)

    def _unlock(f: IO[bytes]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def lock_path(real: str) -> str:
    """The lock file of the (real, symlinks resolved) table file ``real``."""
    folder, name = os.path.split(real)
    return os.path.join(folder, f".{name}.lock")


class ProcessLock:
    """An exclusive lock between processes on one file; not reentrant (wrap it in an RLock)."""

    def __init__(self, real: str) -> None:
        self.path = lock_path(real)
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        f = open(self.path, "a+b")  # noqa: SIM115 - held open while locked
        try:
            _lock(f)
        except BaseException:
            f.close()
            raise
        self._file = f

    def release(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            try:
                _unlock(f)
            finally:
                f.close()
