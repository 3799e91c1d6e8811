"""End to end: craftbot versus a bare python-telegram-bot echo bot, same server, same run.

Both bots run as their own processes against the same local fake Bot API server (in this
process, with the simulated users). Two phases per bot:

- saturation: `--users` people who answer as soon as the reply is complete (the bot always
  has work): updates per second, the bot's CPU per update, and (queueing) latency;
- steady load: `--steady-users` people who think between turns, offering about
  `--steady-rate` updates per second to both bots: latency from the injected update to the
  reply received (the bot's last message, edit or button answer), median and p99.

craftbot's users play the bundled curriculum (press offered buttons, type answers, now and
then /menu or /progress); the echo bot's users type text, which it sends back. The bots
run in alternating rounds and the best round of each counts, because the machine is
shared. For reference, the echo bot also runs once on the aiohttp transport craftbot
used before (bench/_aiohttp_transport.py; bench/transport.py compares it), and
both bots run once more against a server that answers each call `--slow-api` seconds late,
as the real Telegram does from afar: there, serving chats concurrently is what counts.

A reply counts as received when the bot has been silent in the person's chat for 50 ms
(200 ms at saturation, when a busy bot may pause that long between the calls of one reply).

With `--base COMMIT` craftbot as it was at that commit runs too, in the same rounds
(`craftbot@COMMIT`), for a before-and-after in one run.

    .venv/bin/python bench/e2e.py [--users 400] [--seconds 15] [--rounds 2] [--steady-rate 100]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import (
    BotUnderTest,
    Crowd,
    Policy,
    echo_text,
    machine,
    median,
    percentile,
    play_curriculum,
    proc_cpu,
    sample,
    workdir,
)
from _trees import TreeBot, unpack

from tests.kit.botapi_serve import WatchedBotApi

TARGET_RATIO = 0.8


@dataclass
class Phase:
    """What one phase measured."""

    rate: float
    cpu_ms: float
    cpu_share: float
    server_share: float
    latency: list[float]
    first: list[float]
    unanswered: int
    errors: int

    def line(self) -> str:
        """One printable line."""
        return (f"{self.rate:7.0f} updates/s | bot CPU {self.cpu_ms:5.2f} ms/update"
                f" ({100 * self.cpu_share:3.0f}% of a core; server+users {100 * self.server_share:3.0f}%)"
                f" | reply complete median {1000 * median(self.latency):6.1f} ms,"
                f" p99 {1000 * percentile(self.latency, 99):6.1f} ms"
                f" | first message median {1000 * median(self.first):5.1f} ms"
                f" | unanswered {self.unanswered}, API errors {self.errors}")


def run_phase(server: WatchedBotApi, bot: BotUnderTest, policy: Policy, users: range,
              think_mean: float, warmup: float, seconds: float) -> Phase:
    """Let a crowd play, then measure a window after the warm-up."""
    # A saturated bot serving many chats at once may pause long between a reply's calls.
    quiet = (0.05 if think_mean else 0.2) + 2 * server.delay
    crowd = Crowd(server, list(users), policy, quiet=quiet,
                  think=(lambda rng: rng.expovariate(1 / think_mean)) if think_mean else (lambda rng: 0.0))
    errors_before = len(server.errors)
    crowd.start(spread=min(1.0, think_mean or 1.0))
    time.sleep(warmup)
    server.trim()
    before, server_before = sample(bot.pid), proc_cpu(os.getpid())
    time.sleep(seconds)
    after, server_after = sample(bot.pid), proc_cpu(os.getpid())
    crowd.stop()
    turns = crowd.results.window(before.at, after.at)
    elapsed = after.at - before.at
    return Phase(
        rate=len(turns) / elapsed,
        cpu_ms=1000 * (after.cpu - before.cpu) / max(1, len(turns)),
        cpu_share=(after.cpu - before.cpu) / elapsed,
        server_share=(server_after - server_before) / elapsed,
        latency=[t.done - t.sent for t in turns],
        first=[t.first - t.sent for t in turns],
        unanswered=crowd.results.unanswered,
        errors=len(server.errors) - errors_before)


def measure(kind: str, args: argparse.Namespace, steady: bool = True, delay: float = 0.0,
            concurrency: int | None = None) -> tuple[Phase, Phase | None]:
    """Both phases for one bot, on a fresh server and database."""
    policy: Policy = play_curriculum if kind.startswith("craftbot") else echo_text
    telegram = {"concurrency": concurrency} if concurrency else None
    with workdir(f"craftbot-e2e-{kind}-") as tmp, WatchedBotApi(delay=delay) as server:
        bot: BotUnderTest
        if kind.startswith("craftbot@"):
            bot = TreeBot(server, args.trees[kind], Path(tmp), data_key=args.data_key, telegram=telegram)
        else:
            bot = BotUnderTest(server, kind, Path(tmp), data_key=args.data_key, telegram=telegram)
        bot.start()
        try:
            saturated = run_phase(server, bot, policy, range(10_001, 10_001 + args.users), 0.0,
                                  args.warmup, args.seconds)
            label = f"{kind}{f' (concurrency {concurrency})' if concurrency else ''}"
            print(f"{label:>12} saturated: {saturated.line()}", flush=True)
            if not steady:
                return saturated, None
            time.sleep(1.0)  # let the last replies drain
            calm = run_phase(server, bot, policy, range(50_001, 50_001 + args.steady_users),
                             args.steady_users / args.steady_rate, args.warmup, args.seconds)
            print(f"{kind:>12} steady:    {calm.line()}", flush=True)
            if isinstance(bot, TreeBot):
                print(f"{'':>12} (ran {bot.ran()})", flush=True)
        finally:
            bot.stop()
    return saturated, calm


def main() -> None:
    """Measure the bots in alternating rounds (the machine is shared) and compare the best."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=400, help="people in the saturation phase")
    parser.add_argument("--steady-users", type=int, default=100, help="people in the steady phase")
    parser.add_argument("--steady-rate", type=float, default=100.0,
                        help="updates per second the steady phase offers")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds before measuring")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best counts")
    parser.add_argument("--data-key", default="", help="CRAFTBOT_DATA_KEY for craftbot (encryption)")
    parser.add_argument("--slow-api", type=float, default=0.05,
                        help="also measure with every call this many seconds late (0: skip)")
    parser.add_argument("--base", default="", help="also run craftbot as it was at this commit")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="craftbot-e2e-base-") as base:
        args.trees = {f"craftbot@{args.base}": unpack(args.base, Path(base) / "tree")} if args.base else {}
        compare(args)


