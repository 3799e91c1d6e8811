"""Several instances on one PostgreSQL against one on SQLite, in webhook mode, and a kill test.

Every bot is a real `craftbot run` process in webhook mode, with a data key, behind a
round-robin proxy (tests/kit/proxy.py) that the fake Bot API server posts to, as a load
balancer in front of instances would be. Three set-ups in one run, one after the other:

- SQLite, one instance (the embedded default);
- PostgreSQL, one instance;
- PostgreSQL, three instances on the same database.

PostgreSQL is a throwaway server (tests/kit/postgres.py) with fsync on, on the same machine.
For each: a saturation phase (`--users` people who answer as soon as the reply is complete)
for turns per second, and a steady phase (`--steady-users` people thinking between turns,
about `--steady-rate` updates per second; several rates may be given) for reply latency
(median, p99). The database time of a turn is read from the instances' own metrics
(`craftbot_database_turn_seconds`). The CPU each group of processes spent per turn over the
measured window is read from /proc (bench/_cpu.py): the instances summed, the PostgreSQL
server's processes summed, and the bench's own process (the fake Bot API, the proxy and the
people, all in it); with the machine's busy share and what the rest of the machine used. From
those, two ceilings for the saturated phase: with the bench's own work on other cores
(cores / (instances + PostgreSQL CPU per turn)), and, a projection, with each instance on a
core of its own and PostgreSQL on one more (the lower of instances / their CPU per turn and
1 / PostgreSQL's).

`--kill` runs the kill test instead: three instances on PostgreSQL under `--kill-users`
people (thinking between turns) for `--kill-seconds`; every `--kill-every` seconds (on the
clock, however long a start took) one instance (each in turn) is killed with SIGKILL and
started again at once, again until it starts (as a supervisor would). Check-in reminders
fall due throughout. The bots read time from a file clock that follows the real one; once
the crowd has stopped, it is moved 11 minutes on, so the leases the killed instances left
(inbox 60 s, reminders 10 min) run out, and everything left is worked. Then, from the
database and from what "Telegram" saw:

- lost: updates answered 200 but never handled, updates never answered, reminders never
  closed;
- handled twice: inbox rows taken more than once (a killed instance had them in hand), and
  messages a person got twice in a row (the question shown again after a kill);
- order: per chat, updates handled in update-id order (handled_at never goes back).

    .venv/bin/python bench/instances.py [--users 300] [--seconds 15] [--steady-rate 100 [300 ...]]
    .venv/bin/python bench/instances.py --kill [--kill-users 300] [--kill-seconds 180]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _cpu import CORES, Meter, Usage, machine_ticks, postmaster_pid
from _harness import BotUnderTest, Crowd, machine, median, percentile, play_curriculum, workdir

from state.service.clock import FileClock
from state.store.crypto import new_key
from tests.kit.botapi_webhook import WebhookBotApi
from tests.kit.postgres import PostgresServer, find_bindir, free_port, query
from tests.kit.proxy import RoundRobinProxy

SECRET = "bench-instances-secret-0123456789"


class Instances:
    """`size` webhook bots behind a round-robin proxy, on SQLite (size 1) or one PostgreSQL database."""

    def __init__(self, server: WebhookBotApi, folder: Path, size: int, *, url: str | None,
                 keys_url: str | None, data_key: str, clock: Path | None = None,
                 concurrency: int = 32, postmaster: int = 0) -> None:
        self.server = server
        self.postmaster = postmaster
        self.ports = [free_port() for _ in range(size)]
        self.metrics = [free_port() for _ in range(size)]
        self.proxy = RoundRobinProxy([f"http://127.0.0.1:{port}" for port in self.ports]).__enter__()
        self.bots: list[BotUnderTest] = []
        self.retried = 0
        for index, port in enumerate(self.ports):
            hook = (f"{{url: '{self.proxy.url}/hook', listen: '127.0.0.1:{port}',"
                    f" secret_token: {SECRET}}}")
            (folder / f"i{index}").mkdir(parents=True, exist_ok=True)
            bot = BotUnderTest(server, "craftbot", folder / f"i{index}", data_key=data_key,
                               telegram={"webhook": hook, "concurrency": concurrency})
            with bot.config.open("a", encoding="utf-8") as config:
                config.write(f"metrics:\n  listen: 127.0.0.1:{self.metrics[index]}\n"
                             "reminders:\n  poll_seconds: 1\n")
            if url:
                bot.env |= {"CRAFTBOT_STORAGE__URL": url, "CRAFTBOT_STORAGE__KEYS_URL": keys_url or ""}
            if clock is not None:
                bot.env["CRAFTBOT_FAKE_CLOCK_FILE"] = str(clock)
            self.bots.append(bot)

    def start(self, index: int | None = None) -> None:
        """Start one bot (or all, one after the other), each until it has set its webhook.

        A bot that exits at start (on this loaded machine, Telegram's getMe can time out) is
        started again, as a supervisor (systemd `Restart=always`) would; counted in `retried`.
        """
        for bot in self.bots if index is None else [self.bots[index]]:
            for attempt in range(10):
                if self._start(bot):
                    break
                self.retried += 1
                if attempt == 9:
                    raise RuntimeError(f"bot exited early:\n{bot.log.read_text()[-3000:]}")

    def _start(self, bot: BotUnderTest) -> bool:
        # Each setWebhook stores a new dict: a cheap test, checked at every call the server gets
        # (the server's `calls` is a deep copy of every call so far, taken under its lock).
        before = self.server.webhook
        with bot.log.open("ab") as log:
            bot.proc = subprocess.Popen(bot.command(), cwd=Path(__file__).resolve().parent.parent,
                                        env=bot.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        proc = bot.proc
        server = self.server
        server.wait_for(lambda _: proc.poll() is not None or server.webhook is not before, timeout=120)
        return proc.poll() is None

    def turn_seconds(self) -> tuple[float, float]:
        """(sum, count) of `craftbot_database_turn_seconds` over the running instances."""
        total = count = 0.0
        for bot, port in zip(self.bots, self.metrics, strict=True):
            if bot.proc is None or bot.proc.poll() is not None:
                continue
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
                for line in answer.read().decode().splitlines():
                    if line.startswith("craftbot_database_turn_seconds_sum"):
                        total += float(line.split()[-1])
                    elif line.startswith("craftbot_database_turn_seconds_count"):
                        count += float(line.split()[-1])
        return total, count

    def meter(self) -> Meter:
        """CPU by group: the running instances, the PostgreSQL server, the bench's own process."""
        return Meter({"instances": [(bot.pid, True) for bot in self.bots if bot.proc is not None],
                      "postgres": [(self.postmaster, True)] if self.postmaster else [],
                      "bench": [(os.getpid(), False)]})

    def stop(self) -> None:
        """Stop every bot, then the proxy."""
        for bot in self.bots:
            bot.stop()
        self.proxy.__exit__(None, None, None)


@dataclass
class Phase:
    """What one phase measured."""

    rate: float
    latency: list[float]
    db_ms: float
    unanswered: int
    cpu: Usage

    def line(self) -> str:
        """One printable line."""
        return (f"{self.rate:6.0f} turns/s | reply complete median {1000 * median(self.latency):7.1f} ms,"
                f" p99 {1000 * percentile(self.latency, 99):7.1f} ms | database {self.db_ms:5.2f} ms/turn"
                f" | unanswered {self.unanswered}")

    def cpu_ms(self) -> dict[str, float]:
        """CPU milliseconds per turn, by group."""
        return self.cpu.per_turn_ms(len(self.latency))

    def cpu_line(self) -> str:
        """Where the CPU went, per turn, and how busy the machine was."""
        ms = self.cpu_ms()
        return (f"CPU per turn: instances {ms['instances']:.2f} ms, PostgreSQL {ms['postgres']:.2f} ms,"
                f" bench (fake Telegram + proxy + people) {ms['bench']:.2f} ms"
                f" | machine busy {100 * self.cpu.busy_share:.0f} % of {CORES} cores,"
                f" others {self.cpu.others / self.cpu.seconds:.2f} cores")

    def ceilings(self, size: int) -> str:
        """Turns/s with the bench elsewhere, and (projected) with a core per instance."""
        ms = self.cpu_ms()
        bot = ms["instances"] + ms["postgres"]
        alone = 1000 * CORES / bot if bot else float("nan")
        own = min(1000 * size / ms["instances"] if ms["instances"] else float("inf"),
                  1000 / ms["postgres"] if ms["postgres"] > 0.01 else float("inf"))
        return (f"ceiling with the bench on other cores {alone:.0f} turns/s ({CORES} / {bot:.2f} ms);"
                f" projection, {size} instance(s) on a core each + PostgreSQL on one: {own:.0f} turns/s")


def run_phase(server: WebhookBotApi, bots: Instances, users: range, think_mean: float, warmup: float,
              seconds: float) -> Phase:
    """Let a crowd play, measure a window after the warm-up."""
    think = (lambda rng: rng.expovariate(1 / think_mean)) if think_mean else (lambda rng: 0.0)
    crowd = Crowd(server, list(users), play_curriculum, quiet=0.2 if not think_mean else 0.05, think=think)
    crowd.start(first=think if think_mean else None)  # first messages at the steady rate: no burst
    time.sleep(warmup)
    server.trim()
    meter = bots.meter()
    start, (db_before, turns_before), cpu_before = time.perf_counter(), bots.turn_seconds(), meter.read()
    time.sleep(seconds)
    end, (db_after, turns_after), cpu_after = time.perf_counter(), bots.turn_seconds(), meter.read()
    crowd.stop()
    turns = crowd.results.window(start, end)
    db_ms = 1000 * (db_after - db_before) / max(1.0, turns_after - turns_before)
    latency = [t.done - t.sent for t in turns]
    return Phase(len(turns) / (end - start), latency, db_ms, crowd.results.unanswered,
                 Meter.usage(cpu_before, cpu_after))


def measure(label: str, size: int, pg: PostgresServer, shared: bool,
            args: argparse.Namespace) -> tuple[Phase, list[Phase]]:
    """Both phases for one set-up (the steady one at each rate), on a fresh database."""
    with workdir(f"craftbot-instances-{size}-") as tmp, WebhookBotApi() as server:
        url = pg.create_database("bench") if shared else None
        keys = pg.create_database("keys") if shared else None
        bots = Instances(server, Path(tmp), size, url=url, keys_url=keys, data_key=args.data_key,
                         postmaster=postmaster_pid(pg.data))
        bots.start()
        try:
            meter = bots.meter()
            before = meter.read()
            time.sleep(args.idle)
            idle = Meter.usage(before, meter.read())
            print(f"{label:>18} idle:      CPU " + ", ".join(
                f"{name} {cpu / idle.seconds:.3f} cores" for name, cpu in idle.groups.items()), flush=True)
            saturated = run_phase(server, bots, range(10_001, 10_001 + args.users), 0.0, args.warmup,
                                  args.seconds)
            print(f"{label:>18} saturated: {saturated.line()}", flush=True)
            print(f"{'':>29}{saturated.cpu_line()}", flush=True)
            steady = []
            for n, rate in enumerate(args.steady_rate):
                time.sleep(1.0)
                first = 50_001 + 10_000 * n
                steady.append(run_phase(server, bots, range(first, first + args.steady_users),
                                        args.steady_users / rate, args.warmup, args.seconds))
                print(f"{label:>18} at {rate:3.0f}/s:  {steady[-1].line()}", flush=True)
                print(f"{'':>29}{steady[-1].cpu_line()}", flush=True)
        finally:
            bots.stop()
    return saturated, steady


def follow(clock: FileClock, offset: list[float], stop: threading.Event) -> None:
    """Keep the file clock at the real time plus `offset[0]` until stopped."""
    while not stop.is_set():
        clock.set(time.time() + offset[0])
        stop.wait(0.05)


def twice_in_a_row(server: WebhookBotApi, people: set[int]) -> int:
    """Messages a person got twice in a row (the same text right after itself)."""
    count = 0
    for person in people:
        said = [str(m.get("text") or "") for m in server.sent(person)]
        count += sum(1 for a, b in itertools.pairwise(said) if a == b and a)
    return count


def kill_test(pg: PostgresServer, args: argparse.Namespace) -> None:
    """Three instances, one killed every `--kill-every` seconds; what was lost, doubled, reordered."""
    with workdir("craftbot-kill-") as tmp, WebhookBotApi() as server:
        clock = FileClock(Path(tmp) / "clock")
        offset, stop = [0.0], threading.Event()
        clock.set(time.time())
        keeper = threading.Thread(target=follow, args=(clock, offset, stop), daemon=True)
        keeper.start()
        server.now = clock
        url, keys = pg.create_database("kill"), pg.create_database("killkeys")
        bots = Instances(server, Path(tmp), 3, url=url, keys_url=keys, data_key=args.data_key,
                         clock=clock.path)
        bots.start()
        people = range(70_001, 70_001 + args.kill_users)
        def think(rng: random.Random) -> float:
            return rng.expovariate(1 / args.think)

        crowd = Crowd(server, list(people), play_curriculum, quiet=0.05, timeout=args.kill_seconds + 120,
                      think=think)
        crowd.start(first=think)
        began, ticks = time.perf_counter(), machine_ticks()
        kills, reminders = 0, 0
        try:
            while time.perf_counter() - began < args.kill_seconds:
                now = clock()
                batch = people[reminders % len(people):][:20]  # check-ins falling due as we go
                for person in batch:
                    query(url, "INSERT INTO reminders (user_id, kind, due_at, created_at)"
                          " VALUES (?, 'checkin', ?, ?) ON CONFLICT DO NOTHING", (person, now + 5, now))
                reminders += len(batch)
                time.sleep(max(0.0, began + (kills + 1) * args.kill_every - time.perf_counter()))  # on time
                victim = kills % 3
                bots.bots[victim].stop(signal.SIGKILL)
                bots.start(victim)
                kills += 1
                print(f"  {time.perf_counter() - began:5.0f} s: instance {victim} killed and started again;"
                      f" {len(crowd.results.turns)} turns so far; {machine().split('; ')[-1]}", flush=True)
            elapsed, (busy, total) = time.perf_counter() - began, machine_ticks()
            print(f"  machine busy {100 * (busy - ticks[0]) / max(1, total - ticks[1]):.0f} % of {CORES}"
                  f" cores while the crowd played; {machine().split('; ')[-1]}", flush=True)
            try:
                crowd.stop()
            except TimeoutError:  # the server's loop busy with 300 people: they stop all the same
                crowd.running = False
            time.sleep(5.0)
            offset[0] = 11 * 60.0  # past every lease the killed instances left
            deadline = time.time() + 120
            waiting = ("SELECT (SELECT count(*) FROM inbox WHERE handled_at IS NULL)"
                       " + (SELECT count(*) FROM reminders WHERE status IN ('pending', 'sending'))")
            while time.time() < deadline and query(url, waiting)[0][0]:
                time.sleep(1.0)
            report_kill(server, url, crowd, people, kills, elapsed)
            print(f"  instances that exited at start and were started again (as a supervisor would):"
                  f" {bots.retried}")
        finally:
            stop.set()
            bots.stop()


def report_kill(server: WebhookBotApi, url: str, crowd: Crowd, people: range, kills: int,
                elapsed: float) -> None:
    """Print what the kill test found."""
    rows = query(url, "SELECT chat_id, update_id, handled_at, attempts FROM inbox"
                      " ORDER BY chat_id, update_id")
    waiting = sum(1 for row in rows if row[2] is None)
    retaken = sum(1 for row in rows if int(str(row[3])) > 1)
    hit = {int(str(row[0])) for row in rows if int(str(row[3])) > 1}  # chats a killed instance had in hand
    out_of_order = 0
    last: dict[int, float] = {}
    for chat, _, handled, _ in rows:
        if handled is None:
            continue
        if float(str(handled)) < last.get(int(str(chat)), 0.0):
            out_of_order += 1
        last[int(str(chat))] = float(str(handled))
    statuses = dict((str(s), int(str(n))) for s, n in query(
        url, "SELECT status, count(*) FROM reminders GROUP BY status"))
    claimed_again = query(url, "SELECT count(*) FROM reminders WHERE attempts > 1")[0][0]
    with server._cond:
        answered = {uid for uid, status in server.deliveries if status == 200}
        refused = sum(1 for _, status in server.deliveries if status != 200)
    lat = [t.done - t.sent for t in crowd.results.turns]
    print(f"kill test: {len(people)} people, {elapsed:.0f} s, {kills} kills (SIGKILL, then started again)")
    print(f"  turns {len(crowd.results.turns)} ({len(crowd.results.turns) / elapsed:.0f}/s); reply median"
          f" {1000 * median(lat):.0f} ms, p99 {1000 * percentile(lat, 99):.0f} ms")
    print(f"  updates answered 200: {len(answered)}; deliveries refused or cut off (sent again): {refused}")
    print(f"  lost: updates stored but never handled {waiting};"
          f" turns never answered {crowd.results.unanswered}; reminders never closed"
          f" {statuses.get('pending', 0) + statuses.get('sending', 0)}")
    others = twice_in_a_row(server, set(people) - hit)
    print(f"  taken again after a kill: {retaken} update(s) in {len(hit)} chat(s); messages a person got"
          f" twice in a row: {twice_in_a_row(server, hit)} in those chats, {others} in the others"
          " (their own repeats: /menu twice, say)")
    print(f"  per-chat order: {out_of_order} update(s) handled before an older one of their chat")
    print(f"  reminders: {statuses}; claimed again after a kill: {claimed_again}")


def main() -> None:
    """The three set-ups side by side, or the kill test."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=300, help="people in the saturation phase")
    parser.add_argument("--steady-users", type=int, default=100, help="people in the steady phase")
    parser.add_argument("--steady-rate", type=float, nargs="+", default=[100.0],
                        help="updates per second offered (one steady phase per rate)")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per phase")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds measured with no one chatting")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--kill", action="store_true", help="run the kill test instead")
    parser.add_argument("--kill-users", type=int, default=300)
    parser.add_argument("--kill-seconds", type=float, default=180.0)
    parser.add_argument("--kill-every", type=float, default=20.0)
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds a person thinks (kill test)")
    parser.add_argument("--data-key", default=new_key(), help="CRAFTBOT_DATA_KEY (default: a fresh one)")
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL's binaries are needed (apt-get install postgresql)")
    pg = PostgresServer(bindir, durable=True).start()
    print(f"machine: {machine()}", flush=True)
    try:
        if args.kill:
            kill_test(pg, args)
        else:
            found = [(label, size, *measure(label, size, pg, shared, args)) for label, size, shared in
                     (("SQLite x1", 1, False), ("PostgreSQL x1", 1, True), ("PostgreSQL x3", 3, True))]
            print(f"machine after: {machine()}")
            for label, size, saturated, steady in found:
                print(f"  {label:>14}: {saturated.rate:4.0f} turns/s saturated"
                      f" (database {saturated.db_ms:.2f} ms/turn); "
                      + "; ".join(f"at {rate:.0f} updates/s offered ({phase.rate:.0f} done)"
                                  f" median {1000 * median(phase.latency):.1f} ms,"
                                  f" p99 {1000 * percentile(phase.latency, 99):.1f} ms"
                                  f" (database {phase.db_ms:.2f} ms/turn)"
                                  for rate, phase in zip(args.steady_rate, steady, strict=True)))
                print(f"  {'':>14}  saturated, {saturated.cpu_line()}")
                print(f"  {'':>14}  {saturated.ceilings(size)}")
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
