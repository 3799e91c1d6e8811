"""Webhook mode against long polling: the same `craftbot run`, the same server, the same run.

The bot runs as its own process against the fake Bot API (`tests/kit/botapi_webhook.py`),
once polling and once by webhook, in alternating rounds (the machine is shared; the best
round of each counts), with a data key (so every update is sealed, as in production). The
phases are bench/e2e.py's: saturation (people answer as soon as the reply is complete) for
updates per second and bot CPU per update, then a steady load for reply latency.

What webhook mode adds per update: an HTTP request the bot serves, one durable commit to
the inbox (an fsync with `synchronous=FULL`, shared by the updates that arrive together),
a lease and a handled-mark in the database; what it saves: the long poll.

    .venv/bin/python bench/webhook.py [--users 200] [--seconds 10] [--rounds 2] [--steady-rate 50]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import time
from pathlib import Path

from _harness import REPO, BotUnderTest, machine, median, percentile, play_curriculum, workdir
from e2e import Phase, run_phase

from state.store.crypto import new_key
from tests.kit.botapi_webhook import WebhookBotApi

SECRET = "bench-webhook-secret-0123456789"


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HookedBot(BotUnderTest):
    """`craftbot run` in webhook mode: started once it has registered its webhook."""

    def start(self) -> float:
        """Start the bot; wait until its webhook is set; return the seconds that took."""
        server = self.server
        assert isinstance(server, WebhookBotApi)
        server.webhook = None
        started = time.perf_counter()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.command(), cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
        proc = self.proc
        # the predicate is handed the server as a FakeBotApi; `server` is the same one, narrowed
        server.wait_for(lambda _: server.webhook is not None or proc.poll() is not None, timeout=60)
        if self.proc.poll() is not None:
            raise RuntimeError(f"webhook bot exited early:\n{self.log.read_text()[-3000:]}")
        return time.perf_counter() - started


def measure(mode: str, args: argparse.Namespace) -> tuple[Phase, Phase]:
    """Both phases for one mode, on a fresh server and database."""
    with workdir(f"craftbot-webhook-{mode}-") as tmp, WebhookBotApi() as server:
        if mode == "webhook":
            port = free_port()
            hook = (f"{{url: 'http://127.0.0.1:{port}/hook', listen: '127.0.0.1:{port}',"
                    f" secret_token: {SECRET}}}")
            bot: BotUnderTest = HookedBot(server, "craftbot", Path(tmp), data_key=args.data_key,
                                          telegram={"webhook": hook})
        else:
            bot = BotUnderTest(server, "craftbot", Path(tmp), data_key=args.data_key)
        bot.start()
        try:
            saturated = run_phase(server, bot, play_curriculum, range(10_001, 10_001 + args.users), 0.0,
                                  args.warmup, args.seconds)
            print(f"{mode:>8} saturated: {saturated.line()}", flush=True)
            time.sleep(1.0)  # let the last replies drain
            calm = run_phase(server, bot, play_curriculum, range(50_001, 50_001 + args.steady_users),
                             args.steady_users / args.steady_rate, args.warmup, args.seconds)
            print(f"{mode:>8} steady:    {calm.line()}", flush=True)
        finally:
            bot.stop()
    return saturated, calm


def main() -> None:
    """Polling and webhook in alternating rounds; the best of each side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=200, help="people in the saturation phase")
    parser.add_argument("--steady-users", type=int, default=50, help="people in the steady phase")
    parser.add_argument("--steady-rate", type=float, default=50.0, help="updates per second offered")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best counts")
    parser.add_argument("--data-key", default=new_key(), help="CRAFTBOT_DATA_KEY (default: a fresh one)")
    args = parser.parse_args()
    if os.environ.get("BENCH_QUICK"):
        args.seconds, args.warmup, args.rounds = 4.0, 2.0, 1
    print(f"machine: {machine()}")
    runs: dict[str, list[tuple[Phase, Phase]]] = {"polling": [], "webhook": []}
    for _ in range(args.rounds):
        for mode in runs:
            runs[mode].append(measure(mode, args))
    print(f"machine after: {machine()}")
    print("best of each:")
    for mode, found in runs.items():
        rate = max((r[0] for r in found), key=lambda p: p.rate)
        calm = min((r[1] for r in found), key=lambda p: percentile(p.latency, 99))
        print(f"  {mode:>8}: {rate.rate:4.0f} updates/s, {rate.cpu_ms:.2f} ms of bot CPU per update;"
              f" at {args.steady_rate:.0f} updates/s reply complete median"
              f" {1000 * median(calm.latency):.1f} ms, p99 {1000 * percentile(calm.latency, 99):.1f} ms;"
              f" unanswered {rate.unanswered + calm.unanswered}")


if __name__ == "__main__":
    main()
