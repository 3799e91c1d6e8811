"""Resident memory of the real bot process with 100,000 people stored and 1,000 recently active.

A database is filled with `--stored` people at random steps of the bundled curriculum;
`craftbot run` is started on it against the local fake Bot API; then `--active` of the
stored people come back and play (/start, then buttons and answers, with pauses) for
`--seconds`. The bot's resident memory (VmRSS, and its peak VmHWM) is read from /proc:
at start, and after the active people have played.

    .venv/bin/python bench/memory.py [--stored 100000] [--active 1000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from _harness import BotUnderTest, Crowd, machine, play_curriculum, proc_rss_mb, seed_database, workdir

from tests.kit.botapi_serve import WatchedBotApi

TARGET_MB = 150.0


def peak_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--active", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the active people play")
    args = parser.parse_args()
    if os.environ.get("BENCH_QUICK"):
        args.stored, args.seconds = 20_000, 10.0
    print(f"machine: {machine()}")
    with workdir("craftbot-memory-") as tmp, WatchedBotApi() as server:
        database = Path(tmp) / "data" / "bot.sqlite3"
        database.parent.mkdir(mode=0o700)
        started = time.perf_counter()
        seed_database(database, args.stored)
        print(f"{args.stored} people stored in {time.perf_counter() - started:.1f} s"
              f" ({database.stat().st_size / 2**20:.0f} MB database)", flush=True)
        bot = BotUnderTest(server, "craftbot", Path(tmp), database=database)
        bot.start()
        try:
            time.sleep(1.0)
            at_start = proc_rss_mb(bot.pid)
            crowd = Crowd(server, list(range(1, args.active + 1)), play_curriculum,
                          think=lambda rng: rng.uniform(0.5, 3.0))
            crowd.start(spread=2.0)
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                time.sleep(5.0)
                server.trim()
            crowd.stop()
            time.sleep(1.0)
            after, peak = proc_rss_mb(bot.pid), peak_mb(bot.pid)
            turns = len(crowd.results.turns)
            active = len({u.user_id for u in crowd.users.values() if u.turns})
        finally:
            bot.stop()
    verdict = "meets" if max(after, peak) <= TARGET_MB else "MISSES"
    print(f"bot RSS with {args.stored} stored: {at_start:.1f} MB at start;"
          f" {after:.1f} MB after {active} people played {turns} turns (peak {peak:.1f} MB);"
          f" {1024 * (after - at_start) / max(1, active):.1f} KB per active person"
          f" | target <= {TARGET_MB:.0f} MB: {verdict}")


if __name__ == "__main__":
    main()
