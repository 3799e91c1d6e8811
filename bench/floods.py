"""Floods: replies while a wave of reminders falls due, and everyone else while one chat floods.

Against the local fake Bot API server with Telegram's limits switched on (30 sends a
second overall, about one a second per chat with bursts of 5, 429 with `retry_after`
beyond: tests/kit/botapi_limits.py), the real `craftbot run` process, with its default
outgoing budget (`telegram.max_per_second: 30`). Each scenario runs for this code and for
the loop as it was at `--base` (a commit, default 84985d2, taken out of git into a
temporary folder and run by the same interpreter), side by side in one run.

- wave: `--reminders` reminders (homework check-ins of onboarded people) fall due at
  once while `--chatters` people play the curriculum, pausing `--think` seconds on
  average between turns, and now and then (`--crisis-share` of turns) write words of
  crisis. Measured over `--seconds` from the moment the wave falls due: replies' latency
  (update injected -> first message or edit of the reply accepted by the server), the
  same for crisis replies, the share of the 30/s budget used, the 429s provoked, the
  bot's CPU, how many slow turns came right after a long reply in the same chat
  (Telegram's per-chat pace), and after the bot stops, each reminder delivered at most
  once and none lost (every one is delivered or still waiting in the database);
- burst: `--others` people chat; after `--window` seconds one more person sends
  `--burst` messages at once; the others' reply latency in the window before and the
  window after.

A turn injected in a window is followed for `--grace` seconds more; one still unanswered
then counts as never answered (a p99 of "never").

    .venv/bin/python bench/floods.py [--reminders 20000] [--chatters 200] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness import REPO, User, machine, percentile, play_curriculum, proc_cpu
from _trees import TreeBot, unpack

from tests.kit.botapi_serve import WatchedBotApi

CRISIS_TEXT = "Honestly I want to die some days"
BUDGET = 30.0  # Telegram's sends a second, and the bot's default telegram.max_per_second
QUIET = 1.0  # seconds without a send or edit in a chat: the reply is complete
GIVE_UP = 120.0  # seconds to wait for a reply before giving up on it


class Bot(TreeBot):
    """`craftbot run` from a tree, Telegram's budget on, reminders looked for every second."""

    def __init__(self, server: WatchedBotApi, tree: Path, workdir: Path, reminders: bool) -> None:
        send = "true" if reminders else "false"
        super().__init__(server, tree, workdir, telegram={"max_per_second": int(BUDGET)},
                         extra=f"reminders:\n  send: {send}\n  poll_seconds: 1\n")


@dataclass
class Turn:
    """One update of a chatter and the first message of its reply (perf_counter seconds)."""

    chat: int
    sent: float
    first: float | None
    crisis: bool


@dataclass
class Watch:
    """Everything the server saw, as it happened (the listener runs in the server's thread)."""

    chatters: dict[int, User] = field(default_factory=dict)
    sends: list[float] = field(default_factory=list)  # accepted sends and edits, all chats
    reminders: Counter[int] = field(default_factory=Counter)  # reminder id -> times delivered
    reminder_sends: list[float] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    unanswered: int = 0
    by_chat: dict[int, list[float]] = field(default_factory=dict)  # chatters' sends and edits

    def on(self, kind: str, chat_id: int, msg: dict[str, Any]) -> None:
        """A reaction of the bot reached the server and was accepted."""
        if kind not in ("send", "edit"):
            return
        now = time.perf_counter()
        self.sends.append(now)
        user = self.chatters.get(chat_id)
        if user is not None:
            self.by_chat.setdefault(chat_id, []).append(now)
            user.last = now
            if user.first is None:
                user.first = now
                user.answered.set()
        if kind == "send":
            for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
                data = next((b.get("callback_data", "") for b in row
                             if str(b.get("callback_data", "")).startswith("r:")), "")
                if data:
                    self.reminders[int(data.split(":")[1])] += 1
                    self.reminder_sends.append(now)
                    return

    def paced(self, start: float, end: float, slow: float = 1.0, before: float = 5.0) -> tuple[int, int]:
        """(replies slower than `slow` s, those whose chat had 4+ messages in the `before` s before).

        Telegram lets a chat have about one message a second: a person who writes again
        right after a long reply waits for their own chat's share, whoever else is busy.
        """
        slow_turns = [t for t in self.turns if start <= t.sent < end
                      and (t.first is None or t.first - t.sent > slow)]
        paced = sum(1 for t in slow_turns
                    if sum(1 for x in self.by_chat.get(t.chat, []) if t.sent - before <= x < t.sent) >= 4)
        return len(slow_turns), paced

    def window(self, start: float, end: float, *, crisis: bool | None = None) -> list[float]:
        """Reply latencies (seconds) of turns injected in [start, end); never answered: infinite."""
        return [(t.first - t.sent) if t.first is not None else float("inf") for t in self.turns
                if start <= t.sent < end and (crisis is None or t.crisis == crisis)]


