"""The store's one SQLite connection, owned by one thread of its own, to which callers hand jobs.

A job is a plain function of the connection (`Job`): it runs on the writer thread, and the
coroutine that handed it in awaits its result (or its exception). Jobs run one at a time,
in the order they were handed in, so the connection never needs a lock of its own.

Why a thread, and why whole jobs: SQLite waits for a lock held by another process (a
`craftbot purge`, `rotate-key` or a backup) for up to `busy_timeout` (5 s). Run on the event
loop's thread, as before, that wait froze every chat. Run here, it holds up only what needs
the database, while the event loop keeps answering Telegram. But each hop between threads
costs tens of microseconds (two thread wake-ups), more than most statements take (see
docs/performance.md), so callers hop once per unit of work, never per statement: a turn is
two jobs (its read, then its write and commit), whatever number of statements they run.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from state.store.dialect import Connection

T = TypeVar("T")
Job = Callable[[Connection], T]
# (the job, the future awaiting it, that future's event loop); None asks the thread to stop
Item = tuple[Job[Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop] | None


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Hand a job's outcome to its future, unless its awaiter gave up (was cancelled)."""
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Opener(Protocol):
    """How the writer's thread gets its connection, and a fresh one when it is lost."""

    def open(self) -> Connection:
        """A new connection, on the writer's thread."""

    def recover(self, db: Connection) -> Connection | None:
        """After a job failed: this connection if it still works, else None (the next job opens one)."""

    def close(self, db: Connection | None) -> None:
        """Close the connection, if there is one (the writer stops)."""


class SqliteOpener:
    """One `sqlite3` connection, used only by the thread that opened it (`check_same_thread`)."""

    def __init__(self, path: Path | str) -> None:
        self.path = path

    def open(self) -> Connection:
        """Connect in autocommit mode: the jobs' BEGIN and COMMIT make the transactions."""
        return sqlite3.connect(str(self.path), isolation_level=None)

    def recover(self, db: Connection) -> Connection | None:
        """A file connection is not lost: the same one."""
        return db

    def close(self, db: Connection | None) -> None:
        """Close it."""
        assert isinstance(db, sqlite3.Connection)
        db.close()


class Writer:
    """One connection used only by the thread that opened it: SQLite's, or PostgreSQL's (`opener`)."""

    def __init__(self, path: Path | str, name: str = "craftbot-sqlite", opener: Opener | None = None) -> None:
        self.path = path
        self.name = name
        self.opener = opener or SqliteOpener(path)
        self._jobs: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is there to take jobs."""
        return self._thread is not None

    async def start(self, setup: Job[None]) -> None:
        """Open the connection on a new thread and run `setup` as its first job.

        If `setup` fails, the thread is stopped again and its error raised here.
        """
        if self._thread is not None:
            raise RuntimeError("the writer is already running")
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()
        try:
            await self.run(setup)
        except BaseException:
            await self.stop()
            raise

    async def run(self, job: Job[T]) -> T:
        """Run `job` on the writer thread and return what it returns (or raise what it raised).

        A job once handed in always runs, even if the awaiting coroutine is cancelled: a
        caller that began a transaction can always hand in its rollback next.
        """
        if self._thread is None:
            raise RuntimeError("the store is not open; call open() first")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((job, future, loop))
        return await future

    async def stop(self) -> None:
        """Let the thread finish the jobs handed in so far, close the connection and end."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._jobs.put(None)
        await asyncio.to_thread(thread.join)

    def _serve(self) -> None:
        try:
            db = self.opener.open()
        except BaseException as exc:  # no connection: every job handed in fails with why
            while (item := self._jobs.get()) is not None:
                with contextlib.suppress(RuntimeError):
                    item[2].call_soon_threadsafe(_settle, item[1], None, exc)
            return
        conn: Connection | None = db
        try:
            while (item := self._jobs.get()) is not None:
                job, future, loop = item
                result: Any = None
                error: BaseException | None = None
                try:
                    if conn is None:  # lost with the server: a new one, or this job fails with why
                        conn = self.opener.open()
                    result = job(conn)
                except BaseException as exc:  # handed to the awaiting coroutine, raised there
                    error = exc
                    if conn is not None:
                        conn = self._recovered(conn)
                with contextlib.suppress(RuntimeError):  # a closed loop: no one is waiting
                    loop.call_soon_threadsafe(_settle, future, result, error)
        finally:
            self.opener.close(conn)

    def _recovered(self, db: Connection) -> Connection | None:
        """The connection after a failed job; None when lost. The thread never dies of a loss:
        it would leave every later job waiting forever."""
        try:
            return self.opener.recover(db)
        except Exception:  # the opener could not even hand it back: the next job opens afresh
            return None
