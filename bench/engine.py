"""Engine cost per message, engine and store together, with 1,000 / 10,000 / 100,000 people stored.

For each size, a SQLite database is filled with that many people, each at a random step of
the bundled curriculum where the bot waits for them, stored as the bot leaves someone after
their last message at a random moment of the last 30 days: counted in that week's active
total, with their one nudge planned (or sent, when that moment is over three days ago).
Then messages go to random people, each one what that person would plausibly do next (press a
button of the question they are on, sometimes type): the worst case for any cache, as
every message may touch a different row. Each message is timed through
`Conversations.handle` (load, engine, save, commit: one transaction), and the engine's own
share is timed inside it. Printed: median and p99 per message, the engine's and the
store's medians, and the share of turns run on the event loop's own connection (the rest
went to the writer's thread: `state.store.inline`); and, apart, the write that records a
reply sent whole (`Conversations.replied`, after the sends: `state.service.redelivery`).
With --key the progress is stored encrypted (Fernet), as in production.

    .venv/bin/python bench/engine.py [--users 1000,10000,100000] [--messages 5000] [--key]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from state.contracts import NUDGE, Input, Press, Progress, Reply, TextIn
from state.curriculum.loader import load_curriculum
from state.curriculum.schema import ChecklistStep, ChoiceStep, MessageStep, QuizStep, ScaleStep, TextStep
from state.engine.between_sessions.schedule import ReminderPrefs, nudge_due
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.store.crypto import DataCipher, new_key
from state.store.progress import SqliteProgressStore, iso_week

CURRICULUM = Path(__file__).resolve().parent.parent / "curriculum"
TARGET_MEDIAN_US, TARGET_P99_US = 200, 2000
DAY = 86400.0
NUDGE_DAYS = 3  # the default reminders.nudge_after_days
ANSWERS = ["evenings after work", "I'd like more time together", "7", "not sure",
           "We could cook together on Sunday."]
PROFILE = {"consent": "yes", "loved_one": "Sam", "relationship": "partner", "substance": "alcohol",
           "safety_fear": "no", "safety_weapons": "no", "shared_phone": "no",
           "trigger_time": "evenings after work", "wish": "I'd like more time together"}


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def next_input(reply: Reply, rng: random.Random) -> Input:
    """What a person plausibly does next: press an offered button, or type an answer."""
    buttons = [b for m in [*reply.messages, *([reply.edit] if reply.edit else [])]
               for row in m.buttons for b in row]
    if buttons and rng.random() < 0.9:
        return Press(rng.choice(buttons).data, "the pressed message")
    return TextIn(rng.choice(ANSWERS))


def seed(path: Path, engine: Engine, users: int, cipher: DataCipher | None,
         now: float) -> dict[int, Progress]:
    """Store `users` people at random steps where the bot waits for them; return their progress."""
    content = engine.curriculum.content(None)
    places = [(m.id, s.id) for m in content.modules.values() for s in m.steps
              if isinstance(s, ChoiceStep | QuizStep | ScaleStep | ChecklistStep | TextStep)
              or (isinstance(s, MessageStep) and s.button)]
    prefs = ReminderPrefs.of(PROFILE, content.locale.defaults if content.locale else {})
    rng = random.Random(1)
    people: dict[int, Progress] = {}
    rows, sent, weeks = [], [], Counter[str]()
    for uid in range(1, users + 1):
        module, step = rng.choice(places)
        last = now - rng.uniform(0, 30 * DAY)  # their last message
        progress = Progress(user_id=uid, module=module, step=step, seq=rng.randint(1, 300),
                            answers=dict(PROFILE), positions={module: step},
                            completed={"onboarding": last - 7 * DAY}, created_at=last - 7 * DAY,
                            updated_at=last, version=engine.version)
        people[uid] = progress
        data = json.dumps(vars(progress), separators=(",", ":"))
        week = iso_week(last)
        weeks[week] += 1
        nudge: tuple[float | None, str | None] = (None, None)
        if module != content.onboarding.id:  # the one nudge, as `state.service.orders` plans it
            ref, due = f"{module}:{step}", nudge_due(prefs, last, NUDGE_DAYS)
            if due < now:
                sent.append((uid, NUDGE, due, ref, "sent", due))
            else:
                nudge = (due, ref)
        rows.append((uid, cipher.encrypt(data) if cipher else data, module, step, engine.version,
                     progress.created_at, last, week, *nudge))
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO users (user_id, data, module, step, version, created_at, updated_at,"
                   " active_week, nudge_due, nudge_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.executemany("INSERT INTO reminders (user_id, kind, due_at, ref, status, created_at)"
                   " VALUES (?, ?, ?, ?, ?, ?)", sent)
    db.executemany("INSERT INTO weekly_active (week, users) VALUES (?, ?)", weeks.items())
    db.commit()
    db.close()
    return people


async def measure(engine: Engine, users: int, messages: int, cipher: DataCipher | None) -> dict[str, float]:
    """Time `messages` messages to random people among `users` stored."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        await (await SqliteProgressStore(path).open()).close()  # the schema
        clock = [1_800_000_000.0]
        people = seed(path, engine, users, cipher, clock[0])
        store = await SqliteProgressStore(path, cipher).open()
        conversations = Conversations(engine, store, clock=lambda: clock[0])
        inner: list[float] = []
        handle = engine.handle

        def timed(progress: Progress, message: Input, now: float) -> Reply:
            t0 = time.perf_counter()
            reply = handle(progress, message, now)
            inner.append(time.perf_counter() - t0)
            return reply

        engine.handle = timed  # type: ignore[method-assign]
        rng = random.Random(2)
        replies: dict[int, Reply] = {}
        total: list[float] = []
        done: list[float] = []
        try:
            for i in range(messages):
                uid = rng.randint(1, users)
                reply = replies.get(uid) or engine.current_question(people[uid], clock[0])
                message = next_input(reply, rng)
                clock[0] += 0.01
                t0 = time.perf_counter()
                answer = await conversations.handle(uid, message, update_id=i + 1, language="en")
                total.append(time.perf_counter() - t0)
                if answer is not None:
                    t0 = time.perf_counter()
                    await conversations.replied(uid, answer)  # the kept reply recorded done
                    done.append(time.perf_counter() - t0)
                    if answer.messages:
                        replies[uid] = answer
        finally:
            engine.handle = handle  # type: ignore[method-assign]
            inline = store.inline.begun / max(1, store.inline.begun + store.inline.declined)
            await store.close()
    store_part = [t - e for t, e in zip(total, inner, strict=True)]
    return {"inline": inline, "median": percentile(total, 50), "p99": percentile(total, 99),
            "max": max(total),
            "engine": percentile(inner, 50), "engine_p99": percentile(inner, 99),
            "store": percentile(store_part, 50), "store_p99": percentile(store_part, 99),
            "done": percentile(done, 50), "done_p99": percentile(done, 99)}


