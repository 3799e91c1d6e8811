"""The webhook's inbox in SQLite: updates kept from their delivery until handled (`InboxRecords`).

Table `inbox` (migration 009): one row per update Telegram delivered, keyed by its update
id, so a second delivery of the same update is ignored. The update's JSON is sealed with
the person's data key, like other stored text (`state.store.sealing`), and dropped once
handled; the row stays `KEEP_HANDLED` seconds more as the record that the update id was
handled, then goes (`forget_handled`), or at once when the person erases their data
(`erase_inbox`, called by `state.store.privacy.erase`).

Durability: `add` commits with `synchronous=FULL` (an fsync of the journal), not the
store's usual NORMAL, because the webhook answers Telegram 200 only after it returns and
Telegram never delivers an update again once answered 200. NORMAL survives a killed
process but not a power cut; FULL survives both. Updates arriving together share one
commit (and so one fsync): `add` queues them, and one flush writes everything queued.

Order and leases: a chat's oldest unhandled row is its head; only heads are leased
(`owner`, `lease_until`), and `done` marks a head handled and leases the chat's next row to
the same owner in the same transaction, so a chat is worked by one owner at a time, in
update-id order. With SQLite one process owns the database (`bot.ops.instance`), so the
leases of a process that died are simply released at start (`release(None)`); a backend
shared by several processes lets them run out instead.

On a connection that is not SQLite's (PostgreSQL, through a DB-API connection that takes
`?` placeholders), claiming and finishing call the functions of
`migrations/postgresql/009_inbox.sql`, which take each chat's head `FOR UPDATE SKIP LOCKED`
so that instances claiming at once skip each other's chats instead of leasing them twice;
the `PRAGMA`s are SQLite's alone (PostgreSQL commits durably by default).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from typing import Any

from state.storage import Cipher, InboxEntry
from state.store.core import Database
from state.store.crypto import DataKeyError, seal, unseal
from state.store.dialect import Connection
from state.store.keyring import for_person

__all__ = ["KEEP_HANDLED", "InboxData", "erase_inbox"]

KEEP_HANDLED = 24 * 3600.0  # seconds a handled update's id is kept: Telegram keeps an update 24 hours
INSERT = ("INSERT INTO inbox (update_id, chat_id, body, received_at) VALUES (?, ?, ?, ?)"
          " ON CONFLICT (update_id) DO NOTHING")
COLUMNS = "update_id, chat_id, body, received_at, attempts"
HEADS = (f"SELECT {COLUMNS} FROM inbox AS i WHERE handled_at IS NULL"
         " AND (lease_until IS NULL OR lease_until < ?1)"
         " AND update_id = (SELECT min(update_id) FROM inbox AS h"
         "                  WHERE h.chat_id = i.chat_id AND h.handled_at IS NULL)"
         " ORDER BY update_id LIMIT ?2")
LEASE = "UPDATE inbox SET owner = ?, lease_until = ?, attempts = attempts + 1 WHERE update_id = ?"
HANDLED = ("UPDATE inbox SET handled_at = ?, body = NULL, owner = NULL, lease_until = NULL"
           " WHERE update_id = ?")
NEXT = (f"SELECT {COLUMNS}, lease_until FROM inbox WHERE chat_id = ? AND handled_at IS NULL"
        " ORDER BY update_id LIMIT 1")
Row = tuple[int, int, str, float]  # (chat id, update id, JSON, received at)


def sealer(cipher: Cipher | None, chat_id: int) -> Cipher | None:
    """The cipher an update of this chat is sealed with: the person's key (a group's: the operator's)."""
    return for_person(cipher, chat_id) if chat_id > 0 else cipher


def durable_insert(db: Connection, cipher: Cipher | None, rows: Sequence[Row]) -> list[bool]:
    """Insert updates in one transaction committed with an fsync; for each, whether it was new."""
    embedded = isinstance(db, sqlite3.Connection)
    if embedded:
        db.execute("PRAGMA synchronous=FULL")
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            new = [db.execute(INSERT, (update_id, chat, seal(sealer(cipher, chat), body), at)).rowcount == 1
                   for chat, update_id, body, at in rows]
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        if embedded:
            db.execute("PRAGMA synchronous=NORMAL")  # the store's own (state.store.schema)
    return new


def entry(cipher: Cipher | None, row: Sequence[Any]) -> InboxEntry:
    """A row as a worker takes it, its JSON opened (None when it cannot be)."""
    update_id, chat_id, body, received_at, attempts = row[:5]
    try:
        opened = unseal(cipher, body) if body is not None else None
    except DataKeyError:  # the person's key erased meanwhile, or damaged
        opened = None
    return InboxEntry(int(update_id), int(chat_id), opened, float(received_at), int(attempts))


