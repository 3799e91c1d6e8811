"""Moving a deployment from one store to another (SQLite to PostgreSQL), and proving nothing was lost.

`transfer` copies every table row for row, as stored (sealed values stay sealed: nothing
is opened on the way), into an empty target, in one transaction of the target's: all or
nothing. It reads and writes `BATCH` rows at a time, so memory stays small however many
people there are (the source is not written meanwhile: `craftbot migrate` holds its
lock). The person keys move first, still wrapped by the operator key, from the source's
key store to the target's (`storage.keys_url` on PostgreSQL). Ids are kept, and the
target's identity sequences moved past them.

`tally` then counts each table on both sides and re-reads every sealed value (progress,
check-in values, event details) with the operator key through each side's own key store:
the move is good when every count matches and the target opens exactly what the source
opens (values whose key was erased before the move stay unreadable on both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from state.storage import Cipher
from state.store.core import Database
from state.store.crypto import DataKeyError, is_sealed, unseal
from state.store.dialect import Connection, dialect_of
from state.store.keyring import Keyring
from state.store.privacy import quoted
from state.store.sealing import is_token, open_detail

__all__ = ["NotEmpty", "Tally", "tally", "transfer"]

# Copied in this order; `schema_migrations` is the target's own.
TABLES = ("users", "events", "recent_messages", "reminders", "checkins", "unreachable",
          "curriculum_steps", "weekly_active", "inbox", "replies")
IDENTITY = ("events", "reminders", "checkins")  # tables whose `id` the database hands out
# each table's primary key: the order rows are read in, a page at a time
ORDER = {"users": "user_id", "events": "id", "recent_messages": "user_id, message_id", "reminders": "id",
         "checkins": "id", "unreachable": "user_id", "curriculum_steps": "version, locale, module, step",
         "weekly_active": "week", "inbox": "update_id", "replies": "user_id"}
BATCH = 2000


class NotEmpty(Exception):
    """The target store already holds people: a move never merges two deployments."""


@dataclass
class Tally:
    """Rows per table, and the sealed values that opened and that did not."""

    rows: dict[str, int] = field(default_factory=dict)
    opened: int = 0
    unreadable: int = 0
    keys: int = 0


def columns(db: Connection, table: str) -> list[str]:
    """The table's column names, in order."""
    cursor = db.execute(f"SELECT * FROM {quoted(table)} WHERE 1 = 0")
    cursor.fetchall()
    return [str(d[0]) for d in cursor.description]


def read_page(db: Connection, table: str, names: list[str], offset: int) -> list[tuple[Any, ...]]:
    """`BATCH` rows of a table from `offset` on, in primary-key order, the named columns only."""
    listed = ", ".join(quoted(n) for n in names)
    return [tuple(row) for row in db.execute(
        f"SELECT {listed} FROM {quoted(table)} ORDER BY {ORDER[table]} LIMIT ? OFFSET ?", (BATCH, offset))]


def write_rows(db: Connection, table: str, names: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert rows, keeping their ids."""
    listed = ", ".join(quoted(n) for n in names)
    marks = ", ".join("?" for _ in names)
    db.executemany(f"INSERT INTO {quoted(table)} ({listed}) VALUES ({marks})", rows)


def follow_ids(db: Connection, table: str) -> None:
    """Move a PostgreSQL identity past the copied ids, so the next row gets a new one."""
    if table in IDENTITY and dialect_of(db).shared:
        db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id))"
                   f" FROM {quoted(table)} HAVING count(*) > 0").fetchall()


async def transfer(source: Database, target: Database) -> dict[str, int]:
    """Copy every row and every person key from `source` into the empty `target`; rows per table."""
    if await target.read(lambda db: db.execute("SELECT count(*) FROM users").fetchone()[0]):
        raise NotEmpty("the target already holds people; move into an empty database")
    source_keys = source.cipher if isinstance(source.cipher, Keyring) else None
    keys = source_keys.keys.rows() if source_keys is not None else []
    if source_keys is not None and keys and isinstance(target.cipher, Keyring):
        # first, in a commit of their own: the data sealed with them must never arrive without them
        created = dict(_created(source_keys))
        target.cipher.keys.add_many([(uid, kid, wrapped, by, created.get(uid, 0.0))
                                     for uid, kid, wrapped, by in keys])

    copied: dict[str, int] = {}
    async with target.transaction() as run:
        for table in TABLES:
            target_names = await target.run(lambda db, t=table: columns(db, t))  # type: ignore[misc]
            source_names = await source.read(lambda db, t=table: columns(db, t))  # type: ignore[misc]
            names = [n for n in target_names if n in source_names]
            copied[table] = 0
            while rows := await source.read(
                    lambda db, t=table, n=names, at=copied[table]: read_page(db, t, n, at)):  # type: ignore[misc]
                await run(lambda db, t=table, n=names, r=rows: write_rows(db, t, n, r))  # type: ignore[misc]
                copied[table] += len(rows)
            await run(lambda db, t=table: follow_ids(db, t))  # type: ignore[misc]
    return copied


def _created(keyring: Keyring) -> list[tuple[int, float]]:
    """When each person key was made (kept across the move)."""
    store = keyring.keys
    connection = getattr(store, "connection", None)
    if connection is None:
        return []
    return [(int(u), float(at)) for u, at in connection().execute(
        "SELECT user_id, created_at FROM person_keys").fetchall()]


def count_sealed(db: Connection, cipher: Cipher | None) -> tuple[int, int]:
    """Re-read every sealed value (progress, check-ins, event details, kept replies): (opened, unreadable)."""
    opened = unreadable = 0
    blobs = [row[0] for row in db.execute("SELECT data FROM users").fetchall()]
    blobs += [row[0] for row in db.execute("SELECT data FROM checkins WHERE data IS NOT NULL").fetchall()]
    blobs += [row[0] for row in db.execute("SELECT body FROM replies WHERE body IS NOT NULL").fetchall()]
    details = [row[0] for row in db.execute("SELECT detail FROM events WHERE detail IS NOT NULL").fetchall()]
    sealed = [(b, True) for b in blobs if is_sealed(b)] + [(d, False) for d in details if is_token(d)]
    for value, blob in sealed:
        try:
            unseal(cipher, value) if blob else open_detail(cipher, value)
            opened += 1
        except DataKeyError:
            unreadable += 1
    return opened, unreadable


async def tally(store: Database) -> Tally:
    """Count every table's rows and re-read every sealed value with the store's keys."""
    found = Tally()
    for table in TABLES:
        found.rows[table] = int(await store.read(
            lambda db, t=table: db.execute(f"SELECT count(*) FROM {quoted(t)}").fetchone()[0]))  # type: ignore[misc]
    cipher = store.cipher
    found.opened, found.unreadable = await store.read(lambda db: count_sealed(db, cipher))
    if isinstance(cipher, Keyring):
        found.keys = len(cipher.keys.rows())
    return found
