"""End to end: craftbot versus a bare python-telegram-bot echo bot, same server, same run.

Both bots run as their own processes against the same local fake Bot API server (in this
process, with the simulated users). Two phases per bot:

- saturation: `--users` people who answer as soon as the reply is complete (the bot always
  has work): updates per second, the bot's CPU per update, and (queueing) latency;
- steady load: `--steady-users` people who think between turns, offering about
  `--steady-rate` updates per second to both bots: latency from the injected update to the
  reply received (the bot's last message, edit or button answer), median and p99.

craftbot's users play the bundled curriculum (press offered buttons, type answers, now and
then /menu or /progress); the echo bot's users type text, which it sends back.

    .venv/bin/python bench/e2e.py [--users 200] [--seconds 20] [--steady-rate 100]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import (
    REPO,
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

from tests.support.botapi_serve import WatchedBotApi

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
    crowd = Crowd(server, list(users), policy,
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


def measure(kind: str, args: argparse.Namespace) -> tuple[Phase, Phase]:
    """Both phases for one bot, on a fresh server and database."""
    policy: Policy = echo_text if kind == "echo" else play_curriculum
    with workdir(f"craftbot-e2e-{kind}-") as tmp, WatchedBotApi() as server:
        bot = BotUnderTest(server, kind, Path(tmp), data_key=args.data_key)
        bot.start()
        try:
            saturated = run_phase(server, bot, policy, range(10_001, 10_001 + args.users), 0.0,
                                  args.warmup, args.seconds)
            print(f"{kind:>8} saturated: {saturated.line()}", flush=True)
            time.sleep(1.0)  # let the last replies drain
            steady_users = args.steady_users
            steady = run_phase(server, bot, policy, range(50_001, 50_001 + steady_users),
                               steady_users / args.steady_rate, args.warmup, args.seconds)
            print(f"{kind:>8} steady:    {steady.line()}", flush=True)
        finally:
            bot.stop()
    return saturated, steady


def main() -> None:
    """Measure both bots and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=200, help="people in the saturation phase")
    parser.add_argument("--steady-users", type=int, default=100, help="people in the steady phase")
    parser.add_argument("--steady-rate", type=float, default=100.0,
                        help="updates per second the steady phase offers")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--data-key", default="", help="CRAFTBOT_DATA_KEY for craftbot (encryption)")
    parser.add_argument("--only", choices=["echo", "craftbot"], help="measure one bot only")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"repository: {REPO}")
    results = {kind: measure(kind, args) for kind in ("echo", "craftbot") if args.only in (None, kind)}
    if len(results) == 2:
        ratio = results["craftbot"][0].rate / results["echo"][0].rate
        verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
        print(f"throughput ratio craftbot/echo: {ratio:.2f} ({verdict} the target {TARGET_RATIO})")


if __name__ == "__main__":
    main()
