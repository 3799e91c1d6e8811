"""What is stored about a person, and how it is shown, erased, expired and re-keyed.

Everything here works on the store's one connection, inside its write lock:

- `remember` keeps the ids and dates (never the text) of the messages of the last 48 hours
  in each private chat, so `/hide` can delete them while Telegram still allows it;
- `export` gathers every row about a user, from every table that has a `user_id` column
  (found in `sqlite_master`, so tables added by later migrations are included unasked);
- `erase` deletes those rows with `secure_delete` on, then truncates the WAL, so the
  bytes are overwritten in the database file and gone from the journal;
- `purge` erases people inactive for longer than the retention period, and
  `forget_expired` the message records /hide can no longer use;
- `rotate` re-encrypts every progress blob with the first data key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from state.store.crypto import DataCipher, is_sealed, unseal
from state.store.progress import SqliteProgressStore

HIDE_WINDOW = 48 * 3600.0  # Telegram lets a bot delete a message for 48 hours after it was sent
HIDE_MARGIN = 10 * 60.0  # skip messages this close to the limit: clocks differ, deletes take time
HOUR = 3600.0
DAY = 24 * HOUR

USER_TABLES = (
    "SELECT m.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS c"
    " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND c.name = 'user_id'"
    " ORDER BY m.name")


def quoted(name: str) -> str:
    """An SQL identifier, quoted (table names come from sqlite_master, not from people)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Inactive:
    """Someone whose data the retention period has run out for."""

    user_id: int
    last_active: float


@dataclass(frozen=True)
class KeyStatus:
    """How the stored progress blobs are kept: how many sealed, how many plain."""

    sealed: int
    plain: int


