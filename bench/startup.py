"""Start-up: load and validate the whole curriculum, build the engine, open the database.

Timed in this process (Python's own start and imports excluded), best and median of
`--runs`, on a database holding `--stored` people. Then the whole `craftbot run` process
is timed the way an operator sees it: from the command to its first request for updates
(interpreter start, imports, the data-key check, migrations, publishing the commands).

    .venv/bin/python bench/startup.py [--stored 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

from _harness import CURRICULUM, BotUnderTest, machine, seed_database, workdir

from state.curriculum.loader import load_curriculum
from state.engine.engine import Engine
from state.store.progress import SqliteProgressStore
from tests.kit.botapi_serve import WatchedBotApi

TARGET_S = 1.0


def once(database: Path) -> tuple[float, float, float]:
    """Seconds to load and validate, to build the engine, and to open the database."""
    t0 = time.perf_counter()
    curriculum = load_curriculum(CURRICULUM)
    t1 = time.perf_counter()
    Engine(curriculum)
    t2 = time.perf_counter()

    async def open_close() -> float:
        started = time.perf_counter()
        store = await SqliteProgressStore(database).open()
        opened = time.perf_counter() - started
        await store.close()
        return opened

    return t1 - t0, t2 - t1, asyncio.run(open_close())


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if os.environ.get("BENCH_QUICK"):
        args.stored, args.runs = 10_000, 3
    print(f"machine: {machine()}")
    with workdir("craftbot-startup-") as tmp:
        database = Path(tmp) / "data" / "bot.sqlite3"
        database.parent.mkdir(mode=0o700)
        seed_database(database, args.stored)
        runs = [once(database) for _ in range(args.runs)]
        totals = [sum(r) for r in runs]
        best = min(runs, key=sum)
        verdict = "meets" if min(totals) < TARGET_S else "MISSES"
        locales = load_curriculum(CURRICULUM).locales.values()
        steps = sum(len(m.steps) for c in locales for m in c.modules.values())
        print(f"curriculum ({steps} steps) + engine + database ({args.stored} people):"
              f" best {1000 * min(totals):.0f} ms (load+validate {1000 * best[0]:.0f},"
              f" engine {1000 * best[1]:.0f}, open database {1000 * best[2]:.0f}),"
              f" median {1000 * statistics.median(totals):.0f} ms"
              f" | target < {1000 * TARGET_S:.0f} ms: {verdict}")
        with WatchedBotApi() as server:
            processes = []
            for _ in range(min(args.runs, 3)):
                bot = BotUnderTest(server, "craftbot", Path(tmp), database=database)
                processes.append(bot.start())
                bot.stop()
        print(f"`craftbot run` from the command to its first getUpdates: best {min(processes):.2f} s,"
              f" median {statistics.median(processes):.2f} s (interpreter, imports, key check, migrations)")


if __name__ == "__main__":
    main()
