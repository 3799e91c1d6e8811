"""Each person's data key: kept wrapped in a key store of its own, unwrapped on use, cached briefly.

Why a file of its own (docs/security.md, "Keys and erasure"): erasing a person destroys
their data key (crypto-shredding), so every copy of their data becomes unreadable, in the
database's free pages and journal, in a replica and in a backup. That holds only if the
destroyed key is in none of those copies. A key kept in the database would be in its
backups, wrapped by an operator key that still exists, so restoring a backup made before
an erasure would bring the person back. The keys therefore live beside the database, in
`<database>-keys.sqlite3`: small (about 200 bytes a person), never in `craftbot backup`'s
copy, backed up on its own (`craftbot keys backup`) and kept for days, not years. A
database backup restored with today's key store reads everyone but the people erased since.

The key store is one table (`person_keys`, plain SQL, see `SCHEMA`): a person's row holds
their data key sealed with the operator's current key (`state.store.crypto.wrap`), its
random id (which every value sealed with it names), the id of the operator key that
wrapped it, and when it was made. A key is made the first time something of theirs is
sealed, written durably (`synchronous=FULL`) before the data that needs it.

`Keyring` is the store's cipher (`state.storage.Cipher`): it opens values sealed with a
person's key (found by the id the value names) and values from before person keys
(sealed with the operator key directly); `person(user_id)` is the cipher that seals with
one person's key. Unwrapped keys are cached (at most `CACHE_SIZE`, each for `CACHE_TTL`
seconds); `shred` deletes keys and drops them from the cache at once, and any change to
the key store by another process (`PRAGMA data_version`) empties the cache.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from state.storage import Cipher
from state.store.crypto import DataCipher, DataKeyError, PersonKey, person_key_id, unwrap, wrap

__all__ = ["CACHE_SIZE", "CACHE_TTL", "SCHEMA", "KeyCheck", "KeyStore", "Keyring", "PersonCipher",
           "PersonKeyMissing", "for_person", "key_store_path", "keyring_for"]

CACHE_SIZE = 4096  # unwrapped keys kept in memory: the people active in the last few minutes
CACHE_TTL = 300.0  # seconds an unwrapped key stays in memory after it was unwrapped
LOOK_EVERY = 1.0  # seconds between looks for other processes' changes when only opening values
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


class PersonKeyMissing(DataKeyError):
    """A value names a person key the key store does not hold: erased, or the wrong key store."""


def key_store_path(database: Path) -> Path:
    """Where a database's key store is: `bot.sqlite3` -> `bot-keys.sqlite3`, beside it."""
    if str(database) == ":memory:":
        return database
    return database.with_name(f"{database.stem}-keys{database.suffix or '.sqlite3'}")


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


@dataclass(frozen=True)
class KeyCheck:
    """The key store at a glance: keys kept, keys the operator key cannot unwrap, keys per operator key."""

    keys: int
    unwrappable: int
    by_operator_key: dict[str, int]


