"""Engine cost per message and memory per stored user (issue 2's design constraint).

Builds a database of N stored users (default 100,000) with realistic progress, then plays
random users through the bundled curriculum via `Conversations.handle` (engine + SQLite
store, one transaction per message) and via `Engine.handle` alone. Prints median and p99
per-message cost, the cost of building the machine, and resident memory before and after
the users were stored and touched: idle users must cost no memory.

    .venv/bin/python bench/engine.py [--users 100000] [--messages 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from state.engine import Engine
from state.loader import load_curriculum
from state.progress import Command, Input, Press, Progress, Reply, TextIn
from state.service import Conversations
from state.store import SqliteProgressStore

CURRICULUM = Path(__file__).resolve().parent.parent / "curriculum"


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def next_input(reply: Reply | None, rng: random.Random) -> Input:
    """What a user plausibly does next: press one of the offered buttons, or type."""
    buttons = [b for m in (reply.messages if reply else []) for row in m.buttons for b in row]
    if buttons and rng.random() < 0.9:
        return Press(rng.choice(buttons).data)
    return TextIn(rng.choice(["evenings", "I'd like more time together", "7", "not sure"]))


def seed(path: Path, engine: Engine, users: int) -> None:
    """Store `users` users sitting at various steps, as a real database would hold them."""
    content = engine.curriculum.content("en")
    places = [(m.id, s.id) for m in content.modules.values() for s in m.steps]
    rng = random.Random(1)
    rows = []
    for uid in range(1, users + 1):
        module, step = rng.choice(places)
        progress = Progress(user_id=uid, module=module, step=step, seq=rng.randint(1, 300),
                            answers={"loved_one": "Sam", "relationship": "partner",
                                     "substance": "alcohol", "trigger_time": "evenings" * 3},
                            completed={"onboarding": 1.0}, created_at=1.0, updated_at=1.0,
                            version=engine.version)
        data = json.dumps(progress.to_json(), separators=(",", ":"))
        rows.append((uid, data, module, step, engine.version, 1.0, 1.0))
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO users (user_id, data, module, step, version, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


async def measure(root: Path, users: int, messages: int) -> None:
    started = time.perf_counter()
    curriculum = load_curriculum(root)
    loaded = time.perf_counter()
    engine = Engine(curriculum)
    built = time.perf_counter()
    steps = sum(len(m.steps) for c in curriculum.locales.values() for m in c.modules.values())
    print(f"curriculum: {steps} steps; load+validate {1000 * (loaded - started):.1f} ms,"
          f" machine build {1000 * (built - loaded):.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        store = await SqliteProgressStore(path).open()
        rss_empty = rss_mb()
        await store.close()
        seed(path, engine, users)
        store = await SqliteProgressStore(path).open()
        conversations = Conversations(engine, store)
        rng = random.Random(2)
        replies: dict[int, Reply | None] = {}
        # Each message goes to a random stored user: the worst case for any cache.
        total, engine_only = [], []
        for i in range(messages):
            uid = rng.randint(1, users)
            message = next_input(replies.get(uid), rng) if uid in replies else Command("start")
            t0 = time.perf_counter()
            replies[uid] = await conversations.handle(uid, message, update_id=i + 1)
            total.append(time.perf_counter() - t0)
        rss_after = rss_mb()
        progress = await store.load(1) or engine.new_progress(1, "en", 0.0)
        await store.close()
    reply: Reply | None = None
    for _ in range(messages):
        message = next_input(reply, rng)
        t0 = time.perf_counter()
        reply = engine.handle(progress, message, 2.0)
        engine_only.append(time.perf_counter() - t0)
    report("engine + SQLite store (per message)", total)
    report("engine alone (per message)", engine_only)
    print(f"users stored: {users}; RSS {rss_empty:.1f} MB before storing them,"
          f" {rss_after:.1f} MB after {messages} messages to random users"
          f" ({1024 * (rss_after - rss_empty) / users:.2f} KB per stored user)")


def report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(f"{label}: median {1e6 * statistics.median(ordered):.0f} µs,"
          f" p99 {1e6 * p99:.0f} µs, n={len(ordered)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--curriculum", type=Path, default=CURRICULUM)
    args = parser.parse_args()
    asyncio.run(measure(args.curriculum, args.users, args.messages))


if __name__ == "__main__":
    main()
