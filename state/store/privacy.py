"""What is stored about a person, and how it is shown, erased, expired and re-keyed.

The contract is `state.contracts.PrivacyRecords`. Each method is one job on the store's
writer thread (`state.store.core`), so none of it runs on the event loop:

- `remember` keeps the ids and dates (never the text) of the messages of the last 48 hours
  in each private chat, so `/hide` can delete them while Telegram still allows it. They
  are buffered and written with the next transaction (usually the turn itself);
- `export` gathers every row about a user, from every table that has a `user_id` column
  (found in `sqlite_master`, so tables added by later migrations are included unasked);
- `erase` first destroys the person's data key (`state.store.keyring`), so every copy of
  what was sealed with it (a backup, a replica, a journal) is unreadable from then on; then
  deletes their rows with `secure_delete` on and truncates the WAL on the checkpoint
  thread, so the bytes are overwritten in the database file and gone from the journal (a
  reader in another process can delay the truncation, never other chats);
- `purge` erases people inactive for longer than the retention period the same way, and
  `forget_expired` the message records /hide can no longer use;
- `rotate` re-wraps every person key with the first operator key (the data is not touched)
  and seals with person keys what was sealed with the operator key alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from state.storage import Cipher, Inactive, KeyStatus
from state.store.core import Database
from state.store.crypto import DataCipher, DataKeyError, is_sealed, unseal
from state.store.dialect import Connection, dialect_of, try_lock
from state.store.inbox import erase_inbox
from state.store.keyring import KeyRecords, Keyring, KeyStore, PersonKeyMissing, key_records, key_store_path
from state.store.replies import opened_body
from state.store.sealing import checkin_values, migrate, open_detail

__all__ = ["DAY", "HIDE_MARGIN", "HIDE_WINDOW", "HOUR", "Inactive", "KeyStatus", "PrivacyData"]

HIDE_WINDOW = 48 * 3600.0  # Telegram lets a bot delete a message for 48 hours after it was sent
HIDE_MARGIN = 10 * 60.0  # skip messages this close to the limit: clocks differ, deletes take time
HOUR = 3600.0
UNREADABLE = "(cannot be read: sealed with a key that was erased, lost or damaged)"
DAY = 24 * HOUR

def quoted(name: str) -> str:
    """An SQL identifier, quoted (table names come from the catalogue, not from people)."""
    return '"' + name.replace('"', '""') + '"'


def user_tables(db: Connection) -> list[str]:
    """Every table with a `user_id` column: where data about a person can be."""
    return [str(row[0]) for row in db.execute(dialect_of(db).user_tables)]


def take_recent(db: Connection, user_id: int) -> list[tuple[int, float]]:
    """(message id, date) of every message recorded in a user's chat, the records dropped."""
    rows = db.execute("SELECT message_id, sent_at FROM recent_messages WHERE user_id = ?",
                      (user_id,)).fetchall()
    db.execute("DELETE FROM recent_messages WHERE user_id = ?", (user_id,))
    return [(int(mid), float(at)) for mid, at in rows]