class Keyring:
    """The store's cipher: person keys from the key store, and the operator key for the older values.

    Safe to use from the store's writer thread and the event loop's thread at once (one lock).
    """

    def __init__(self, operator: DataCipher, keys: KeyStore, *, clock: Callable[[], float] = time.monotonic,
                 size: int = CACHE_SIZE, ttl: float = CACHE_TTL) -> None:
        self.operator = operator
        self.keys = keys
        self.clock = clock
        self.size = size
        self.ttl = ttl
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, tuple[PersonKey, int, float]] = OrderedDict()  # key id -> key
        self._key_of: dict[int, str] = {}  # user id -> key id, for what is cached
        self._seen: int | None = None
        self._looked = float("-inf")

    @property
    def count(self) -> int:
        """How many operator keys are given."""
        return self.operator.count

    @property
    def cached(self) -> int:
        """How many unwrapped keys are in memory now."""
        return len(self._cache)

    # -- the Cipher contract -------------------------------------------------------------

    def encrypt(self, text: str) -> str:
        """Seal text that belongs to no one person with the operator key (`person` for anyone's)."""
        return self.operator.encrypt(text)

    def decrypt(self, token: str) -> str:
        """Open a value sealed with a person's key (named in it) or, from before, the operator key."""
        kid = person_key_id(token)
        if kid is None:
            return self.operator.decrypt(token)
        return self._by_key(kid).open(token)

    def rotate(self, token: str) -> str:
        """Values sealed with a person key stay as they are (rotation re-wraps keys); older ones re-seal."""
        return token if person_key_id(token) is not None else self.operator.rotate(token)

    # -- people's keys ---------------------------------------------------------------------

    def person(self, user_id: int) -> PersonCipher:
        """The cipher that seals with this person's key (made when first used)."""
        return PersonCipher(self, user_id)

    def key_for(self, user_id: int) -> PersonKey:
        """A person's data key, unwrapped (cached), made and stored durably if they have none."""
        with self._lock:
            self._check_elsewhere()
            kid = self._key_of.get(user_id)
            if kid is not None and (key := self._cached(kid)) is not None:
                return key
            row = self.keys.find(user_id)
            if row is None:
                key, secret = PersonKey.new()
                row = self.keys.add(user_id, key.kid, wrap(self.operator, secret),
                                    self.operator.key_ids[0], time.time())
            return self._keep(row[0], user_id, row[1])

    def ensure(self, user_ids: Iterable[int]) -> None:
        """Make keys, in one transaction, for those of these people who have none (moving many over)."""
        with self._lock:
            have = {uid for uid, _, _, _ in self.keys.rows()}
            now, wrapper = time.time(), self.operator.key_ids[0]
            rows = []
            for uid in sorted(set(user_ids) - have):
                key, secret = PersonKey.new()
                rows.append((uid, key.kid, wrap(self.operator, secret), wrapper, now))
            if rows:
                self.keys.add_many(rows)

    def shred(self, user_ids: Iterable[int]) -> int:
        """Destroy people's keys (so all their sealed data is unreadable) and forget them here; how many."""
        ids = list(user_ids)
        with self._lock:
            for uid in ids:
                kid = self._key_of.pop(uid, None)
                if kid is not None:
                    self._cache.pop(kid, None)
            return self.keys.remove(ids)

    def rewrap(self, operator: DataCipher) -> int:
        """Wrap every person key with this operator's first key (the data stays as it is); how many.

        Raises DataKeyError, changing nothing, when a key opens with none of its keys.
        """
        with self._lock:
            rows = self.keys.rows()
            fresh = [(operator.rotate(wrapped), operator.key_ids[0], uid) for uid, _, wrapped, _ in rows]
            self.keys.rewrap(fresh)
            self.operator = operator
            self._seen = None
            return len(fresh)

    def check(self, *, every: bool = True) -> KeyCheck:
        """Count the keys by the operator key that wrapped them, and those no given key unwraps."""
        by: dict[str, int] = {}
        bad = tried = 0
        with self._lock:
            for _, _, wrapped, wrapped_by in self.keys.rows():
                by[wrapped_by] = by.get(wrapped_by, 0) + 1
                if every or tried == 0:
                    tried += 1
                    bad += self.operator.opener(wrapped) is None
        return KeyCheck(sum(by.values()), bad, by)

    def close(self) -> None:
        """Forget every unwrapped key and close the key store."""
        with self._lock:
            self._cache.clear()
            self._key_of.clear()
            self.keys.close()

    # -- the cache ---------------------------------------------------------------------------

    def _by_key(self, kid: str) -> PersonKey:
        with self._lock:
            # Opening with a key another process destroyed a moment ago reads only what it
            # erased; sealing with one would lose new data, so `key_for` looks every time.
            if self.clock() - self._looked >= LOOK_EVERY:
                self._check_elsewhere()
            key = self._cached(kid)
            if key is not None:
                return key
            found = self.keys.find_key(kid)
            if found is None:
                raise PersonKeyMissing(
                    "this value was sealed with a person key the key store does not hold: the"
                    " person's data was erased (it cannot be read any more), or the key store"
                    f" {self.keys.path} is not the one this database was written with")
            return self._keep(kid, found[0], found[1])

    def _cached(self, kid: str) -> PersonKey | None:
        entry = self._cache.get(kid)
        if entry is None:
            return None
        key, uid, at = entry
        if self.clock() - at > self.ttl:
            del self._cache[kid]
            self._key_of.pop(uid, None)
            return None
        self._cache.move_to_end(kid)
        return key

    def _keep(self, kid: str, user_id: int, wrapped: str) -> PersonKey:
        key = PersonKey(kid, unwrap(self.operator, wrapped))
        self._cache[kid] = (key, user_id, self.clock())
        self._key_of[user_id] = kid
        while len(self._cache) > self.size:
            _, (_, old, _) = self._cache.popitem(last=False)
            self._key_of.pop(old, None)
        return key

    def _check_elsewhere(self) -> None:
        """Empty the cache when another process changed the key store (erased someone, say)."""
        version = self.keys.version()
        self._looked = self.clock()
        if version != self._seen:
            self._cache.clear()
            self._key_of.clear()
            self._seen = version


class PersonCipher:
    """A `Cipher` that seals with one person's data key and opens anything the keyring opens."""

    def __init__(self, keyring: Keyring, user_id: int) -> None:
        self.keyring = keyring
        self.user_id = user_id

    def encrypt(self, text: str) -> str:
        """Seal text with this person's key."""
        return self.keyring.key_for(self.user_id).seal(text)

    def decrypt(self, token: str) -> str:
        """Open a value sealed with a person key or the operator key."""
        return self.keyring.decrypt(token)

    def rotate(self, token: str) -> str:
        """The value sealed with this person's key (one sealed with it already stays as it is)."""
        kid = person_key_id(token)
        if kid is not None and kid == self.keyring.key_for(self.user_id).kid:
            return token
        return self.encrypt(self.keyring.decrypt(token))


def for_person(cipher: Cipher | None, user_id: int) -> Cipher | None:
    """The cipher to seal a person's values with: their own key's, when the store has a keyring."""
    return cipher.person(user_id) if isinstance(cipher, Keyring) else cipher


def keyring_for(database: Path, cipher: Cipher | None) -> Cipher | None:
    """The store's cipher for a database: an operator key becomes a keyring on its key store."""
    if isinstance(cipher, DataCipher):
        return Keyring(cipher, KeyStore(key_store_path(database)))
    return cipher
