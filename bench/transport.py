"""Does the HTTP transport matter? craftbot on python-telegram-bot's httpx and on aiohttp.

The same `craftbot run` (bot/ptb/app.py) twice against the same local fake Bot API server,
in alternating rounds of one run: on PTB's own `HTTPXRequest` (what the bot uses), and on
the aiohttp transport it used before (bench/_aiohttp_transport.py, kept here for this
comparison), both as a transport must be (every returned Message parsed whole) and as it
was (only id, date and chat kept: a later `sent.text` read nothing). Two phases per
transport, the people playing the bundled curriculum:

- at Telegram's limit: `--steady-users` people who pause between turns, offering about
  `--rate` updates a second (30 by default: Telegram lets a bot send about 30 messages a
  second in all, and a craftbot update is 2-3 calls, so this is above what Telegram would
  let through);
- saturated: `--users` people who answer as soon as the reply is complete.

Printed per phase: updates per second, the time from the injected update to the reply
received (median and p99), and the bot's CPU per update (read from /proc). The
limiter is off (`max_per_second: 0`) so the transport, not the pacing, is measured.

    .venv/bin/python bench/transport.py [--rate 30] [--users 200] [--seconds 15] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from _harness import BotUnderTest, machine, median, percentile, play_curriculum, workdir
from e2e import Phase, run_phase

from tests.kit.botapi_serve import WatchedBotApi

TRANSPORTS = {"httpx (PTB's HTTPXRequest)": "craftbot", "aiohttp, whole Messages": "craftbot-aiohttp-whole",
              "aiohttp, lean Messages": "craftbot-aiohttp"}


def measure(kind: str, args: argparse.Namespace) -> tuple[Phase, Phase]:
    """Both phases for one transport, on a fresh server and database."""
    with workdir(f"craftbot-transport-{kind}-") as tmp, WatchedBotApi() as server:
        bot = BotUnderTest(server, kind, Path(tmp))
        bot.start()
        try:
            calm = run_phase(server, bot, play_curriculum, range(50_001, 50_001 + args.steady_users),
                             args.steady_users / args.rate, args.warmup, args.seconds)
            time.sleep(1.0)  # let the last replies drain
            saturated = run_phase(server, bot, play_curriculum, range(10_001, 10_001 + args.users), 0.0,
                                  args.warmup, args.seconds)
        finally:
            bot.stop()
    return calm, saturated


def row(label: str, phase: Phase) -> str:
    """One line of the side-by-side table."""
    return (f"  {label:<28} {phase.rate:7.1f} {1000 * median(phase.latency):8.1f}"
            f" {1000 * percentile(phase.latency, 99):8.1f} {phase.cpu_ms:9.2f} {100 * phase.cpu_share:6.0f}%"
            f" {phase.unanswered + phase.errors:5d}")


def main() -> None:
    """Run both transports in alternating rounds; print the best round of each, side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=30.0, help="updates per second offered at the limit")
    parser.add_argument("--steady-users", type=int, default=30, help="people at the limit")
    parser.add_argument("--users", type=int, default=200, help="people in the saturated phase")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best counts")
    args = parser.parse_args()
    if os.environ.get("BENCH_QUICK"):
        args.seconds, args.warmup, args.rounds = 4.0, 2.0, 1
    print(f"machine: {machine()}", flush=True)
    runs: dict[str, list[tuple[Phase, Phase]]] = {label: [] for label in TRANSPORTS}
    for _ in range(args.rounds):
        for label, kind in TRANSPORTS.items():
            runs[label].append(measure(kind, args))
            print(row(label + " (round)", runs[label][-1][1]), flush=True)
    print(f"machine after: {machine()}")
    header = (f"  {'transport':<28} {'upd/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/upd':>9}"
              f" {'core':>7} {'lost':>5}")
    print(f"at about {args.rate:.0f} updates/s ({args.steady_users} people; best p99 of the rounds):")
    print(header)
    for label, found in runs.items():
        print(row(label, min((calm for calm, _ in found), key=lambda p: percentile(p.latency, 99))))
    print(f"saturated ({args.users} people; best throughput of the rounds):")
    print(header)
    for label, found in runs.items():
        print(row(label, max((saturated for _, saturated in found), key=lambda p: p.rate)))


if __name__ == "__main__":
    main()
