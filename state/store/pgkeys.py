"""Person keys in a PostgreSQL database of their own (`storage.keys_url`), for stores on PostgreSQL.

Why another database, not another table (docs/operations.md, "Scaling out"): a destroyed
key must be in no copy that outlives the erasure. In the data's own database the deleted
key row would live on in that database's dead tuples, its WAL archive, its replicas and its
base backups, which are kept for months; restoring one would bring the person back. The key
database is small and is backed up on a short cycle of its own (days), its WAL archive
kept as briefly, so a destroyed key is gone from everywhere within that cycle. After each
deletion the table is rewritten (`VACUUM FULL`), so the destroyed key is in no page of it.

The table is the same as the SQLite key store's (`state.store.keyring.SCHEMA`); a one-row
table counts changes, so another instance's cache of unwrapped keys notices an erasure
(as `PRAGMA data_version` does for the SQLite file).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import psycopg

from state.store.dialect import redacted
from state.store.keystore import SCHEMA, Row
from state.store.postgres import PgConnection

__all__ = ["PgKeyStore"]

CHANGES = ("CREATE TABLE IF NOT EXISTS person_keys_changes (id INTEGER PRIMARY KEY CHECK (id = 1),"
           " n BIGINT NOT NULL)")
BUMP = ("INSERT INTO person_keys_changes (id, n) VALUES (1, 1)"
        " ON CONFLICT (id) DO UPDATE SET n = person_keys_changes.n + 1")
ADD = ("INSERT INTO person_keys (user_id, key_id, wrapped_key, wrapped_by, created_at)"
       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING")


class PgKeyStore:
    """The `person_keys` table in a PostgreSQL database of its own; one connection, one lock."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = redacted(url)  # what messages name
        self._db: PgConnection | None = None
        self._lock = threading.RLock()

    def connection(self) -> PgConnection:
        """The open connection (the tables made on first use; a lost connection replaced)."""
        with self._lock:
            if self._db is None or self._db.broken:
                db = PgConnection(psycopg.connect(self.url, autocommit=True,
                                                  application_name="craftbot-keys"))
                db.execute(SCHEMA)
                db.execute(CHANGES)
                self._db = db
            return self._db

    def _one(self, sql: str, values: tuple[Any, ...]) -> Any:
        with self._lock:
            return self.connection().execute(sql, values).fetchone()

    def version(self) -> int:
        """A number that changes whenever keys are destroyed or re-wrapped (by any instance)."""
        row = self._one("SELECT n FROM person_keys_changes WHERE id = 1", ())
        return 0 if row is None else int(row[0])

    def find(self, user_id: int) -> Row | None:
        """(key id, wrapped key) of a person; None when they have none."""
        row = self._one("SELECT key_id, wrapped_key FROM person_keys WHERE user_id = ?", (user_id,))
        return None if row is None else (str(row[0]), str(row[1]))

    def find_key(self, kid: str) -> tuple[int, str] | None:
        """(user id, wrapped key) of the key with this id; None when there is none."""
        row = self._one("SELECT user_id, wrapped_key FROM person_keys WHERE key_id = ?", (kid,))
        return None if row is None else (int(row[0]), str(row[1]))

    def add(self, user_id: int, kid: str, wrapped: str, wrapped_by: str, at: float) -> Row:
        """Keep a new key for a person unless they have one (made meanwhile by another instance); theirs."""
        with self._lock:
            self.connection().execute(ADD, (user_id, kid, wrapped, wrapped_by, at))
            found = self.find(user_id)
        assert found is not None
        return found

    def add_many(self, rows: list[tuple[int, str, str, str, float]]) -> None:
        """Keep new keys for many people in one transaction."""
        self._transaction(lambda db: db.executemany(ADD, rows))

    def remove(self, user_ids: Iterable[int]) -> int:
        """Destroy people's keys and vacuum the table, so the rows leave the heap now; how many."""
        ids = [(uid,) for uid in user_ids]
        if not ids:
            return 0

        def delete(db: PgConnection) -> int:
            cursor = db.executemany("DELETE FROM person_keys WHERE user_id = ?", ids)
            db.execute(BUMP)
            return max(cursor.rowcount, 0)

        removed = int(self._transaction(delete))
        if removed:
            self.compact()
        return removed

    def compact(self) -> None:
        """Rewrite the table into a new file (VACUUM FULL), so a destroyed key's bytes are in no page of it.

        A plain VACUUM only marks the space free: the old bytes stay until overwritten. The
        table is small (about 200 bytes a person), so the rewrite takes milliseconds.
        """
        with self._lock:
            self.connection().execute("VACUUM FULL person_keys")

    def rows(self) -> list[tuple[int, str, str, str]]:
        """(user id, key id, wrapped key, wrapped by) of every key."""
        with self._lock:
            found = self.connection().execute("SELECT user_id, key_id, wrapped_key, wrapped_by"
                                              " FROM person_keys ORDER BY user_id").fetchall()
        return [(int(u), str(k), str(w), str(b)) for u, k, w, b in found]

    def rewrap(self, fresh: list[tuple[str, str, int]]) -> None:
        """Store (wrapped key, wrapped by, user id) in one transaction."""

        def update(db: PgConnection) -> None:
            db.executemany("UPDATE person_keys SET wrapped_key = ?, wrapped_by = ? WHERE user_id = ?", fresh)
            db.execute(BUMP)

        self._transaction(update)
        self.compact()

    def _transaction(self, job: Any) -> Any:
        with self._lock:
            db = self.connection()
            db.execute("BEGIN")
            try:
                result = job(db)
                db.execute("COMMIT")
            except BaseException:
                if not db.broken:
                    db.execute("ROLLBACK")
                raise
            return result

    def close(self) -> None:
        """Close the connection (it opens again on next use)."""
        with self._lock:
            if self._db is not None:
                self._db.conn.close()
                self._db = None
