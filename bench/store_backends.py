"""Database time per turn, SQLite against PostgreSQL, in the same run on the same machine.

A turn here is what the conversation service asks of the store for one message, without
the engine: read the person's row in a write transaction (`ProgressStore.session`), write
it back with one event, commit. Each backend gets the same people (`--users`, filled
first) and the same random sequence of turns (`--turns`), timed one by one, the client in
this process. PostgreSQL is a throwaway server started here (tests/kit/postgres.py) with
fsync on, on the same disk and the same 2 cores, over TCP on 127.0.0.1; it is measured
twice: with `synchronous_commit = off` (what SQLite's `synchronous=NORMAL` in WAL mode
promises: a crash of the machine may lose the last moments, never corrupt) and with the
default `on` (each commit waits for its WAL flush). With --key the progress is sealed
with a person key, as in production.

    .venv/bin/python bench/store_backends.py [--users 1000] [--turns 3000] [--key]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from state.contracts import Event, Progress
from state.store.crypto import DataCipher, new_key
from state.store.progress import ProgressStore
from tests.kit.postgres import PostgresServer, find_bindir


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def person(user_id: int) -> Progress:
    """Someone part-way through: a few answers, as the bot stores after onboarding and a module."""
    return Progress(user_id=user_id, module="basics", step="reasons", seq=12,
                    answers={"loved_one": "Sam", "relationship": "partner", "substance": "alcohol",
                             "trigger_time": "evenings after work", "wish": "more time together"},
                    created_at=1_700_000_000.0, updated_at=1_700_000_000.0)


async def measure(store: ProgressStore, users: int, order: list[int]) -> list[float]:
    """Fill, then time each turn of `order`; the turns' durations in seconds."""
    for user_id in range(1, users + 1):
        await store.save(person(user_id), [])
    timings = []
    for n, user_id in enumerate(order):
        started = time.perf_counter()
        async with store.session(user_id) as session:
            progress = session.progress or person(user_id)
            progress.seq += 1
            progress.updated_at = 1_700_000_000.0 + n
            session.save(progress, [Event("step_shown", "basics", "reasons")])
        timings.append(time.perf_counter() - started)
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=3000)
    parser.add_argument("--key", action="store_true", help="seal progress with person keys")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        sys.exit("no PostgreSQL here (apt-get install postgresql)")
    rng = random.Random(7)
    order = [rng.randint(1, args.users) for _ in range(args.turns)]
    key = new_key() if args.key else None
    results: dict[str, list[float]] = {}
    server = PostgresServer(bindir, durable=True).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cases: list[tuple[str, str, str | None]] = [("sqlite (WAL, synchronous=NORMAL)",
                                                         str(Path(tmp) / "bench.sqlite3"), None)]
            for commit in ("off", "on"):
                url, keys_url = server.create_database("bench"), server.create_database("keys")
                import psycopg

                name = url.rsplit("/", 1)[1]
                with psycopg.connect(server.url(), autocommit=True) as conn:
                    conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = {commit}')
                cases.append((f"postgresql (synchronous_commit={commit})", url, keys_url))
            for label, where, keys in cases:
                store = await ProgressStore(where, DataCipher([key]) if key else None, keys_url=keys).open()
                results[label] = await measure(store, args.users, order)
                await store.close()
    finally:
        server.stop()
    table = {label: {"p50_us": round(percentile(t, 50) * 1e6), "p99_us": round(percentile(t, 99) * 1e6),
                     "mean_us": round(sum(t) / len(t) * 1e6), "turns_per_s": round(len(t) / sum(t))}
             for label, t in results.items()}
    if args.json:
        print(json.dumps(table, indent=2))
        return
    sealed = "sealed" if key else "not sealed"
    print(f"{args.users} people, {args.turns} turns, {sealed}; database time per turn")
    print(f"{'backend':42} {'p50 µs':>8} {'p99 µs':>8} {'mean µs':>8} {'turns/s':>8}")
    for label, row in table.items():
        print(f"{label:42} {row['p50_us']:>8} {row['p99_us']:>8} {row['mean_us']:>8} {row['turns_per_s']:>8}")


if __name__ == "__main__":
    asyncio.run(main())