def claim(db: Connection, cipher: Cipher | None, owner: str, now: float, until: float,
          limit: int) -> list[InboxEntry]:
    """Lease the heads of up to `limit` chats nobody holds (inside a write transaction)."""
    if not isinstance(db, sqlite3.Connection):  # shared by instances: SKIP LOCKED, in SQL
        taken = db.execute(f"SELECT {COLUMNS} FROM inbox_claim(?, ?, ?, ?)", (owner, now, until, limit))
        return [entry(cipher, row) for row in taken.fetchall()]
    rows = db.execute(HEADS, (now, limit)).fetchall()
    db.executemany(LEASE, [(owner, until, row[0]) for row in rows])
    return [entry(cipher, (*row[:4], int(row[4]) + 1)) for row in rows]


def finish(db: Connection, cipher: Cipher | None, done: InboxEntry, owner: str, now: float,
           until: float) -> InboxEntry | None:
    """Mark `done` handled and lease its chat's next row to `owner` (unless another holds it)."""
    if not isinstance(db, sqlite3.Connection):
        found = db.execute(f"SELECT {COLUMNS} FROM inbox_done(?, ?, ?, ?)",
                           (owner, done.update_id, now, until)).fetchone()
        return None if found is None else entry(cipher, found)
    db.execute(HANDLED, (now, done.update_id))
    row = db.execute(NEXT, (done.chat_id,)).fetchone()
    if row is None or (row[5] is not None and row[5] >= now):
        return None
    db.execute(LEASE, (owner, until, row[0]))
    return entry(cipher, (*row[:4], int(row[4]) + 1))


def erase_inbox(db: Connection, user_ids: Sequence[int]) -> int:
    """Delete every inbox row of these people's chats (a private chat's id is its person's); how many."""
    return sum(max(db.execute("DELETE FROM inbox WHERE chat_id = ?", (user_id,)).rowcount, 0)
               for user_id in user_ids)


class InboxData:
    """The inbox on one open store (`state.storage.InboxRecords`)."""

    def __init__(self, store: Database) -> None:
        self.store = store
        self._queued: list[tuple[list[Row], asyncio.Future[list[bool]]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def add(self, updates: Sequence[tuple[int, int, str]], now: float) -> list[bool]:
        """Keep updates durably (one commit for all that arrive meanwhile); for each, whether new."""
        future: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._queued.append(([(chat, update_id, body, now) for chat, update_id, body in updates], future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(), name="craftbot-inbox-flush")
        return await asyncio.shield(future)  # a caller that gives up does not undo the commit

    async def _flush(self) -> None:
        cipher = self.store.cipher
        while self._queued:
            batch, self._queued = self._queued, []
            rows = [row for rows, _ in batch for row in rows]
            def insert(db: Connection, rows: list[Row] = rows) -> list[bool]:
                return durable_insert(db, cipher, rows)

            try:
                new = await self.store.read(insert)
            except Exception as exc:  # every waiter's HTTP request fails; Telegram sends again
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            start = 0
            for part, future in batch:
                if not future.done():
                    future.set_result(new[start:start + len(part)])
                start += len(part)

    async def claim(self, owner: str, now: float, until: float, limit: int) -> list[InboxEntry]:
        """Lease up to `limit` heads of chats no owner holds (or whose lease ran out) until `until`."""
        if limit <= 0:
            return []
        cipher = self.store.cipher
        return await self.store.write(lambda db: claim(db, cipher, owner, now, until, limit))

    async def done(self, entry: InboxEntry, owner: str, now: float, until: float) -> InboxEntry | None:
        """Mark an update handled (its JSON dropped) and lease its chat's next one, if any."""
        cipher = self.store.cipher
        return await self.store.write(lambda db: finish(db, cipher, entry, owner, now, until))

    async def renew(self, owner: str, update_ids: Sequence[int], until: float) -> int:
        """Extend this owner's leases on these updates; how many it still held."""
        ids = list(update_ids)
        if not ids:
            return 0
        return await self.store.write(lambda db: sum(max(db.execute(
            "UPDATE inbox SET lease_until = ? WHERE update_id = ? AND owner = ? AND handled_at IS NULL",
            (until, update_id, owner)).rowcount, 0) for update_id in ids))

    async def release(self, owner: str | None) -> int:
        """Drop an owner's leases (every lease for None); how many."""
        release = "UPDATE inbox SET owner = NULL, lease_until = NULL WHERE handled_at IS NULL AND owner"
        if owner is None:
            return await self.store.write(lambda db: max(db.execute(f"{release} IS NOT NULL").rowcount, 0))
        return await self.store.write(lambda db: max(db.execute(f"{release} = ?", (owner,)).rowcount, 0))

    async def forget_handled(self, before: float) -> int:
        """Drop the records of updates handled before `before`; how many."""
        return await self.store.write(lambda db: max(db.execute(
            "DELETE FROM inbox WHERE handled_at < ?", (before,)).rowcount, 0))

    async def backlog(self, now: float) -> tuple[int, float]:
        """How many updates wait, and the oldest one's age in seconds (0 when none wait)."""
        count, oldest = await self.store.read(lambda db: db.execute(
            "SELECT count(*), min(received_at) FROM inbox WHERE handled_at IS NULL").fetchone())
        return int(count), (max(now - float(oldest), 0.0) if oldest is not None else 0.0)