class PrivacyData:
    """Privacy operations on one open store."""

    def __init__(self, store: SqliteProgressStore) -> None:
        self.store = store

    async def user_tables(self) -> list[str]:
        """Every table with a `user_id` column: where data about a person can be."""
        rows = await self.store.db.execute_fetchall(USER_TABLES)
        return [str(row[0]) for row in rows]

    # -- message ids for /hide -----------------------------------------------------------

    async def remember(self, user_id: int, messages: list[tuple[int, float, bool]]) -> None:
        """Keep (message id, Telegram date, sent by the bot) of new messages in a user's chat.

        Records past 48 hours are dropped by `forget_expired`, every hour, and not here: a
        delete on each message scanned all of the person's records (hundreds in a busy
        chat) twice per update, the biggest cost of a turn under load.
        """
        if not messages:
            return
        async with self.store.transaction() as db:
            await db.executemany(
                "INSERT OR IGNORE INTO recent_messages (user_id, message_id, sent_at, from_bot)"
                " VALUES (?, ?, ?, ?)",
                [(user_id, mid, at, int(from_bot)) for mid, at, from_bot in messages])

    async def forget_expired(self, now: float) -> int:
        """Drop every record of a message too old for /hide to delete; how many."""
        async with self.store.transaction() as db:
            cursor = await db.execute("DELETE FROM recent_messages WHERE sent_at < ?", (now - HIDE_WINDOW,))
            dropped = max(cursor.rowcount, 0)
            await cursor.close()
        return dropped

    async def take_recent(self, user_id: int, now: float) -> list[int]:
        """The ids of the user's messages that may still be deleted, newest first.

        All of the user's records are dropped: the messages are about to be deleted, and
        older ones can no longer be. `now` is never taken as earlier than the newest
        recorded date, which comes from Telegram's own clock.
        """
        async with self.store.transaction() as db:
            rows = list(await db.execute_fetchall(
                "SELECT message_id, sent_at FROM recent_messages WHERE user_id = ?", (user_id,)))
            await db.execute("DELETE FROM recent_messages WHERE user_id = ?", (user_id,))
        if not rows:
            return []
        now = max(now, max(float(at) for _, at in rows))
        cutoff = now - (HIDE_WINDOW - HIDE_MARGIN)
        return [int(mid) for mid, at in sorted(rows, key=lambda r: (-r[1], -r[0])) if at > cutoff]

    # -- seeing and erasing ------------------------------------------------------------------

    async def export(self, user_id: int) -> dict[str, Any] | None:
        """Everything stored about a user, as JSON-ready data; None when nothing is."""
        found: dict[str, Any] = {"user_id": user_id, "progress": None, "tables": {}}
        anything = False
        for table in await self.user_tables():
            cursor = await self.store.db.execute(
                f"SELECT * FROM {quoted(table)} WHERE user_id = ?", (user_id,))
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]
            await cursor.close()
            anything = anything or bool(rows)
            if table == "users" and rows:  # the progress blob decrypted, its other columns as they are
                found["progress"] = json.loads(unseal(self.store.cipher, rows[0].pop("data")))
            if rows:
                found["tables"][table] = [{k: _plain(v) for k, v in row.items()} for row in rows]
        return found if anything else None

    async def erase(self, user_id: int) -> int:
        """Delete every row about a user, overwrite the bytes, truncate the WAL; rows deleted."""
        deleted = 0
        async with self.store.transaction() as db:
            for table in await self.user_tables():
                cursor = await db.execute(f"DELETE FROM {quoted(table)} WHERE user_id = ?",
                                          (user_id,))
                deleted += max(cursor.rowcount, 0)
                await cursor.close()
        await self.store.checkpoint()
        return deleted

    # -- retention -------------------------------------------------------------------------

    async def inactive(self, now: float, days: int) -> list[Inactive]:
        """People whose last message is more than `days` days before `now` (none if days <= 0)."""
        if days <= 0:
            return []
        rows = await self.store.db.execute_fetchall(
            "SELECT user_id, updated_at FROM users WHERE updated_at < ? ORDER BY updated_at",
            (now - days * DAY,))
        return [Inactive(int(uid), float(at)) for uid, at in rows]

    async def purge(self, now: float, days: int) -> list[Inactive]:
        """Erase everyone inactive for more than `days` days, and expired message records."""
        async with self.store.transaction() as db:
            gone = await self.inactive(now, days)
            for table in await self.user_tables():
                await db.executemany(f"DELETE FROM {quoted(table)} WHERE user_id = ?",
                                     [(person.user_id,) for person in gone])
            await db.execute("DELETE FROM recent_messages WHERE sent_at < ?", (now - HIDE_WINDOW,))
        await self.store.checkpoint()
        return gone

    # -- counting (for admins: numbers, never people) -----------------------------------------

    async def counts(self, now: float) -> dict[str, int]:
        """How many people are stored and how many were active lately."""
        result: dict[str, int] = {}
        for label, since in (("users", None), ("active_1d", 1), ("active_7d", 7), ("active_30d", 30)):
            query = "SELECT count(*) FROM users" + ("" if since is None else " WHERE updated_at >= ?")
            params = () if since is None else (now - since * DAY,)
            rows = list(await self.store.db.execute_fetchall(query, params))
            result[label] = int(rows[0][0])
        return result

    # -- keys --------------------------------------------------------------------------------

    async def key_status(self) -> KeyStatus:
        """Count sealed and plain blobs, and prove the key opens a sealed one (DataKeyError if not)."""
        sealed = plain = 0
        sample: str | None = None
        async with self.store.db.execute("SELECT data FROM users") as cursor:
            async for (data,) in cursor:
                if is_sealed(data):
                    sealed += 1
                    sample = sample or data
                else:
                    plain += 1
        if sample is not None:
            unseal(self.store.cipher, sample)
        return KeyStatus(sealed, plain)

    async def rotate(self, cipher: DataCipher) -> int:
        """Re-encrypt every progress blob with the cipher's first key (plain ones too)."""
        async with self.store.transaction() as db:
            rows = list(await db.execute_fetchall("SELECT user_id, data FROM users"))
            fresh = [(cipher.rotate(data) if is_sealed(data) else cipher.encrypt(data), uid)
                     for uid, data in rows]
            await db.executemany("UPDATE users SET data = ? WHERE user_id = ?", fresh)
        self.store.cipher = cipher
        await self.store.checkpoint()
        return len(fresh)


def _plain(value: object) -> object:
    """A column value as JSON can hold it."""
    return value.hex() if isinstance(value, bytes) else value
