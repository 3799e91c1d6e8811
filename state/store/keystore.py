"""Where person keys are kept: the SQLite key file beside the database (`KeyStore`), and the contract
any key store meets (`KeyRecords`; `state.store.pgkeys.PgKeyStore` is the PostgreSQL one).

See `state.store.keyring` for why keys live apart from the data, and how they are used.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

__all__ = ["SCHEMA", "KeyRecords", "KeyStore", "Row", "key_store_path"]

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS person_keys ("
    " user_id BIGINT PRIMARY KEY,"
    " key_id TEXT NOT NULL UNIQUE,"  # random; sealed values name it (p1:<key_id>:...)
    " wrapped_key TEXT NOT NULL,"  # the data key sealed with the operator key (Fernet)
    " wrapped_by TEXT NOT NULL,"  # the id of that operator key (state.store.crypto.key_id)
    " created_at DOUBLE PRECISION NOT NULL)")
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",  # a key is on disk before the data sealed with it
    "PRAGMA secure_delete=ON",  # a destroyed key's bytes are overwritten
    "PRAGMA busy_timeout=5000",
)
ADD = ("INSERT INTO person_keys (user_id, key_id, wrapped_key, wrapped_by, created_at)"
       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING")
BY_USER = "SELECT key_id, wrapped_key FROM person_keys WHERE user_id = ?"
BY_KEY = "SELECT user_id, wrapped_key FROM person_keys WHERE key_id = ?"
Row = tuple[str, str]


def key_store_path(database: Path) -> Path:
    """Where a database's key store is: `bot.sqlite3` -> `bot-keys.sqlite3`, beside it."""
    if str(database) == ":memory:":
        return database
    return database.with_name(f"{database.stem}-keys{database.suffix or '.sqlite3'}")


class KeyRecords(Protocol):
    """Where person keys are kept: a SQLite file (`KeyStore`) or a PostgreSQL database (`PgKeyStore`)."""

    @property
    def path(self) -> Path | str:
        """Where it is (for messages)."""

    def version(self) -> int:
        """A number that changes when another process changed the keys."""

    def find(self, user_id: int) -> Row | None:
        """(key id, wrapped key) of a person."""

    def find_key(self, kid: str) -> tuple[int, str] | None:
        """(user id, wrapped key) of a key id."""

    def add(self, user_id: int, kid: str, wrapped: str, wrapped_by: str, at: float) -> Row:
        """Keep a new key unless the person has one; theirs."""

    def add_many(self, rows: list[tuple[int, str, str, str, float]]) -> None:
        """Keep new keys in one transaction."""

    def remove(self, user_ids: Iterable[int]) -> int:
        """Destroy people's keys; how many."""

    def rows(self) -> list[tuple[int, str, str, str]]:
        """(user id, key id, wrapped key, wrapped by) of every key."""

    def rewrap(self, fresh: list[tuple[str, str, int]]) -> None:
        """Store (wrapped key, wrapped by, user id) in one transaction."""

    def close(self) -> None:
        """Close."""


class KeyStore:
    """The `person_keys` table in its own SQLite file, one connection shared by the store's threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def connection(self) -> sqlite3.Connection:
        """The open connection (the file made private, and the table, on first use)."""
        if self._db is None:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if not self.path.exists():
                    os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            for pragma in PRAGMAS:
                db.execute(pragma).fetchall()
            db.execute(SCHEMA)
            self._db = db
        return self._db

    def version(self) -> int:
        """A number that changes when another connection (another process) changed the keys."""
        return int(self.connection().execute("PRAGMA data_version").fetchone()[0])

    def find(self, user_id: int) -> Row | None:
        """(key id, wrapped key) of a person; None when they have none."""
        row = self.connection().execute(BY_USER, (user_id,)).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def find_key(self, kid: str) -> tuple[int, str] | None:
        """(user id, wrapped key) of the key with this id; None when there is none."""
        row = self.connection().execute(BY_KEY, (kid,)).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def add(self, user_id: int, kid: str, wrapped: str, wrapped_by: str, at: float) -> Row:
        """Keep a new key for a person unless they have one already (made meanwhile elsewhere); theirs."""
        self.connection().execute(ADD, (user_id, kid, wrapped, wrapped_by, at))
        found = self.find(user_id)
        assert found is not None  # written just now, or already there
        return found

    def add_many(self, rows: list[tuple[int, str, str, str, float]]) -> None:
        """Keep new keys for many people in one transaction (one sync), those who have one kept."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(ADD, rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def remove(self, user_ids: Iterable[int]) -> int:
        """Destroy people's keys, overwriting their bytes and emptying the journal; how many."""
        db = self.connection()
        ids = [(uid,) for uid in user_ids]
        if not ids:
            return 0
        before = db.total_changes
        db.executemany("DELETE FROM person_keys WHERE user_id = ?", ids)
        removed = db.total_changes - before
        if removed:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return removed

    def rows(self) -> list[tuple[int, str, str, str]]:
        """(user id, key id, wrapped key, wrapped by) of every key."""
        return [(int(u), str(k), str(w), str(b)) for u, k, w, b in self.connection().execute(
            "SELECT user_id, key_id, wrapped_key, wrapped_by FROM person_keys ORDER BY user_id")]

    def rewrap(self, fresh: list[tuple[str, str, int]]) -> None:
        """Store (wrapped key, wrapped by, user id) in one transaction, the old wrapping overwritten."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("UPDATE person_keys SET wrapped_key = ?, wrapped_by = ? WHERE user_id = ?", fresh)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def close(self) -> None:
        """Close the connection (it opens again on next use)."""
        if self._db is not None:
            self._db.close()
            self._db = None
