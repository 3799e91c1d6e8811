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

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from state.storage import Cipher
from state.store.crypto import DataCipher, DataKeyError, PersonKey, person_key_id, unwrap, wrap
from state.store.dialect import Location
from state.store.keystore import SCHEMA, KeyRecords, KeyStore, key_store_path

__all__ = [
    "CACHE_SIZE",
    "CACHE_TTL",
    "SCHEMA",
    "KeyCheck",
    "KeyRecords",
    "KeyStore",
    "Keyring",
    "NoKeyStore",
    "PersonCipher",
    "PersonKeyMissing",
    "for_person",
    "key_records",
    "key_store_path",
    "keyring_for",
]

CACHE_SIZE = 4096  # unwrapped keys kept in memory: the people active in the last few minutes
CACHE_TTL = 300.0  # seconds an unwrapped key stays in memory after it was unwrapped
LOOK_EVERY = 1.0  # seconds between looks for other processes' changes when only opening values


class PersonKeyMissing(DataKeyError):
    """A value names a person key the key store does not hold: erased, or the wrong key store."""


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

    def __init__(self, operator: DataCipher, keys: KeyRecords, *, clock: Callable[[], float] = time.monotonic,
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


def key_records(database: Path | Location, keys_url: str | None = None) -> KeyRecords:
    """A database's key store: the SQLite file beside it, or (on PostgreSQL) the database at `keys_url`."""
    where = database if isinstance(database, Location) else Location(path=database)
    if where.url is None:
        return KeyStore(key_store_path(where.path or Path(":memory:")))
    if not keys_url:
        raise NoKeyStore(
            "a data key on PostgreSQL needs storage.keys_url (CRAFTBOT_STORAGE__KEYS_URL): a PostgreSQL"
            " database of its own for the person keys, so that erasing someone destroys their key"
            " everywhere (docs/operations.md, \"Scaling out\")")
    if Location.parse(keys_url).url is None:
        raise NoKeyStore("storage.keys_url must be a postgresql:// URL")
    if keys_url == where.url:
        raise NoKeyStore("storage.keys_url must name another database than storage.url:"
                         " a key kept with the data lives on in its backups and WAL")
    from state.store.pgkeys import PgKeyStore  # psycopg: only where PostgreSQL is used

    return PgKeyStore(keys_url)


class NoKeyStore(ValueError):
    """A data key was given for a PostgreSQL store without a key database of its own."""


def keyring_for(database: Path | Location, cipher: Cipher | None,
                keys_url: str | None = None) -> Cipher | None:
    """The store's cipher for a database: an operator key becomes a keyring on its key store."""
    if isinstance(cipher, DataCipher):
        return Keyring(cipher, key_records(database, keys_url))
    return cipher
