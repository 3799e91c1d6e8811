"""One `craftbot run` per database: an exclusive lock on `<database>.lock` for the process's life.

Two bots polling with one token take turns at Telegram's updates (each sees only some of a
person's messages) and write one database from two processes. So `craftbot run` takes an
exclusive `flock` on a file beside the database first, and a second one on the same
database refuses to start. The lock file (0600, in the database's private folder) holds the
holder's process id, for the operator; the kernel drops the lock when the process ends,
however it ends, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


class AlreadyRunning(Exception):
    """Another process holds the database's instance lock."""


_held: list[int] = []  # the lock files' descriptors, open (and so locked) until the process ends


def lock_path(database: Path) -> Path:
    """The lock file of a database: `<database>.lock` beside it."""
    return database.with_name(database.name + ".lock")


def hold_instance_lock(database: Path) -> Path:
    """Take the database's instance lock for the rest of the process; raise AlreadyRunning if taken."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise AlreadyRunning(
            f"craftbot: another craftbot run{holder} is using {database}; stop it first"
            f" (only one may run on a database; its lock is {path})") from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    _held.append(fd)
    return path


def _holder(fd: int) -> str:
    """" (process N)" from the lock file, when it says."""
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode("ascii").strip())
        return f" (process {pid})"
    return ""