async def chat(server: WatchedBotApi, watch: Watch, user: User, think: float, crisis_share: float,
               stop: asyncio.Event) -> None:
    """One person: write (or press), wait for the reply to be complete, think, again."""
    await asyncio.sleep(user.rng.random() * think)
    while not stop.is_set():
        user.first = user.last = None
        user.answered.clear()
        crisis = user.turns > 0 and user.rng.random() < crisis_share
        sent = time.perf_counter()
        if crisis:
            server.inject_message(user.user_id, CRISIS_TEXT)
        else:
            play_curriculum(server, user)
        user.turns += 1
        turn = Turn(user.user_id, sent, None, crisis)
        watch.turns.append(turn)
        try:
            await asyncio.wait_for(user.answered.wait(), GIVE_UP)
        except TimeoutError:
            watch.unanswered += 1
            continue
        turn.first = user.first
        while True:  # the reply is complete once its chat has been quiet a while
            last = user.last or time.perf_counter()
            await asyncio.sleep(max(0.0, last + QUIET - time.perf_counter()))
            if user.last == last:
                break
        await asyncio.sleep(user.rng.expovariate(1 / think))


class People:
    """Chatters on the server's event loop."""

    def __init__(self, server: WatchedBotApi, watch: Watch, ids: range, think: float,
                 crisis_share: float = 0.0) -> None:
        self.server, self.watch = server, watch
        self.think, self.crisis_share = think, crisis_share
        for uid in ids:
            server.add_user(uid)
            watch.chatters[uid] = User(uid, random.Random(uid))
        self.ids = ids
        self._stop: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def _run(self, coro: Any) -> Any:
        assert self.server._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.server._loop).result(60)

    def start(self) -> None:
        """Every person starts, their first messages spread over one pause."""
        async def begin() -> None:
            self._stop = asyncio.Event()
            self._tasks = [asyncio.create_task(chat(self.server, self.watch, self.watch.chatters[uid],
                                                    self.think, self.crisis_share, self._stop))
                           for uid in self.ids]
        self._run(begin())

    def stop(self) -> None:
        """Everyone stops (replies in flight are abandoned)."""
        async def end() -> None:
            assert self._stop is not None
            self._stop.set()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._run(end())


def seed_wave(database: Path, tree: Path, reminders: int, due: float) -> None:
    """`reminders` onboarded people with homework, one check-in each, due at `due` (for now).

    Run in a process of its own (`--seed`), the tree's own code first on the path, so the
    database has the schema that tree's bot expects.
    """
    sys.path.insert(0, str(tree))
    from state.contracts import Progress
    from state.curriculum.loader import load_curriculum
    from state.engine.engine import Engine
    from state.store.progress import SqliteProgressStore

    async def schema() -> None:
        await (await SqliteProgressStore(database).open()).close()

    database.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(schema())
    version = Engine(load_curriculum(tree / "curriculum")).version
    hour = time.gmtime(due).tm_hour
    quiet = f"{(hour + 12) % 24:02d}:00-{(hour + 13) % 24:02d}:00"  # far from now
    set_at = due - 4 * 86400
    users, rows = [], []
    for uid in range(1, reminders + 1):
        answers = {"loved_one": "Sam", "relationship": "partner", "substance": "alcohol",
                   "shared_phone": "no", "timezone": "UTC", "quiet_hours": quiet,
                   "homework": "Notice one sober moment this week.", "homework_module": "orientation",
                   "homework_set_at": set_at, "homework_check_in_days": 3}
        progress = Progress(user_id=uid, answers=answers, completed={"onboarding": set_at - 86400},
                            created_at=set_at - 86400, updated_at=set_at, version=version)
        users.append((uid, json.dumps(progress.to_json(), separators=(",", ":")), None, None, version,
                      progress.created_at, progress.updated_at))
        rows.append((uid, "homework", due, f"orientation@{int(set_at)}", set_at))
    db = sqlite3.connect(database)
    db.executemany("INSERT INTO users (user_id, data, module, step, version, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", users)
    db.executemany("INSERT INTO reminders (user_id, kind, due_at, ref, created_at) VALUES (?, ?, ?, ?, ?)",
                   rows)
    db.commit()
    db.close()


