"""The open database every part of the store works on: its connections, checkpoints, buffered ids.

`Database` owns the file (created private to its owner: it holds health-adjacent data about
vulnerable people), the writer thread (`state.store.connection`), the event loop's own
connection for turns that cannot wait (`state.store.inline`), the checkpoint thread
(`state.store.checkpoint`), and the lock that keeps write transactions one at a time. The
store's parts (`state.store.progress`, `.reminders`, `.privacy`, `.versions`) hand it jobs:
`run` for a job inside whatever transaction is open (on the connection that holds it),
`read` for one between transactions, `write` for one in a transaction of its own (always on
the writer's thread: erasures, purges and re-keying can take long), `begin` to open a turn's.

The ids of messages in a chat (for /hide) are buffered here rather than written each on
its own: `remember` adds them, and the next write transaction, usually the turn that a
message starts, writes them with its own rows. So a text message costs one commit, not
three. A short timer writes what is left when no transaction comes (`FLUSH_AFTER`), and
`close` writes the rest. A crash loses at most that second's ids: /hide would then leave
those messages in the chat, which the person can still clear in the app.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Self, TypeVar

from state.storage import Cipher
from state.store.checkpoint import Checkpointer, WalRestart
from state.store.connection import Job, Opener, Writer
from state.store.dialect import Connection, Location
from state.store.inline import Inline
from state.store.keyring import Keyring, keyring_for
from state.store.schema import prepare
from state.store.sealing import seal_clear

if TYPE_CHECKING:
    from state.store.postgres import Locks

log = logging.getLogger("craftbot.store")
T = TypeVar("T")
FLUSH_AFTER = 1.0  # seconds a buffered message id may wait for a transaction to carry it
MessageRow = tuple[int, int, float, int]  # (user id, message id, Telegram date, sent by the bot)
INSERT_MESSAGES = ("INSERT INTO recent_messages (user_id, message_id, sent_at, from_bot)"
                   " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")


def in_transaction(job: Job[T], rows: Sequence[MessageRow], *, begin: bool,
                   wal: WalRestart | None = None) -> Job[T]:
    """`job` then COMMIT (after BEGIN IMMEDIATE unless one is open), buffered message ids first.

    With `wal` (the writer's thread), a commit that wrote rows is reported to it.
    """

    def run(db: Connection) -> T:
        epoch, changes = (wal.epoch if wal else 0), db.total_changes
        if begin:
            db.execute("BEGIN IMMEDIATE")
        elif not db.in_transaction:  # the connection was lost since the turn's read: nothing is kept
            raise RuntimeError("the transaction was lost with its connection; the turn is not saved")
        try:
            if rows:
                db.executemany(INSERT_MESSAGES, rows)
            result = job(db)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if wal is not None and db.total_changes != changes:
            wal.written(epoch)
        return result

    return run


def begun(job: Job[T]) -> Job[T]:
    """BEGIN IMMEDIATE then `job`; ROLLBACK if the job fails."""

    def run(db: Connection) -> T:
        db.execute("BEGIN IMMEDIATE")
        try:
            return job(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise

    return run


def rollback(db: Connection) -> None:
    """End the open transaction without writing anything (there may be none)."""
    if db.in_transaction:
        db.execute("ROLLBACK")


class Database:
    """One SQLite file opened for one process that writes (see the module's text), or a
    PostgreSQL database (`postgresql://...`) that several processes share (`state.store.postgres`).

    With a `cipher`, each user's progress blob is stored encrypted (see `state.store.crypto`),
    and so are check-in values and event details (`state.store.sealing`), each person's with
    their own data key from the key store beside the file (`state.store.keyring`): opening
    the store with one seals those still stored in clear or with the operator key alone.
    """

    def __init__(self, where: Path | str, cipher: Cipher | None = None, *,
                 keys_url: str | None = None) -> None:
        self.location = Location.parse(where)
        self.dialect = self.location.dialect
        self.keys_url = keys_url
        # who this process is, in reminder leases (state.store.reminders): host, pid, a random part
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._locks: Locks | None = None
        # SQLite's file; on PostgreSQL no file (":memory:" tells the file-minded parts so)
        self.path = self.location.path or Path(":memory:")
        self.cipher = keyring_for(self.location, cipher, keys_url)
        self._wal = WalRestart()
        self._writer = Writer(self.path, opener=self._opener())
        self.inline = Inline(self.path if self.location.url is None else ":memory:", self._wal)
        self._inline_open = False  # the open write transaction is on `inline`
        self._checkpointer: Checkpointer | None = None
        self._lock = asyncio.Lock()
        self._messages: list[MessageRow] = []
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None

    def _opener(self) -> Opener | None:
        """The writer's connection: SQLite's own (None), or one from a pool on PostgreSQL."""
        if self.location.url is None:
            return None
        from state.store.postgres import PgOpener  # psycopg: only where PostgreSQL is used

        return PgOpener(self.location.url)

    async def open(self) -> Self:
        """Create the file privately if needed, open it, apply migrations, seal, start checkpoints."""
        if self.location.url is None and str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            for file in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                if file.exists():  # a journal restored with `cp` under umask 022 was 0644
                    os.chmod(file, 0o600)
        await self._writer.start(prepare)
        cipher = self.cipher
        if cipher is not None:  # rows kept in clear before the key was set (state.store.sealing)
            try:
                await self.write(lambda db: seal_clear(db, cipher))
            except BaseException:
                await self._writer.stop()
                raise
        if self.location.url is None:  # PostgreSQL has no file to checkpoint, nor an inline path
            self.inline.open()
            self._checkpointer = Checkpointer(self.path, wal=self._wal)
            self._checkpointer.start()
        return self

    async def hold(self, name: str) -> bool:
        """Take the lock `name` for as long as this store is open; False when another process has it.

        On PostgreSQL a session advisory lock (one poller per database, say); on SQLite
        always True: one process writes (bot/ops/instance.py keeps it so).
        """
        if self.location.url is None:
            return True
        if self._locks is None:
            from state.store.postgres import Locks, PgOpener

            self._locks = Locks(PgOpener(self.location.url))
        locks = self._locks
        return await asyncio.to_thread(locks.hold, name)

    async def close(self) -> None:
        """Write the buffered message ids, checkpoint the journal to nothing, and close."""
        if self._locks is not None:
            locks, self._locks = self._locks, None
            await asyncio.to_thread(locks.release_all)
            await asyncio.to_thread(locks.opener.close_pool)
        if not self._writer.running:
            return
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        try:
            await self.flush()
        except Exception as exc:  # the database is down: /hide will leave those few in the chat
            log.warning("%d message id(s) not written at close (%s)", len(self._messages),
                        type(exc).__name__)
        self.inline.close()
        if self._checkpointer is not None:
            await self._checkpointer.stop()
            self._checkpointer = None
        if self.location.url is None:
            await self._writer.run(lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
        await self._writer.stop()
        if isinstance(self.cipher, Keyring):
            self.cipher.close()

    async def run(self, job: Job[T]) -> T:
        """Run a job inside whatever transaction is open, on its connection (reads, mostly)."""
        if self._inline_open:
            return self.inline.run(job)
        return await self._writer.run(job)

    async def begin(self, job: Job[T]) -> T:
        """Open a write transaction and run `job` in it, for a caller that holds the lock.

        On the event loop's thread when the write lock is free now (`state.store.inline`),
        else on the writer's thread, which waits for it. The caller ends it with
        `commit(..., begin=False)` or `abort`, which go to the same connection.
        """
        if not self.inline.begin():
            return await self._writer.run(begun(job))
        self._inline_open = True
        try:
            return self.inline.run(job)
        except BaseException:
            await self.abort()
            raise

    async def abort(self) -> None:
        """Roll the open write transaction back (the caller holds the lock)."""
        if self._inline_open:
            self._inline_open = False
            self.inline.run(rollback)
        else:
            await self._writer.run(rollback)

    async def read(self, job: Job[T]) -> T:
        """Run a job between write transactions, so that it sees only what was committed."""
        async with self._lock:
            return await self._writer.run(job)

    async def write(self, job: Job[T]) -> T:
        """Run a job in a write transaction of its own, serialised with every other write."""
        async with self._lock:
            return await self.commit(job)

    async def write_now(self, job: Job[T]) -> T:
        """`write` for a short job a person waits on (a reply's send recorded): on the event
        loop's connection when the write lock is free now (`state.store.inline`), as a turn."""
        async with self._lock:
            if not self.inline.begin():
                return await self.commit(job)
            self._inline_open = True
            return await self.commit(job, begin=False)

    async def commit(self, job: Job[T], *, begin: bool = True) -> T:
        """`write` for a caller that holds the write lock already: one hop to the writer.

        With `begin=False` the caller's job began the transaction already (a turn's read).
        """
        rows, self._messages = self._messages, []
        try:
            if self._inline_open and not begin:
                self._inline_open = False  # COMMIT or ROLLBACK, now: the transaction ends here
                return self.inline.run(in_transaction(job, rows, begin=False))
            return await self._writer.run(in_transaction(job, rows, begin=begin, wal=self._wal))
        except BaseException:
            self._messages[:0] = rows  # not written: the next transaction tries again
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Callable[[Job[None]], Awaitable[None]]]:
        """One write transaction held open across several jobs (`craftbot migrate`'s copy, say):
        yields the function that runs a job in it; commits at the end, rolls back on an error."""

        async def run(job: Job[None]) -> None:
            await self.run(job)

        async with self._lock:
            await self.begin(lambda db: None)
            try:
                yield run
            except BaseException:
                await self.abort()
                raise
            await self.commit(lambda db: None, begin=False)

    async def on_each_connection(self, job: Job[None]) -> None:
        """Run a job on each of the store's connections (a trace callback, say), between transactions."""
        async with self._lock:
            await self._writer.run(job)
            if self.inline.running:
                self.inline.run(job)

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database file and truncate it to zero bytes, off the event loop.

        With `secure_delete` on, this leaves deleted rows in neither file. False when a
        reader (another process) kept it from finishing; it is then retried every second
        until it does, without holding the writer back meanwhile. Always False on
        PostgreSQL, where erasure rests on the destroyed person key (docs/operations.md).
        """
        if self._checkpointer is None:
            return False
        return await self._checkpointer.truncate()

    # -- message ids for /hide, buffered ------------------------------------------------------

    def buffer_messages(self, rows: Sequence[MessageRow]) -> None:
        """Keep message ids for the next write transaction (at the latest in FLUSH_AFTER seconds)."""
        self._messages.extend(rows)
        if self._messages and self._flush_timer is None and self._writer.running:
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(FLUSH_AFTER, self._flush_soon)

    def drop_buffered(self, user_id: int) -> None:
        """Forget the buffered message ids of one user (their data is being erased)."""
        self._messages = [row for row in self._messages if row[0] != user_id]

    def _flush_soon(self) -> None:
        self._flush_timer = None
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_quietly(), name="craftbot-flush-ids")

    async def _flush_quietly(self) -> None:
        try:
            await self.flush()
        except Exception as exc:  # either engine's error: kept in the buffer, tried again later
            log.warning("writing message ids failed: %s", type(exc).__name__)
            if self._messages and self._writer.running:
                self.buffer_messages([])

    async def flush(self) -> None:
        """Write the buffered message ids now (nothing happens when there are none)."""
        if self._messages:
            await self.write(lambda db: None)
