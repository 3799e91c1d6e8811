"""The store's second connection, used on the event loop's thread when that cannot block.

A turn's write transaction is begun here first, with `BEGIN IMMEDIATE` on a connection
whose busy timeout is 0: when another connection or process holds the write lock (the
writer's thread, a `craftbot purge`, a RESTART checkpoint), SQLite says SQLITE_BUSY at once,
nothing was begun, and the whole turn goes to the writer's thread, which waits there
(`state.store.connection`). Once begun here, the turn's read, write and COMMIT take
microseconds in WAL mode with synchronous=NORMAL: a COMMIT appends to the WAL without
syncing and never waits for readers, and this connection never checkpoints
(`wal_autocheckpoint=0`; `state.store.checkpoint` does it on its own thread). The one sync a
commit can still do, the WAL header's after the WAL starts over, is avoided by beginning
here only when `WalRestart` says no restart can be pending.

Why: a hop to the writer's thread and back costs about 45 µs awaited (two thread
wake-ups), twice a turn; run here, a turn costs no hop at all (see docs/performance.md).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TypeVar

from state.store.checkpoint import WalRestart
from state.store.connection import Job
from state.store.schema import INLINE_PRAGMAS

T = TypeVar("T")


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds a lock (SQLITE_BUSY and kin)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


class Inline:
    """A connection that runs jobs on the caller's thread, and only short ones (see the module's text).

    Used only on the event loop's thread (`check_same_thread`), under the store's lock.
    """

    def __init__(self, path: Path | str, wal: WalRestart) -> None:
        self.path = path
        self.wal = wal
        self.begun = 0  # transactions begun here, and those that went to the writer's thread
        self.declined = 0
        self._db: sqlite3.Connection | None = None

    @property
    def running(self) -> bool:
        """Whether the connection is open."""
        return self._db is not None

    def open(self) -> None:
        """Connect (after the writer's thread made the file and its schema)."""
        if str(self.path) == ":memory:":
            return  # a second connection would see a database of its own
        db = sqlite3.connect(str(self.path), isolation_level=None)
        for pragma in INLINE_PRAGMAS:
            db.execute(pragma).fetchall()
        self._db = db

    def close(self) -> None:
        """Close the connection (rolling back a transaction left open, if any)."""
        db, self._db = self._db, None
        if db is not None:
            db.close()

    def begin(self) -> bool:
        """BEGIN IMMEDIATE here if that cannot wait; False when the turn must go to the writer."""
        db = self._db
        if db is None or self.wal.pending:
            self.declined += 1
            return False
        epoch = self.wal.epoch
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            self.declined += 1
            return False
        if self.wal.pending or self.wal.epoch != epoch:  # a checkpoint began meanwhile
            db.execute("ROLLBACK")
            self.declined += 1
            return False
        self.begun += 1
        return True

    def run(self, job: Job[T]) -> T:
        """Run a job here, now, inside the transaction begun here."""
        if self._db is None:
            raise RuntimeError("the inline connection is not open")
        return job(self._db)