def compare(args: argparse.Namespace) -> None:
    """Measure every bot and print the comparison."""
    if os.environ.get("BENCH_QUICK"):
        args.seconds, args.warmup, args.rounds, args.slow_api = 5.0, 2.0, 1, 0.0
    print(f"machine: {machine()}")
    kinds = ("echo", *args.trees, "craftbot")
    runs: dict[str, list[tuple[Phase, Phase | None]]] = {kind: [] for kind in (*kinds, "echo-aiohttp")}
    for _ in range(args.rounds):
        for kind in kinds:
            runs[kind].append(measure(kind, args))
    runs["echo-aiohttp"].append(measure("echo-aiohttp", args, steady=False))
    best = {kind: max((r[0] for r in found), key=lambda p: p.rate) for kind, found in runs.items()}
    calm = {kind: min((r[1] for r in found if r[1] is not None), key=lambda p: percentile(p.latency, 99))
            for kind, found in runs.items() if kind != "echo-aiohttp"}
    print(f"machine after: {machine()}")
    print("best of each:")
    for kind, phase in best.items():
        print(f"  {kind:>12}: {phase.rate:4.0f} updates/s, {phase.cpu_ms:.2f} ms of bot CPU per update")
    for kind, phase in calm.items():
        print(f"  {kind:>12} at {args.steady_rate:.0f} updates/s: reply complete median"
              f" {1000 * median(phase.latency):.1f} ms, p99 {1000 * percentile(phase.latency, 99):.1f} ms")
    if args.slow_api:
        print(f"Telegram answering {1000 * args.slow_api:.0f} ms late (as a distant server does):")
        fewer = argparse.Namespace(**{**vars(args), "users": 100})
        for kind, concurrency in (("echo", None), ("craftbot", 1), ("craftbot", None)):
            measure(kind, fewer, steady=False, delay=args.slow_api, concurrency=concurrency)
    ratio = best["craftbot"].rate / best["echo"].rate
    by_cpu = best["echo"].cpu_ms / best["craftbot"].cpu_ms
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"throughput ratio craftbot/echo: {ratio:.2f} ({verdict} the target {TARGET_RATIO});"
          f" by CPU per update {by_cpu:.2f}; against the echo bot on the aiohttp transport"
          f" {best['craftbot'].rate / best['echo-aiohttp'].rate:.2f}")
    for kind in args.trees:
        print(f"before: {kind}/echo {best[kind].rate / best['echo'].rate:.2f}"
              f" ({best[kind].cpu_ms:.2f} ms of bot CPU per update)")


if __name__ == "__main__":
    main()
