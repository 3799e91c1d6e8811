"""Load: 500 simulated people for 5 minutes against the local Bot API server.

The real `craftbot run` process serves `--users` people who play the bundled curriculum
(press offered buttons, type answers), each pausing between turns so that together they
offer about `--rate` updates per second. Every `--every` seconds the bot's resident memory,
its CPU use, the updates answered and their latency are sampled; at the end: updates per
second sustained, latency from the injected update to the reply received (median, p95,
p99, max), errors (updates never answered, calls Telegram refused, failures in the bot's
log) and whether memory stayed flat (its growth over the second half of the run).

    .venv/bin/python bench/load.py [--users 500] [--seconds 300] [--rate 300]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from _harness import (
    BotUnderTest,
    Crowd,
    machine,
    median,
    percentile,
    play_curriculum,
    proc_cpu,
    proc_memory_mb,
    proc_rss_mb,
    workdir,
)

from tests.kit.botapi_serve import WatchedBotApi

TARGET_RATE, TARGET_P99_MS = 300.0, 100.0


def main() -> None:
    """Run the load and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=300.0, help="measured duration")
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="updates per second offered")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=10.0)
    args = parser.parse_args()
    if os.environ.get("BENCH_QUICK"):
        args.seconds, args.every = 30.0, 5.0
    # The mean pause that offers `rate` updates/s; a little shorter, for the replies' own time.
    think = 0.95 * args.users / args.rate
    print(f"machine: {machine()}")
    print(f"{args.users} people, about {args.rate:.0f} updates/s offered (mean pause {think:.2f} s),"
          f" {args.seconds:.0f} s measured after {args.warmup:.0f} s of warm-up")
    with workdir("craftbot-load-") as tmp, WatchedBotApi() as server:
        bot = BotUnderTest(server, "craftbot", Path(tmp))
        bot.start()
        crowd = Crowd(server, list(range(20_001, 20_001 + args.users)), play_curriculum,
                      think=lambda rng: rng.expovariate(1 / think))
        errors_before = len(server.errors)
        crowd.start(spread=think)
        time.sleep(args.warmup)
        server.trim()
        start = time.perf_counter()
        first_memory = proc_memory_mb(bot.pid)
        samples = []
        last_at, last_cpu, last_done = start, proc_cpu(bot.pid), 0
        print(f"{'t (s)':>6} {'updates/s':>9} {'p99 ms':>7} {'RSS MB':>7} {'bot CPU':>7}")
        while (now := time.perf_counter()) < start + args.seconds:
            time.sleep(min(args.every, start + args.seconds - now))
            at, cpu, rss = time.perf_counter(), proc_cpu(bot.pid), proc_rss_mb(bot.pid)
            window = crowd.results.window(last_at, at)
            rate = len(window) / (at - last_at)
            p99 = 1000 * percentile([t.done - t.sent for t in window], 99)
            samples.append((at - start, rss))
            share = 100 * (cpu - last_cpu) / (at - last_at)
            print(f"{at - start:6.0f} {rate:9.0f} {p99:7.1f} {rss:7.1f} {share:6.0f}%", flush=True)
            last_at, last_cpu, last_done = at, cpu, last_done + len(window)
            server.trim()
        end = time.perf_counter()
        last_memory = proc_memory_mb(bot.pid)
        crowd.stop()
        disk = {p.name: p.stat().st_size / 2**20 for p in bot.database.parent.iterdir()}
        errors = len(server.errors) - errors_before
        bot.stop()
        failures = sum(1 for line in bot.log.read_text().splitlines()
                       if " ERROR " in line or "Traceback" in line)
    turns = crowd.results.window(start, end)
    latency = [1000 * (t.done - t.sent) for t in turns]
    first = [1000 * (t.first - t.sent) for t in turns]
    rate = len(turns) / (end - start)
    half = [rss for t, rss in samples if t >= args.seconds / 2]
    growth = (half[-1] - half[0]) if len(half) > 1 else 0.0
    print(f"sustained {rate:.0f} updates/s over {end - start:.0f} s ({len(turns)} updates);"
          f" reply complete median {median(latency):.1f} ms, p95 {percentile(latency, 95):.1f},"
          f" p99 {percentile(latency, 99):.1f}, max {max(latency):.0f} ms;"
          f" first message median {median(first):.1f} ms")
    print(f"errors: {crowd.results.unanswered} updates unanswered, {errors} calls refused by the API,"
          f" {failures} error lines in the bot's log")
    print(f"memory: RSS {samples[0][1]:.1f} MB at the first sample, {samples[-1][1]:.1f} MB at the last;"
          f" {growth:+.1f} MB over the second half; peak {last_memory['VmHWM']:.1f} MB; heap and native"
          f" (RssAnon) {first_memory['RssAnon']:.1f} -> {last_memory['RssAnon']:.1f} MB, mapped files"
          f" (RssFile+RssShmem) {first_memory['RssFile'] + first_memory['RssShmem']:.1f} ->"
          f" {last_memory['RssFile'] + last_memory['RssShmem']:.1f} MB")
    print("disk: " + ", ".join(f"{name} {size:.1f} MB" for name, size in sorted(disk.items()))
          + f" after {len(crowd.results.turns)} updates from {args.users} people")
    met = rate >= TARGET_RATE and percentile(latency, 99) < TARGET_P99_MS
    print(f"target {TARGET_RATE:.0f} updates/s sustained with p99 < {TARGET_P99_MS:.0f} ms:"
          f" {'meets' if met else 'MISSES'}")


if __name__ == "__main__":
    main()
