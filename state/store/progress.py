"""Per-user progress in SQLite, through aiosqlite.

One connection is the only writer (the datasette way): WAL journal, `BEGIN IMMEDIATE`
for every update so its read and write are one transaction, and numbered SQL migrations
recorded in `schema_migrations`. The database file and its folder are created private
to their owner, because they hold health-adjacent data about vulnerable people.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite
import orjson

from state.contracts import Event, Progress
from state.store.connection import Checkpointer, InlineExecution
from state.store.crypto import DataCipher, seal, unseal

MIGRATIONS = "migrations"
# A turn's one read: the progress, the week the person was last counted active in, their
# planned nudge, and whether a reminder found them unreachable (so the turn need not ask
# with statements of its own: each statement costs more in Python than in SQLite).
LOAD_ROW = ("SELECT data, active_week, nudge_due, nudge_ref,"
            " EXISTS (SELECT 1 FROM unreachable WHERE user_id = ?1) FROM users WHERE user_id = ?1")
SAVE_ROW = (
    "INSERT INTO users (user_id, data, module, step, version, created_at, updated_at, active_week,"
    " nudge_due, nudge_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE"
    " SET data = excluded.data, module = excluded.module, step = excluded.step,"
    " version = excluded.version, updated_at = excluded.updated_at, active_week = excluded.active_week")
# ...and the nudge too when it changed (its index entry moves only then).
SAVE_ROW_AND_NUDGE = SAVE_ROW + ", nudge_due = excluded.nudge_due, nudge_ref = excluded.nudge_ref"
COUNT_ACTIVE_WEEK = ("INSERT INTO weekly_active (week, users) VALUES (?, 1)"
                     " ON CONFLICT (week) DO UPDATE SET users = users + 1")


def iso_week(at: float) -> str:
    """The ISO week (UTC) a timestamp falls in, such as "2026-W07"."""
    year, week, _ = datetime.fromtimestamp(at, UTC).isocalendar()
    return f"{year}-W{week:02d}"


class InlineConnection(InlineExecution, aiosqlite.Connection):
    """aiosqlite's connection, each statement run at once on the event loop's thread."""


@dataclass(frozen=True)
class Nudge:
    """The one nudge planned for someone who stopped mid-module: when, and about which stop."""

    due: float
    ref: str  # "<module>:<step>"


@dataclass
class Session:
    """One user's progress inside an open write transaction.

    `nudge` is what their row holds; set it to change it (see `state.service.orders`).
    """

    user_id: int
    progress: Progress | None
    counted_week: str | None = None  # the ISO week this person was last counted active in
    unreachable: bool = False  # a reminder could not reach them since their last turn
    nudge: Nudge | None = None
    stored_nudge: Nudge | None = None
    to_save: tuple[Progress, list[Event]] | None = field(default=None)

    def save(self, progress: Progress, events: list[Event]) -> None:
        """Write this progress and these events when the transaction commits."""
        self.to_save = (progress, events)


class SqliteProgressStore:
    """Progress and events in one SQLite file.

    With a `cipher`, each user's progress blob is stored encrypted (see `state.store.crypto`).
    """

    def __init__(self, path: Path, cipher: DataCipher | None = None) -> None:
        self.path = path
        self.cipher = cipher
        self._db: aiosqlite.Connection | None = None
        self._checkpointer: Checkpointer | None = None
        self._lock = asyncio.Lock()

    @property
    def db(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._db is None:
            raise RuntimeError("the store is not open; call open() first")
        return self._db

    async def open(self) -> SqliteProgressStore:
        """Create the file privately if needed, open it and apply migrations."""
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            os.chmod(self.path, 0o600)
        # Statements run on the event loop's thread: each takes microseconds, far less than
        # a hop to aiosqlite's thread would (see state.store.connection and docs/performance.md).
        self._db = await InlineConnection(self.path, isolation_level=None)
        await self.db.execute("PRAGMA journal_mode=WAL")
        await self.db.execute("PRAGMA synchronous=NORMAL")
        await self.db.execute("PRAGMA secure_delete=ON")
        await self.db.execute("PRAGMA busy_timeout=5000")
        await self.db.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's thread does it
        await self.db.execute("PRAGMA journal_size_limit=67108864")  # a restarted WAL shrinks to 64 MB
        await self._migrate()
        self._checkpointer = Checkpointer(self.path)
        self._checkpointer.start()
        return self

    async def close(self) -> None:
        """Checkpoint the journal and close."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._db is not None:
            await self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await self._db.close()
            self._db = None

    async def _migrate(self) -> None:
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        async with self.db.execute("SELECT version FROM schema_migrations") as cursor:
            done = {row[0] for row in await cursor.fetchall()}
        folder = resources.files("state.store").joinpath(MIGRATIONS)
        for item in sorted(folder.iterdir(), key=lambda f: f.name):
            if not item.name.endswith(".sql"):
                continue
            version = int(item.name.split("_", 1)[0])
            if version in done:
                continue
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                for statement in item.read_text(encoding="utf-8").split(";\n"):
                    if statement.strip():
                        await self.db.execute(statement)
                await self.db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))",
                    (version, item.name))
                await self.db.execute("COMMIT")
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise

    async def load(self, user_id: int) -> Progress | None:
        """A user's progress, or None for someone new."""
        return (await self._read(user_id)).progress

    async def _read(self, user_id: int) -> Session:
        rows = list(await self.db.execute_fetchall(LOAD_ROW, (user_id,)))
        if not rows:
            return Session(user_id, None)
        data, week, nudge_due, nudge_ref, unreachable = rows[0]
        nudge = None if nudge_due is None else Nudge(float(nudge_due), str(nudge_ref))
        return Session(user_id, Progress.from_json(orjson.loads(unseal(self.cipher, data))),
                       week, bool(unreachable), nudge, nudge)

    @asynccontextmanager
    async def session(self, user_id: int) -> AsyncIterator[Session]:
        """Read a user's progress and write it back in one transaction.

        Nothing is written unless `Session.save` was called; an exception rolls back.
        """
        async with self._lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                session = await self._read(user_id)
                yield session
                if session.to_save is not None:
                    await self._write(session, *session.to_save)
                await self.db.execute("COMMIT")
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection inside one write transaction, serialised with every other write."""
        async with self._lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                await self.db.execute("COMMIT")
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database file and truncate it to zero bytes.

        With `secure_delete` on, this leaves deleted rows in neither file. False when a
        reader in another process kept the checkpoint from finishing.
        """
        async with self._lock:
            rows = list(await self.db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)"))
        return not rows or rows[0][0] == 0

    async def save(self, progress: Progress, events: list[Event]) -> None:
        """Write progress and its events in their own transaction."""
        async with self.session(progress.user_id) as session:
            session.save(progress, events)

    async def _write(self, session: Session, progress: Progress, events: list[Event]) -> None:
        # vars(): the fields as they are (all JSON types); to_json's deep copy cost 50 µs a turn.
        # orjson writes the same compact UTF-8 JSON as the json module, 5-15 times faster.
        data = seal(self.cipher, orjson.dumps(vars(progress), option=orjson.OPT_NON_STR_KEYS).decode())
        week = iso_week(progress.updated_at)  # weekly totals only, no history of visits
        nudge = session.nudge
        await self.db.execute(SAVE_ROW if nudge == session.stored_nudge else SAVE_ROW_AND_NUDGE,
                              (progress.user_id, data, progress.module, progress.step, progress.version,
                               progress.created_at, progress.updated_at, week,
                               nudge.due if nudge else None, nudge.ref if nudge else None))
        if week != session.counted_week:  # counted once a week: the row read in this transaction says
            await self.db.execute(COUNT_ACTIVE_WEEK, (week,))
        if events:
            await self.db.executemany(
                "INSERT INTO events (user_id, kind, module, step, detail, at) VALUES (?, ?, ?, ?, ?, ?)",
                [(progress.user_id, e.kind, e.module, e.step, e.detail, progress.updated_at)
                 for e in events])

    async def count_users(self) -> int:
        """How many people have progress stored."""
        async with self.db.execute("SELECT count(*) FROM users") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
