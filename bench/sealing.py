"""What person keys cost: sealing and opening, a turn through the store, rotation, erasure; side by side.

"before" is sealing with the operator key alone (Fernet), as the store did before person keys:
the store is given a cipher that is not a `DataCipher`, so it keeps it as it is. "after" is
the store as it is now: each person's values sealed with their own AES-256-GCM key, unwrapped
from the key store and cached (`state.store.keyring`). "after, cold" empties the cache before
every operation: a key store read and an unwrap (one Fernet decrypt) each time, the cost for
someone not seen in the last five minutes.

Printed, per operation: median and p99 in microseconds.

- seal / open: one progress blob (about 1.5 kB of JSON), no database;
- turn: `session()` for a random person of --users (read, open, seal, write, commit);
- new person: the first save of someone new (a key made, wrapped, written with fsync);
- rotate: every key (after) or every value (before) re-sealed with a new operator key, in total;
- erase: `privacy.erase` of one person (after: their key destroyed first);
- moving over: opening a database written before person keys seals every value with them.

    .venv/bin/python bench/sealing.py [--users 1000] [--turns 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from state.contracts import Event, Progress
from state.store.crypto import DataCipher, new_key
from state.store.dialect import Connection
from state.store.keyring import Keyring, KeyStore
from state.store.privacy import PrivacyData
from state.store.progress import SqliteProgressStore

NEW_PEOPLE = 200  # first saves timed per store
ERASED = 100  # erasures timed per store, at most half of --users
ANSWERS = {f"answer_{n}": "We could cook together on Sunday, and walk after." for n in range(24)}


class OperatorOnly:
    """The operator key used directly, as before person keys (not a DataCipher, so kept as it is)."""

    def __init__(self, cipher: DataCipher) -> None:
        self.cipher = cipher

    def encrypt(self, text: str) -> str:
        return self.cipher.encrypt(text)

    def decrypt(self, token: str) -> str:
        return self.cipher.decrypt(token)

    def rotate(self, token: str) -> str:
        return self.cipher.rotate(token)


def rotate_every_value(db: Connection, cipher: DataCipher) -> None:
    """Rotation before person keys: every sealed value re-encrypted with the new key."""
    for table, key, column in (("users", "user_id", "data"), ("checkins", "id", "data"),
                               ("events", "id", "detail")):
        rows = db.execute(f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL").fetchall()
        db.executemany(f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                       [(cipher.rotate(value), row_id) for row_id, value in rows])


def stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(run: Callable[[], object], n: int, before: Callable[[], object] | None = None) -> list[float]:
    samples = []
    for _ in range(n):
        if before is not None:
            before()
        start = time.perf_counter_ns()
        run()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


async def atimed(run: Callable[[], Awaitable[object]], n: int,
                 before: Callable[[], object] | None = None) -> list[float]:
    samples = []
    for _ in range(n):
        if before is not None:
            before()
        start = time.perf_counter_ns()
        await run()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def progress(user_id: int) -> Progress:
    return Progress(user_id=user_id, module="basics", step="intro", created_at=1.0,
                    updated_at=time.time(), answers=dict(ANSWERS))


async def filled(folder: Path, name: str, cipher: object, users: int) -> SqliteProgressStore:
    store = await SqliteProgressStore(folder / f"{name}.sqlite3", cipher).open()  # type: ignore[arg-type]
    for user_id in range(1, users + 1):
        await store.save(progress(user_id), [Event("crisis", None, None, "violence")])
    return store


async def turn(store: SqliteProgressStore, user_id: int) -> None:
    async with store.session(user_id) as session:
        assert session.progress is not None
        session.save(session.progress, [])


async def main(users: int, turns: int) -> None:
    key = new_key()
    operator = DataCipher.from_text(key)
    assert operator is not None
    rows: list[list[str]] = []

    def row(what: str, before: tuple[float, float] | None, after: tuple[float, float],
            cold: tuple[float, float] | None = None) -> None:
        cells = [f"{m:8.1f} {p:8.1f}" if m_p else f"{'-':>8} {'-':>8}"
                 for m_p in (before, after, cold) for m, p in [m_p or (0.0, 0.0)]]
        rows.append([what, *cells])

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        text = json.dumps(vars(progress(1)))
        keyring = Keyring(operator, KeyStore(folder / "micro-keys.sqlite3"))
        person = keyring.person(1)
        legacy, sealed = operator.encrypt(text), person.encrypt(text)
        row("seal a progress blob", stats(timed(lambda: operator.encrypt(text), turns)),
            stats(timed(lambda: person.encrypt(text), turns)),
            stats(timed(lambda: person.encrypt(text), turns // 4, before=keyring._cache.clear)))
        row("open a progress blob", stats(timed(lambda: operator.decrypt(legacy), turns)),
            stats(timed(lambda: keyring.decrypt(sealed), turns)),
            stats(timed(lambda: keyring.decrypt(sealed), turns // 4, before=keyring._cache.clear)))
        keyring.close()

        old = await filled(folder, "before", OperatorOnly(operator), users)
        new = await filled(folder, "after", operator, users)
        assert isinstance(new.cipher, Keyring)
        ring = new.cipher
        picks = [random.randint(1, users) for _ in range(turns)]
        it = iter(picks * 3)
        before_turn = stats(await atimed(lambda: turn(old, next(it)), turns))
        after_turn = stats(await atimed(lambda: turn(new, next(it)), turns))
        cold_turn = stats(await atimed(lambda: turn(new, next(it)), turns // 4, before=ring._cache.clear))
        row(f"turn ({users} people)", before_turn, after_turn, cold_turn)

        fresh = iter(range(users + 1, users + 1 + 2 * NEW_PEOPLE))  # what is timed, not --turns
        row("first save of someone new",
            stats(await atimed(lambda: old.save(progress(next(fresh)), []), NEW_PEOPLE)),
            stats(await atimed(lambda: new.save(progress(next(fresh)), []), NEW_PEOPLE)))

        erased = min(ERASED, users // 2)  # each store erases its own people, never twice
        gone = iter(range(1, users + 1))
        row("erase one person", stats(await atimed(lambda: old.privacy.erase(next(gone)), erased)),
            stats(await atimed(lambda: new.privacy.erase(next(gone)), erased)))

        newer = DataCipher.from_text(f"{new_key()},{key}")
        assert newer is not None
        start = time.perf_counter()
        await old.write(lambda db: rotate_every_value(db, newer))
        before_rotate = (time.perf_counter() - start) * 1e6
        start = time.perf_counter()
        await PrivacyData(new).rotate(newer)
        after_rotate = (time.perf_counter() - start) * 1e6
        count = await new.count_users()
        row(f"rotate ({count} people), total", (before_rotate, before_rotate), (after_rotate, after_rotate))
        await old.close()
        await new.close()

        moved = await filled(folder, "moved", OperatorOnly(operator), users)  # as before person keys
        await moved.close()
        start = time.perf_counter()
        moved = await SqliteProgressStore(folder / "moved.sqlite3", operator).open()  # moves them over
        move = time.perf_counter() - start
        await moved.close()

    print(f"person keys vs the operator key alone; µs, median and p99 ({turns} turns, {users} people)")
    print(f"{'':32} {'before (operator key)':>17}  {'after (person key)':>17}  {'after, cold cache':>17}")
    for what, *cells in rows:
        print(f"{what:32} {cells[0]}  {cells[1]}  {cells[2]}")
    print(f"moving {users} people ({2 * users} values) from the operator key to person keys, once at"
          f" open: {move * 1e3:.0f} ms in all, {move / (2 * users) * 1e6:.1f} µs a value")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=2000)
    options = parser.parse_args()
    if options.users < 2 or options.turns < 4:  # a quarter of --turns is timed cold; two stores erase
        parser.error("--users must be at least 2 and --turns at least 4")
    asyncio.run(main(options.users, options.turns))