def main() -> None:
    """Measure each size and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", default="1000,10000,100000", help="comma-separated sizes")
    parser.add_argument("--messages", type=int, default=5000, help="messages timed per size")
    parser.add_argument("--key", action="store_true", help="store progress encrypted (production)")
    parser.add_argument("--curriculum", type=Path, default=CURRICULUM)
    args = parser.parse_args()
    if os.environ.get("BENCH_QUICK"):
        args.users, args.messages = "1000,10000", 1000
    engine = Engine(load_curriculum(args.curriculum))
    cipher = DataCipher([new_key()]) if args.key else None
    print(f"engine + SQLite store per message ({'encrypted' if cipher else 'plain'} progress),"
          f" {args.messages} messages to random stored people; µs")
    for size in (int(s) for s in args.users.split(",")):
        r = asyncio.run(measure(engine, size, args.messages, cipher))
        us = {k: 1e6 * v for k, v in r.items()}
        verdict = "meets" if us["median"] <= TARGET_MEDIAN_US and us["p99"] <= TARGET_P99_US else "MISSES"
        print(f"{size:>7} stored: median {us['median']:4.0f}, p99 {us['p99']:5.0f}, max {us['max']:6.0f}"
              f" | engine median {us['engine']:4.0f} (p99 {us['engine_p99']:4.0f}),"
              f" store median {us['store']:4.0f} (p99 {us['store_p99']:4.0f}),"
              f" {r['inline']:.1%} of turns on the event loop's connection"
              f" | reply done median {us['done']:4.0f} (p99 {us['done_p99']:4.0f})"
              f" | target median <= {TARGET_MEDIAN_US}, p99 <= {TARGET_P99_US}: {verdict}", flush=True)


if __name__ == "__main__":
    main()