def export(db: Connection, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row about a user, by table (tables without any left out)."""
    found = {}
    for table in user_tables(db):
        cursor = db.execute(f"SELECT * FROM {quoted(table)} WHERE user_id = ?", (user_id,))
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        if rows:
            found[table] = rows
    return found


def shred(keys: Keyring | KeyRecords | None, user_ids: list[int]) -> int:
    """Destroy these people's data keys, so nothing sealed with them can be read again; how many."""
    if isinstance(keys, Keyring):
        return keys.shred(user_ids)
    return keys.remove(user_ids) if keys is not None else 0


def erase(db: Connection, user_ids: list[int], keys: Keyring | KeyRecords | None = None) -> int:
    """Destroy these users' keys, then delete every row about them, from every table; how many rows.

    The keys go first, in a commit of their own: if deleting the rows then fails, what is
    left is already unreadable, and erasing again deletes it.
    """
    shred(keys, user_ids)
    deleted = erase_inbox(db, user_ids)  # the webhook's inbox: keyed by chat, not user_id
    for table in user_tables(db):
        for user_id in user_ids:
            deleted += max(db.execute(f"DELETE FROM {quoted(table)} WHERE user_id = ?",
                                      (user_id,)).rowcount, 0)
    return deleted


def inactive(db: Connection, before: float) -> list[Inactive]:
    """People whose last message was before `before`, longest gone first."""
    rows = db.execute("SELECT user_id, updated_at FROM users WHERE updated_at < ? ORDER BY updated_at",
                      (before,)).fetchall()
    return [Inactive(int(uid), float(at)) for uid, at in rows]


def purge(db: Connection, before: float, expired: float,
          keys: Keyring | KeyRecords | None = None) -> list[Inactive]:
    """Erase people last seen before `before`, and message records older than `expired`.

    One instance at a time (an advisory lock on PostgreSQL): another that finds the round
    taken does nothing; what is left is the next round's, an hour later.
    """
    if not try_lock(db, "retention"):
        return []
    gone = inactive(db, before)
    erase(db, [person.user_id for person in gone], keys)
    db.execute("DELETE FROM recent_messages WHERE sent_at < ?", (expired,))
    return gone


def key_check(db: Connection, cipher: Cipher | None, every: bool) -> tuple[KeyStatus, str | None]:
    """Count sealed and plain progress blobs and try the key on the first sealed one, or on
    every one; with the counts, one blob the key could not open (None when all opened, or
    when those that did not were sealed with a person key since erased: that proves nothing
    about the operator key)."""
    sealed = plain = unreadable = 0
    failed: str | None = None
    for (data,) in db.execute("SELECT data FROM users"):
        if not is_sealed(data):
            plain += 1
            continue
        sealed += 1
        if every or sealed == 1:
            try:
                unseal(cipher, data)
            except PersonKeyMissing:
                unreadable += 1
            except DataKeyError:
                unreadable += 1
                failed = failed or data
    return KeyStatus(sealed, plain, unreadable), failed


def rotate(db: Connection, keyring: Keyring, operator: DataCipher) -> tuple[int, int]:
    """Re-wrap every person key with the operator's first key, and seal with person keys what
    is still in clear or sealed with the operator key alone; (keys re-wrapped, values sealed).

    The data sealed with person keys is not touched: a rotation costs one small write a person.
    """
    rewrapped = keyring.rewrap(operator)
    return rewrapped, migrate(db, keyring)


def opened(cipher: Cipher | None, table: str, row: dict[str, Any]) -> dict[str, Any]:
    """An exported row with what is sealed in it opened (check-in values, an event's detail).

    What cannot be opened (its person key erased before a backup was restored, or damaged)
    is said to be so, rather than failing the whole export.
    """
    try:
        if table == "checkins":
            data = row.pop("data", None)
            return {**row, **checkin_values(cipher, data)}
        if table == "events" and "detail" in row:
            return {**row, "detail": open_detail(cipher, row["detail"])}
        if table == "replies" and row.get("body") is not None:  # a reply not yet sent whole
            return {**row, "body": opened_body(cipher, row["body"])}
    except DataKeyError:
        return {**row, {"checkins": "values", "replies": "body"}.get(table, "detail"): UNREADABLE}
    return row


class PrivacyData:
    """Privacy operations on one open store."""

    def __init__(self, store: Database) -> None:
        self.store = store

    @contextmanager
    def keys(self) -> Iterator[Keyring | KeyRecords | None]:
        """Where erasure destroys keys: the store's keyring, or (opened without the operator key,
        as `craftbot purge` is) the key store itself, when there is one: no key is needed to
        destroy one."""
        cipher = self.store.cipher
        if isinstance(cipher, Keyring):
            yield cipher
            return
        keys: KeyRecords
        if self.store.location.url is not None:
            if not self.store.keys_url:
                yield None
                return
            keys = key_records(self.store.location, self.store.keys_url)
        else:
            path = key_store_path(self.store.path)
            if str(path) == ":memory:" or not path.exists():
                yield None
                return
            keys = KeyStore(path)
        try:
            yield keys
        finally:
            keys.close()

    async def user_tables(self) -> list[str]:
        """Every table with a `user_id` column: where data about a person can be."""
        return await self.store.run(user_tables)

    # -- message ids for /hide -----------------------------------------------------------

    async def remember(self, user_id: int, messages: list[tuple[int, float, bool]]) -> None:
        """Keep (message id, Telegram date, sent by the bot) of new messages in a user's chat.

        They wait in memory for the next write transaction (see `state.store.core`). Records
        past 48 hours are dropped by `forget_expired`, every hour, and not here: a delete on
        each message scanned all of the person's records twice per update.
        """
        self.store.buffer_messages([(user_id, mid, at, int(from_bot)) for mid, at, from_bot in messages])

    async def forget_expired(self, now: float) -> int:
        """Drop every record of a message too old for /hide to delete; how many."""
        return await self.store.write(lambda db: max(db.execute(
            "DELETE FROM recent_messages WHERE sent_at < ?", (now - HIDE_WINDOW,)).rowcount, 0))

    async def take_recent(self, user_id: int, now: float) -> list[int]:
        """The ids of the user's messages that may still be deleted, newest first.

        All of the user's records are dropped (those still buffered too): the messages are
        about to be deleted, and older ones can no longer be. `now` is never taken as
        earlier than the newest recorded date, which comes from Telegram's own clock.
        """
        rows = await self.store.write(lambda db: take_recent(db, user_id))
        if not rows:
            return []
        now = max(now, max(at for _, at in rows))
        cutoff = now - (HIDE_WINDOW - HIDE_MARGIN)
        return [mid for mid, at in sorted(rows, key=lambda r: (-r[1], -r[0])) if at > cutoff]

    # -- seeing and erasing ------------------------------------------------------------------

    async def export(self, user_id: int) -> dict[str, Any] | None:
        """Everything stored about a user, as JSON-ready data; None when nothing is."""
        tables = await self.store.write(lambda db: export(db, user_id))  # buffered ids included
        if not tables:
            return None
        found: dict[str, Any] = {"user_id": user_id, "progress": None, "tables": {}}
        for table, rows in tables.items():
            if table == "users":  # the progress blob decrypted, its other columns as they are
                data = rows[0].pop("data")
                try:
                    found["progress"] = json.loads(unseal(self.store.cipher, data))
                except DataKeyError:
                    rows[0]["data"] = UNREADABLE
            rows = [opened(self.store.cipher, table, row) for row in rows]
            found["tables"][table] = [{k: _plain(v) for k, v in row.items()} for row in rows]
        return found

    async def erase(self, user_id: int) -> int:
        """Delete every row about a user, overwrite the bytes, truncate the WAL; rows deleted."""
        self.store.drop_buffered(user_id)
        with self.keys() as keys:
            deleted = await self.store.write(lambda db: erase(db, [user_id], keys))
        await self.store.checkpoint()
        return deleted

    # -- retention -------------------------------------------------------------------------

    async def inactive(self, now: float, days: int) -> list[Inactive]:
        """People whose last message is more than `days` days before `now` (none if days <= 0)."""
        if days <= 0:
            return []
        return await self.store.read(lambda db: inactive(db, now - days * DAY))

    async def purge(self, now: float, days: int) -> list[Inactive]:
        """Erase everyone inactive for more than `days` days, and expired message records."""
        before = now - days * DAY if days > 0 else float("-inf")
        with self.keys() as keys:
            gone = await self.store.write(lambda db: purge(db, before, now - HIDE_WINDOW, keys))
        await self.store.checkpoint()
        return gone

    # -- counting (for admins: numbers, never people) -----------------------------------------

    async def counts(self, now: float) -> dict[str, int]:
        """How many people are stored and how many were active lately."""

        def count(db: Connection) -> dict[str, int]:
            result = {"users": int(db.execute("SELECT count(*) FROM users").fetchone()[0])}
            for days in (1, 7, 30):
                result[f"active_{days}d"] = int(db.execute(
                    "SELECT count(*) FROM users WHERE updated_at >= ?", (now - days * DAY,)).fetchone()[0])
            return result

        return await self.store.read(count)

    # -- keys --------------------------------------------------------------------------------

    async def key_status(self, *, every: bool = False) -> KeyStatus:
        """Count sealed and plain blobs and prove the key opens them (`every` one, or the first);
        count the person keys in the key store and those the operator key cannot unwrap.

        Raises `DataKeyError` (saying what to do) when the key opens none of those it tried:
        the wrong key, or none. A few that fail among many that open are damaged rows, rows
        sealed with a key since dropped, or rows of people erased since a backup that was
        restored: they are counted in `unreadable`, and those people still get crisis help
        and can erase their data (`state.service`).
        """
        cipher = self.store.cipher
        status, failed = await self.store.read(lambda db: key_check(db, cipher, every))
        tried = status.sealed if every else min(status.sealed, 1)
        if failed is not None and status.unreadable == tried:
            unseal(cipher, failed)  # raises the explanatory error
        if isinstance(cipher, Keyring):
            check = await self.store.read(lambda db: cipher.check(every=every))
            if check.keys and check.unwrappable == (check.keys if every else 1):
                cipher.operator.decrypt(cipher.keys.rows()[0][2])  # raises the explanatory error
            status = replace(status, keys=check.keys, unwrappable=check.unwrappable)
        return status

    async def rotate(self, cipher: Cipher) -> int:
        """Re-wrap every person key with the cipher's first key (their data stays as it is), and
        seal with person keys what is in clear or sealed with the operator key alone; keys re-wrapped.
        """
        keyring = self.store.cipher
        operator = cipher.operator if isinstance(cipher, Keyring) else cipher
        if not isinstance(operator, DataCipher):
            raise TypeError("rotate needs the operator key(s): a DataCipher or a Keyring")
        if not isinstance(keyring, Keyring):  # the store was opened without a key
            keyring = Keyring(operator, key_records(self.store.location, self.store.keys_url))
            self.store.cipher = keyring
        target = keyring
        rewrapped, _ = await self.store.write(lambda db: rotate(db, target, operator))
        await self.store.checkpoint()
        return rewrapped

    async def migrate(self) -> int:
        """Seal with person keys what is in clear or sealed with the operator key alone; how many values."""
        cipher = self.store.cipher
        if cipher is None:
            return 0
        count = await self.store.write(lambda db: migrate(db, cipher))
        await self.store.checkpoint()
        return count


def _plain(value: object) -> object:
    """A column value as JSON can hold it."""
    return value.hex() if isinstance(value, bytes) else value
