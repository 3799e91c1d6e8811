"""What one grant of the shared outgoing budget costs (state/store/pgbudget.py), on a real PostgreSQL.

A throwaway server (tests/kit/postgres.py) with fsync on, on this machine. `--grants` grants
one after the other on one connection (median and p99 latency, grants per second), then the
same number spread over `--instances` connections asking at once (each an instance), all on
one bucket row: the lock on the row serialises them, which is the worst case. The bucket is
made large enough never to refuse, so every grant is a full statement. Prints figures only.

    .venv/bin/python bench/outbox_budget.py [--grants 2000] [--instances 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from state.store.pgbudget import PgRate
from state.store.progress import ProgressStore
from tests.kit.postgres import PostgresServer, find_bindir

LARGE = 1e9  # a rate and burst that never refuse


async def measure(url: str, grants: int, instances: int) -> None:
    store = await ProgressStore(url).open()  # migrations, 011 among them
    await store.close()
    now = [time.time()]
    alone = PgRate(url, "bench", LARGE, LARGE, lambda: now[0])
    await alone.take(1, 0.0)  # the connection and the row
    seconds = []
    for _ in range(grants):
        now[0] += 0.001
        started = time.perf_counter()
        await alone.take(1, 0.0)
        seconds.append(time.perf_counter() - started)
    await alone.close()
    seconds.sort()
    p99 = seconds[int(len(seconds) * 0.99)]
    print(f"one connection: median {statistics.median(seconds) * 1000:.2f} ms,"
          f" p99 {p99 * 1000:.2f} ms, {len(seconds) / sum(seconds):.0f} grants/s")
    rates = [PgRate(url, "bench", LARGE, LARGE, lambda: now[0]) for _ in range(instances)]
    await asyncio.gather(*(rate.take(1, 0.0) for rate in rates))
    each = grants // instances

    async def ask(rate: PgRate) -> None:
        for _ in range(each):
            await rate.take(1, 0.0)

    started = time.perf_counter()
    await asyncio.gather(*(ask(rate) for rate in rates))
    per_second = each * instances / (time.perf_counter() - started)
    print(f"{instances} connections at once on one row: {per_second:.0f} grants/s")
    for rate in rates:
        await rate.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=2000)
    parser.add_argument("--instances", type=int, default=3)
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries (apt-get install postgresql)")
    server = PostgresServer(bindir, durable=True).start()
    try:
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        asyncio.run(measure(server.create_database("bench"), args.grants, args.instances))
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
