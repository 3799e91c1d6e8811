"""WAL checkpoints, on a thread and a connection of their own, never on the writer's.

The writer's connection never checkpoints (`wal_autocheckpoint=0`): a checkpoint copies
pages and syncs the file, which takes milliseconds, and a full one waits for readers.
`Checkpointer` does it instead, every `every` seconds:

- a PASSIVE checkpoint, which never blocks the writer and costs next to nothing when there
  is nothing new to copy;
- under steady writes a passive one never catches up, and only a checkpoint that copied
  everything lets the writer start the WAL over: so once the WAL passes `limit` bytes a
  RESTART checkpoint copies the rest and syncs, holding the writer back meanwhile (30-90 ms
  on the reference machine, about once every 13 s at 300 updates a second);
- on request (`truncate`, after an erasure), a TRUNCATE checkpoint, which also empties the
  WAL file, so erased rows are left in neither file.

A RESTART or TRUNCATE checkpoint holds the write lock while it waits for readers to leave
old snapshots. Its connection therefore waits at most `patience` seconds (SQLite's busy
timeout) and gives up rather than hold every chat back while a report or a backup reads:
a truncation that gave up is tried again every round until it succeeds.

`WalRestart` tells the store's inline connection (`state.store.inline`) when the next write
might start the WAL over, which syncs the WAL's header: such a write goes to the writer's
thread instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path

Waiter = tuple["asyncio.Future[bool]", asyncio.AbstractEventLoop]


class WalRestart:
    """Whether the next commit might start the WAL over (and so fsync its header).

    SQLite starts the WAL over at the first write after a checkpoint copied every frame (or
    emptied the file), and syncs the new header then, even with synchronous=NORMAL. So:
    before each checkpoint `pending` is set (with a new `epoch`); a checkpoint that left
    frames uncopied clears it (none can start over before the next checkpoint); so does a
    commit on the writer's thread that wrote rows, begun in the same epoch with no
    checkpoint running meanwhile (it started the WAL over, or appended to frames left).
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self.epoch = 0
        self.pending = True  # unknown at start: the first write goes to the writer's thread
        self._running = False

    def checkpoint_starts(self) -> None:
        """A checkpoint is about to run (on the checkpoint thread)."""
        with self._mutex:
            self.epoch += 1
            self.pending, self._running = True, True

    def checkpoint_ended(self, rows: list[tuple[int, int, int]] | None) -> None:
        """A checkpoint ended with this PRAGMA result (None when it raised)."""
        with self._mutex:
            self._running = False
            if rows and rows[0][1] > rows[0][2] >= 0:  # frames left that were not copied
                self.pending = False

    def written(self, epoch: int) -> None:
        """The writer's thread committed rows in a transaction that began in `epoch`."""
        with self._mutex:
            if epoch == self.epoch and not self._running:
                self.pending = False


def _settle(future: asyncio.Future[bool], done: bool) -> None:
    if not future.cancelled():
        future.set_result(done)


class Checkpointer:
    """Copies the WAL into the database file from a thread of its own (see the module's text)."""

    def __init__(self, path: Path, every: float = 1.0, limit: int = 128 << 20,
                 patience: float = 0.1, wal: WalRestart | None = None) -> None:
        self.path = path
        self.every = every
        self.limit = limit
        self.patience = patience
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._mutex = threading.Lock()
        self._truncate = False  # a truncation was asked for and has not succeeded yet
        self._waiters: list[Waiter] = []
        self._thread: threading.Thread | None = None
        self.wal = wal or WalRestart()

    def start(self) -> None:
        """Start the checkpoint thread (a daemon: it never keeps the process alive)."""
        if str(self.path) == ":memory:" or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="craftbot-checkpoint", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Stop the thread, after its current checkpoint."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            await asyncio.to_thread(thread.join, 30)
        self._answer(False)

    async def truncate(self) -> bool:
        """Checkpoint everything and empty the WAL now; False when a reader kept it from finishing.

        A truncation that did not finish is tried again every round until one does.
        """
        if self._thread is None:
            return str(self.path) == ":memory:"
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        with self._mutex:
            self._truncate = True
            self._waiters.append((future, loop))
        self._wake.set()
        return await future

    def _answer(self, done: bool) -> None:
        """Tell everyone waiting for a truncation how it went."""
        with self._mutex:
            waiters, self._waiters = self._waiters, []
            if done:
                self._truncate = False
        for future, loop in waiters:
            with contextlib.suppress(RuntimeError):  # a closed loop: no one is waiting
                loop.call_soon_threadsafe(_settle, future, done)

    def _run(self) -> None:
        db = sqlite3.connect(str(self.path), isolation_level=None)
        wal = Path(f"{self.path}-wal")
        try:
            db.execute(f"PRAGMA busy_timeout={int(self.patience * 1000)}")
            while not self._stop.is_set():
                self._wake.wait(self.every)
                self._wake.clear()
                if self._stop.is_set():
                    break
                if self._truncate:
                    self._answer(self._checkpoint(db, "TRUNCATE"))
                    continue
                with contextlib.suppress(sqlite3.Error, OSError):
                    self._checkpoint(db, "PASSIVE")
                    if wal.exists() and wal.stat().st_size > self.limit:
                        self._checkpoint(db, "RESTART")  # copy what is left, so the WAL starts over
        finally:
            db.close()

    def _checkpoint(self, db: sqlite3.Connection, mode: str) -> bool:
        """One checkpoint of this mode; whether it finished (no reader or writer in its way)."""
        rows = None
        self.wal.checkpoint_starts()
        try:
            rows = db.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
        except sqlite3.Error:
            return False
        finally:
            self.wal.checkpoint_ended(rows)
        return not rows or rows[0][0] == 0
