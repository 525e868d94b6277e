"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import secrets

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temp file next to the file, flush it to disk, then ``os.replace``.

    Readers see the old file or the new one, never half of one. A symlink is followed: the real file
    behind it is replaced and the link stays. An existing file keeps its permissions; a new file gets
    those a plain ``open(path, "w")`` would give it (``0o666`` less the umask).
    """
    real = os.path.realpath(os.fspath(path))
    try:
        mode: int | None = os.stat(real).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd, tmp = _create_temp(real)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _create_temp(real: str) -> tuple[int, str]:
    """A new temp file beside ``real``, opened for writing with mode 0o666 (the umask applies, as
    for any new file; ``tempfile.mkstemp`` would make it 0o600)."""
    folder, name = os.path.split(real)
    while True:
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
