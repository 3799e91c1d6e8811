"""Per-user progress in SQLite: the session a turn reads and writes in one transaction.

One connection is the only writer (the datasette way), owned by a thread of its own (see
`state.store.core` and `state.store.connection`): WAL journal, `BEGIN IMMEDIATE` for every
turn so its read and write are one transaction. A turn costs two hops to that thread,
whatever it does: the read (BEGIN and one row), then the write and the COMMIT.
`SqliteProgressStore` also hands out the store's other parts, as the contracts in
`state.contracts` name them: reminders, privacy, and curriculum-version records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

import orjson

from state.contracts import Event, Progress, Reply
from state.storage import Cipher, Nudge
from state.store.core import Database
from state.store.crypto import seal, unseal
from state.store.dialect import Connection, dialect_of
from state.store.keyring import for_person
from state.store.privacy import PrivacyData
from state.store.reminders import ReminderStore
from state.store.replies import Kept, ReplyData, body_of, keep, kept
from state.store.sealing import seal_detail
from state.store.versions import CurriculumVersions

__all__ = ["Nudge", "ProgressStore", "Session", "SqliteProgressStore", "iso_week"]

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
                     " ON CONFLICT (week) DO UPDATE SET users = weekly_active.users + 1")
INSERT_EVENT = "INSERT INTO events (user_id, kind, module, step, detail, at) VALUES (?, ?, ?, ?, ?, ?)"


def iso_week(at: float) -> str:
    """The ISO week (UTC) a timestamp falls in, such as "2026-W07"."""
    year, week, _ = datetime.fromtimestamp(at, UTC).isocalendar()
    return f"{year}-W{week:02d}"


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
    reply: tuple[int, str | None] | None = None  # (update id, body) of the reply to keep with the save

    def save(self, progress: Progress, events: list[Event]) -> None:
        """Write this progress and these events when the transaction commits."""
        self.to_save = (progress, events)

    def keep(self, update_id: int, reply: Reply) -> None:
        """Keep the turn's reply with the save, until it has gone out whole (`state.store.replies`).

        Its messages are taken as they are now: what is added after the commit (the
        /progress chart) is not kept. A reply without messages is kept as done.
        """
        self.reply = (update_id, body_of(reply) if reply.messages else None)


def read_session(db: Connection, cipher: Cipher | None, user_id: int, *, lock: bool = False) -> Session:
    """A user's row as a session (with no progress for someone new).

    With `lock`, on PostgreSQL the row is locked until the transaction ends, so a second
    instance handling the same person waits for this turn rather than overwriting it.
    """
    row = db.execute(LOAD_ROW + dialect_of(db).for_update if lock else LOAD_ROW, (user_id,)).fetchone()
    if row is None:
        return Session(user_id, None)
    data, week, nudge_due, nudge_ref, unreachable = row
    nudge = None if nudge_due is None else Nudge(float(nudge_due), str(nudge_ref))
    return Session(user_id, Progress.from_json(orjson.loads(unseal(cipher, data))),
                   week, bool(unreachable), nudge, nudge)


def write_session(db: Connection, cipher: Cipher | None, session: Session) -> None:
    """Write what the session was asked to save (its row, its week's count, its events)."""
    if session.to_save is None:
        return
    progress, events = session.to_save
    # vars(): the fields as they are (all JSON types); to_json's deep copy cost 50 µs a turn.
    # orjson writes the same compact UTF-8 JSON as the json module, 5-15 times faster.
    cipher = for_person(cipher, progress.user_id)  # sealed with their own data key
    data = seal(cipher, orjson.dumps(vars(progress), option=orjson.OPT_NON_STR_KEYS).decode())
    week = iso_week(progress.updated_at)  # weekly totals only, no history of visits
    nudge = session.nudge
    db.execute(SAVE_ROW if nudge == session.stored_nudge else SAVE_ROW_AND_NUDGE,
               (progress.user_id, data, progress.module, progress.step, progress.version,
                progress.created_at, progress.updated_at, week,
                nudge.due if nudge else None, nudge.ref if nudge else None))
    if week != session.counted_week:  # counted once a week: the row read in this transaction says
        db.execute(COUNT_ACTIVE_WEEK, (week,))
    if session.reply is not None:
        keep(db, cipher, progress.user_id, session.reply[0], session.reply[1], progress.updated_at)
    if events:
        db.executemany(INSERT_EVENT, [(progress.user_id, e.kind, e.module, e.step,
                                       seal_detail(cipher, e.detail), progress.updated_at)
                                      for e in events])


class ProgressStore(Database):
    """Progress and events in one database (a SQLite file, or PostgreSQL), and the store's other parts."""

    @cached_property
    def reminders(self) -> ReminderStore:
        """Reminders, check-ins and unreachable people."""
        return ReminderStore(self)

    @cached_property
    def privacy(self) -> PrivacyData:
        """Message ids for /hide; export, erasure, retention and keys."""
        return PrivacyData(self)

    @cached_property
    def replies(self) -> ReplyData:
        """Each person's latest reply, until it has gone out whole."""
        return ReplyData(self)

    @cached_property
    def curricula(self) -> CurriculumVersions:
        """The fingerprints of the curriculum versions served."""
        return CurriculumVersions(self)

    @asynccontextmanager
    async def session(self, user_id: int) -> AsyncIterator[Session]:
        """Read a user's progress and write it back in one transaction.

        Nothing is written unless `Session.save` was called; an exception rolls back.
        The message ids buffered meanwhile are written in the same transaction.
        """
        cipher = self.cipher
        async with self._lock:
            session = await self.begin(lambda db: read_session(db, cipher, user_id, lock=True))
            try:
                yield session
            except BaseException:
                await self.abort()
                raise
            await self.commit(lambda db: write_session(db, cipher, session), begin=False)

    async def kept(self, user_id: int) -> Kept | None:
        """The person's latest kept reply, read inside the open session (a turn delivered again)."""
        cipher = self.cipher
        return await self.run(lambda db: kept(db, cipher, user_id))

    async def load(self, user_id: int) -> Progress | None:
        """A user's progress, or None for someone new."""
        cipher = self.cipher
        return (await self.run(lambda db: read_session(db, cipher, user_id))).progress

    async def save(self, progress: Progress, events: list[Event]) -> None:
        """Write progress and its events in their own transaction."""
        async with self.session(progress.user_id) as session:
            session.save(progress, events)

    async def count_users(self) -> int:
        """How many people have progress stored."""
        return int(await self.run(lambda db: db.execute("SELECT count(*) FROM users").fetchone()[0]))


SqliteProgressStore = ProgressStore  # its name from before PostgreSQL; a path still opens SQLite
