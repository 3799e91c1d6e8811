"""An aiosqlite connection that runs each statement on the event loop's own thread.

aiosqlite runs every call on a private thread and hands the result back to the event loop:
each `await db.execute(...)` is two thread switches. On the reference machine that hop
costs 50-150 µs (more when the interpreter lock is contended), while the statements of a
turn — read a row by key, write it back, commit to the WAL without fsync — take 5-30 µs
each. A turn makes ten or more such calls, so most of its time went to the hops.

`InlineExecution` makes aiosqlite's `Connection` run its one dispatch point, `_execute`,
at once instead of queueing the call for the thread. Every aiosqlite method and
cursor works unchanged (they all go through `_execute`), so the rest of the code keeps
its `await db.execute(...)`. The price: a slow statement holds up the event loop for its
duration. WAL checkpoints, the one regularly slow operation (they fsync), therefore run
on a thread of their own with a second connection (`Checkpointer`), and the main
connection never checkpoints automatically.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, Self


class InlineExecution:
    """Mixed into `aiosqlite.Connection` (in `state.store.progress`, the module that imports aiosqlite):
    aiosqlite's API, each call made synchronously on the calling (event loop) thread."""

    _running: bool
    _connection: sqlite3.Connection | None
    _connector: Callable[[], sqlite3.Connection]

    def __init__(self, path: Path | str, **kwargs: Any) -> None:
        def connector() -> sqlite3.Connection:
            db: sqlite3.Connection = sqlite3.connect(str(path), check_same_thread=False, **kwargs)
            return db

        super().__init__(connector, iter_chunk_size=64)  # type: ignore[call-arg]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> Self:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Generator[Any, None, Self]:
        return self._connect().__await__()

    def stop(self) -> asyncio.Future[Any] | None:
        """Close at once (there is no thread to stop)."""
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        return None

    async def close(self) -> None:
        """Close the connection."""
        self.stop()


class Checkpointer:
    """Copies the WAL into the database file from a thread of its own, every `every` seconds.

    A passive checkpoint never blocks the writer, and costs next to nothing when there is
    nothing new to copy. But under steady writes it never catches up with the writer, and
    only a checkpoint that has copied everything lets the writer start the WAL over: the
    file would grow for as long as the load lasts. So once the WAL passes `limit` bytes a
    RESTART checkpoint copies what is left and syncs, holding the writer back meanwhile
    (30-90 ms on the reference machine, once every ~13 s at 300 updates a second); the
    next transaction then reuses the file from its start. At ordinary loads a passive
    checkpoint finds a quiet moment and the WAL starts over without any wait.
    """

    def __init__(self, path: Path, every: float = 1.0, limit: int = 128 << 20) -> None:
        self.path = path
        self.every = every
        self.limit = limit
        self.restarts = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the checkpoint thread (a daemon: it never keeps the process alive)."""
        if str(self.path) == ":memory:" or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="craftbot-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, after its current checkpoint."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(30)
            self._thread = None

    def _run(self) -> None:
        db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        wal = Path(f"{self.path}-wal")
        try:
            db.execute("PRAGMA busy_timeout=5000")
            while not self._stop.wait(self.every):
                with contextlib.suppress(sqlite3.Error, OSError):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    if wal.exists() and wal.stat().st_size > self.limit:
                        db.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
                        self.restarts += 1
        finally:
            db.close()
