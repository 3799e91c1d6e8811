"""Dispatching 100,000 due reminders through the pacer, in simulated time: none lost, none doubled.

Seeds a database with people who finished onboarding and have homework (in five time
zones, one of them in its quiet hours at the start), and 100,000 due reminders: a homework
check-in each, and for some people a daily check-in too (two messages to one chat). Then
runs the real dispatcher (`bot.ptb.reminders.Scheduler`: claim, word through the engine and
`Conversations.handle`, pace, send, mark) against a fake Telegram that answers "retry
after" now and then and refuses people who blocked the bot. Time is simulated
(`state.service.pacing.SimulatedTime`): the pacer's waits cost nothing, the database work is real.

Prints what was sent, deferred, refused; duplicates and losses (both must be 0); the
rate achieved in simulated time, the busiest second overall and the closest two messages
to one chat; and the wall-clock cost.

    .venv/bin/python bench/reminders.py [--reminders 100000] [--workers 8] [--per-second 25]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.ptb.reminders import RetryLater, Scheduler, Unreachable
from state.contracts import Message, Progress
from state.curriculum.loader import load_curriculum
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.service.pacing import Pacer, SimulatedTime
from state.store.progress import SqliteProgressStore

CURRICULUM = Path(__file__).resolve().parent.parent / "curriculum"
START = datetime(2024, 5, 8, 18, 0, tzinfo=ZoneInfo("UTC")).timestamp()  # 14:00 in New York
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London"]
QUIET_ZONE = "Asia/Tokyo"  # 03:00 there at START: those reminders must wait for 09:00
FLOOD_EVERY = 5_000  # every so many sends, Telegram answers "retry after"
FLOOD_SECONDS = 3.0
BLOCKED_EVERY = 500  # every so many people blocked the bot


class FakeTelegram:
    """Takes messages (recording the reminder each belongs to), or refuses as Telegram does.

    Each message is recorded at the time the pacer let it go: with several workers sharing
    simulated time, the clock may already be past that slot when the call is made.
    """

    def __init__(self, time: SimulatedTime, blocked: set[int]) -> None:
        self.time = time
        self.pacer: Pacer | None = None
        self.blocked = blocked
        self.sent: list[tuple[float, int, int]] = []  # (when, chat, reminder id)
        self.calls = 0
        self.floods = 0

    async def send(self, chat_id: int, message: Message) -> None:
        self.calls += 1
        if chat_id in self.blocked:
            raise Unreachable("Forbidden: bot was blocked by the user")
        if self.calls % FLOOD_EVERY == 0:
            self.floods += 1
            raise RetryLater(FLOOD_SECONDS)
        data = next(b.data for row in message.buttons for b in row if b.data.startswith("r:"))
        slot = self.pacer.last_slot(chat_id) if self.pacer else None
        self.sent.append((self.time.now() if slot is None else slot, chat_id, int(data.split(":")[1])))


def seed(path: Path, engine: Engine, reminders: int) -> tuple[int, int]:
    """People with homework, and their due reminders; (people, people in quiet hours)."""
    people = int(reminders / 1.1)  # one in ten also has a daily check-in due
    users, rows = [], []
    quiet = 0
    for uid in range(1, people + 1):
        zone = QUIET_ZONE if uid % 100 == 0 else ZONES[uid % len(ZONES)]
        quiet += zone == QUIET_ZONE
        daily = uid <= reminders - people
        answers = {"loved_one": "Sam", "relationship": "partner", "substance": "alcohol",
                   "shared_phone": "no", "timezone": zone, "reminder_time": "13:00",
                   "homework": "Notice one sober moment this week.", "homework_module": "orientation",
                   "homework_set_at": START - 3 * 86400, "homework_check_in_days": 3,
                   **({"checkin_every": "daily"} if daily else {})}
        progress = Progress(user_id=uid, answers=answers, completed={"onboarding": START - 4 * 86400},
                            created_at=START - 4 * 86400, updated_at=START - 3 * 86400,
                            version=engine.version)
        users.append((uid, json.dumps(progress.to_json(), separators=(",", ":")), None, None,
                      engine.version, progress.created_at, progress.updated_at))
        due = START - 3600 + (uid % 3600)
        rows.append((uid, "homework", due, f"orientation@{int(START - 3 * 86400)}", START - 86400))
        if daily:
            rows.append((uid, "checkin", due, "", START - 86400))
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO users (user_id, data, module, step, version, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", users)
    db.executemany("INSERT INTO reminders (user_id, kind, due_at, ref, created_at) VALUES (?, ?, ?, ?, ?)",
                   rows)
    db.commit()
    db.close()
    return people, quiet


def busiest_second(times: list[float]) -> int:
    """The most sends in any one-second window."""
    times.sort()
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0 - 1e-6:  # a window of one second, floating-point safe
            start += 1
        best = max(best, end - start + 1)
    return best


async def run(reminders: int, workers: int, per_second: float) -> int:
    logging.getLogger("craftbot.reminders").setLevel(logging.ERROR)  # the waits are counted below
    engine = Engine(load_curriculum(CURRICULUM))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        await (await SqliteProgressStore(path).open()).close()
        people, quiet_people = seed(path, engine, reminders)
        total = sqlite3.connect(path).execute("SELECT count(*) FROM reminders").fetchone()[0]
        print(f"seeded: {people:,} people, {total:,} due reminders"
              f" ({total - people:,} people have two), {quiet_people:,} people in quiet hours")

        clock = SimulatedTime(START)
        blocked = {uid for uid in range(1, people + 1) if uid % BLOCKED_EVERY == 7}
        telegram = FakeTelegram(clock, blocked)
        store = await SqliteProgressStore(path).open()
        conversations = Conversations(engine, store, clock.now)
        pacer = Pacer(per_second, 1.0, now=clock.now, sleep=clock.sleep)
        telegram.pacer = pacer
        scheduler = Scheduler(conversations, telegram, clock=clock.now, workers=workers, batch=500,
                              pacer=pacer)
        wall, cpu = time.perf_counter(), time.process_time()
        first = await scheduler.run_due()
        simulated = clock.now() - START
        clock.t = START + 6 * 3600 + 60  # 09:01 in Tokyo: quiet hours are over
        second = await scheduler.run_due()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        statuses = await scheduler.reminders.count_by_status()
        await store.close()

    sent_ids = Counter(rid for _, _, rid in telegram.sent)
    doubled = sum(n - 1 for n in sent_ids.values() if n > 1)
    accounted = len(sent_ids) + statuses.get("failed", 0) + statuses.get("cancelled", 0)
    lost = total - accounted
    per_chat: dict[int, list[float]] = defaultdict(list)
    for when, chat, _ in telegram.sent:
        per_chat[chat].append(when)
    gaps = [b - a for times in per_chat.values() if len(times) > 1
            for a, b in zip(sorted(times), sorted(times)[1:], strict=False)]
    first_pass = [when for when, _, _ in telegram.sent if when < START + 6 * 3600]
    rate = len(first_pass) / (max(first_pass) - min(first_pass)) if len(first_pass) > 1 else 0.0

    print(f"pass 1 (now):            {first.claimed:,} claimed, {first.sent:,} sent, {first.deferred:,}"
          f" deferred to the end of quiet hours, {first.unreachable:,} blocked")
    print(f"pass 2 (Tokyo 09:01):    {second.claimed:,} claimed, {second.sent:,} sent")
    print(f"'retry after' {FLOOD_SECONDS:g} s: {telegram.floods} asked, {first.retries + second.retries}"
          f" waited out and sent again")
    print(f"statuses in the database: {dict(sorted(statuses.items()))}"
          f" (pending: the next daily check-ins, planned as each one was sent)")
    print(f"duplicates: {doubled}    lost: {lost}    (reminders {total:,} = sent {len(sent_ids):,}"
          f" + failed {statuses.get('failed', 0):,} + cancelled for blocked people"
          f" {statuses.get('cancelled', 0):,})")
    print(f"rate achieved: {rate:.2f} messages/s over {simulated / 60:.1f} simulated minutes"
          f" (limit {per_second:g}/s); busiest second: {busiest_second(first_pass)} messages;"
          f" closest two to one chat: {min(gaps):.2f} s ({len(gaps):,} chats had two)")
    print(f"wall clock: {wall:.1f} s ({1e6 * wall / max(1, total):.0f} µs per reminder),"
          f" CPU {cpu:.1f} s; {workers} workers")
    ok = doubled == 0 and lost == 0 and busiest_second(first_pass) <= per_second and min(gaps) >= 1.0
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--per-second", type=float, default=25.0)
    args = parser.parse_args()
    if os.environ.get("BENCH_QUICK"):  # `make bench-quick`: only check that it runs
        args.reminders = min(args.reminders, 5_000)
    return asyncio.run(run(args.reminders, args.workers, args.per_second))


if __name__ == "__main__":
    sys.exit(main())