def fall_due(database: Path, now: float) -> None:
    """Every seeded reminder falls due now (the bot, running, finds them at its next look)."""
    db = sqlite3.connect(database, timeout=30)
    try:
        db.execute("UPDATE reminders SET due_at = ? WHERE kind = 'homework' AND status = 'pending'", (now,))
        db.commit()
    finally:
        db.close()


def statuses(database: Path) -> dict[int, str]:
    """Each reminder's status in the database."""
    db = sqlite3.connect(database)
    try:
        return dict(db.execute("SELECT id, status FROM reminders WHERE kind = 'homework'").fetchall())
    finally:
        db.close()


def wave(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The wave scenario for one source tree."""
    with tempfile.TemporaryDirectory(prefix="craftbot-floods-") as tmp, WatchedBotApi() as server:
        limits = server.enforce_limits(BUDGET)
        watch = Watch()
        server.listener = watch.on
        for uid in range(1, args.reminders + 1):
            server.add_user(uid)
        bot = Bot(server, tree, Path(tmp), reminders=True)
        subprocess.run([sys.executable, __file__, "--seed", str(bot.database), str(tree),
                        str(args.reminders)], check=True, cwd=REPO / "bench")
        bot.start()
        people = People(server, watch, range(100_001, 100_001 + args.chatters), args.think, args.crisis_share)
        people.start()
        time.sleep(args.warmup)
        fall_due(bot.database, time.time())
        start, refused, cpu = time.perf_counter(), limits.refused, proc_cpu(bot.pid)
        time.sleep(args.seconds)
        end, refused, cpu = time.perf_counter(), limits.refused - refused, proc_cpu(bot.pid) - cpu
        time.sleep(args.grace)  # replies to the window's last turns still count
        people.stop()
        bot.stop()
        found = statuses(bot.database)
        where = bot.ran()
    sent_in = [t for t in watch.sends if start <= t < end]
    delivered = watch.reminders
    undelivered_sent = sum(1 for rid, s in found.items() if s == "sent" and rid not in delivered)
    waiting = sum(1 for rid, s in found.items() if s in ("pending", "sending") and rid not in delivered)
    again = sum(1 for rid, s in found.items() if s == "sending" and rid in delivered)  # recovered: twice
    failed = sum(1 for s in found.values() if s not in ("pending", "sending", "sent"))
    return {
        "from": where,
        "replies": watch.window(start, end, crisis=False),
        "crisis": watch.window(start, end, crisis=True),
        "share": len(sent_in) / (BUDGET * (end - start)),
        "reminder_rate": sum(1 for t in watch.reminder_sends if start <= t < end) / (end - start),
        "refused": refused, "refused_total": limits.refused,
        "delivered": len(delivered), "doubled": sum(n - 1 for n in delivered.values() if n > 1),
        "lost": undelivered_sent + failed + (args.reminders - len(found)),
        "waiting": waiting, "again_at_restart": again, "unanswered": watch.unanswered,
        "cpu": cpu / (end - start), "paced": watch.paced(start, end),
    }


def burst(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The burst scenario for one source tree."""
    with tempfile.TemporaryDirectory(prefix="craftbot-burst-") as tmp, WatchedBotApi() as server:
        limits = server.enforce_limits(BUDGET)
        watch = Watch()
        server.listener = watch.on
        bot = Bot(server, tree, Path(tmp), reminders=False)
        bot.start()
        people = People(server, watch, range(200_001, 200_001 + args.others), args.others_think)
        people.start()
        time.sleep(args.warmup)
        calm = time.perf_counter()
        time.sleep(args.window)
        flooded, refused = time.perf_counter(), limits.refused
        flooder = 300_001
        server.add_user(flooder)
        for i in range(args.burst):
            server.inject_message(flooder, f"message {i}")
        time.sleep(args.window)
        end = time.perf_counter()
        time.sleep(args.grace)
        people.stop()
        bot.stop()
    return {"calm": watch.window(calm, flooded), "flooded": watch.window(flooded, end),
            "refused": limits.refused - refused, "unanswered": watch.unanswered}


def ms(samples: list[float], p: float) -> str:
    """A percentile in seconds, printed (replies never received make it "never")."""
    if not samples:
        return "-"
    value = percentile(samples, p)
    never = sum(1 for x in samples if x == float("inf"))
    return f"{value:.2f} s" if value != float("inf") else f"never ({never} of {len(samples)} unanswered)"


def main() -> int:
    """Run both scenarios for the baseline and for this code, and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", default="84985d2", help="the commit(s) to compare with, comma-separated")
    parser.add_argument("--reminders", type=int, default=20_000)
    parser.add_argument("--chatters", type=int, default=200)
    parser.add_argument("--think", type=float, default=30.0, help="mean pause between a chatter's turns")
    parser.add_argument("--crisis-share", type=float, default=0.1)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds of the wave")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--others", type=int, default=50)
    parser.add_argument("--others-think", type=float, default=8.0)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--window", type=float, default=30.0, help="seconds before and after the burst")
    parser.add_argument("--grace", type=float, default=20.0,
                        help="seconds after a window for its last replies (a later one counts as never)")
    parser.add_argument("--only", choices=("wave", "burst"), help="one scenario only")
    parser.add_argument("--seed", nargs=3, metavar=("DATABASE", "TREE", "REMINDERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:  # a helper process: seed a database with the tree's own code
        seed_wave(Path(args.seed[0]), Path(args.seed[1]), int(args.seed[2]), time.time() + 86400)
        return 0
    if os.environ.get("BENCH_QUICK"):
        args.reminders, args.chatters, args.seconds, args.warmup = 2_000, 40, 15.0, 5.0
        args.others, args.burst, args.window, args.grace = 20, 150, 10.0, 5.0
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="craftbot-base-") as base:
        trees = {f"before ({commit})": unpack(commit, Path(base) / commit)
                 for commit in args.base.split(",") if commit} | {"after (this code)": REPO}
        if args.only != "burst":
            print(f"wave: {args.reminders:,} reminders fall due at once while {args.chatters} people chat"
                  f" (mean pause {args.think:g} s, {100 * args.crisis_share:g}% of turns crisis words);"
                  f" {args.seconds:g} s measured; Telegram's limits on")
            for name, tree in trees.items():
                r = wave(tree, args)
                print(f"  {name:>20}: replies p50 {ms(r['replies'], 50)} p99 {ms(r['replies'], 99)}"
                      f" ({len(r['replies'])}); crisis p99 {ms(r['crisis'], 99)} ({len(r['crisis'])});"
                      f" budget used {100 * r['share']:.0f}% (reminders {r['reminder_rate']:.1f}/s);"
                      f" 429s {r['refused']} ({r['refused_total']} in all); reminders delivered"
                      f" {r['delivered']:,}, doubled {r['doubled']}, lost {r['lost']}, still waiting"
                      f" {r['waiting']:,}, sent again at restart {r['again_at_restart']};"
                      f" unanswered {r['unanswered']}", flush=True)
                print(f"  {'':>20}  bot CPU {100 * r['cpu']:.0f}% of a core; turns slower than 1 s:"
                      f" {r['paced'][0]}, of which {r['paced'][1]} came right after 4+ messages to the"
                      f" same chat (Telegram's per-chat pace); ran {r['from']}", flush=True)
        if args.only != "wave":
            print(f"burst: {args.others} people chat (mean pause {args.others_think:g} s); then one more"
                  f" sends {args.burst} messages at once; {args.window:g} s before and after")
            for name, tree in trees.items():
                r = burst(tree, args)
                print(f"  {name:>20}: others' p99 before {ms(r['calm'], 99)} ({len(r['calm'])}),"
                      f" during the burst {ms(r['flooded'], 99)} ({len(r['flooded'])});"
                      f" p50 {ms(r['calm'], 50)} -> {ms(r['flooded'], 50)}; 429s {r['refused']};"
                      f" unanswered {r['unanswered']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
