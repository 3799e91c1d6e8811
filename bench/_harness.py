"""Shared parts of the end-to-end benchmarks: bot processes, simulated users, statistics.

Not a benchmark itself (`make bench` skips files starting with `_`). The Telegram side — the
fake Bot API server and the simulated users — runs in the benchmark's process, on the
server's event loop; each bot under test runs in its own process, so the two sides never
share a GIL and the bot's CPU time can be read from /proc.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.kit.botapi_serve import WatchedBotApi  # noqa: E402

CURRICULUM = REPO / "curriculum"
ECHO_BOT = Path(__file__).resolve().parent / "_echo_bot.py"
CRAFTBOT_AIOHTTP = Path(__file__).resolve().parent / "_craftbot_aiohttp.py"
TICK = os.sysconf("SC_CLK_TCK")
ANSWERS = ["I will take a short walk after dinner.", "evenings", "7", "not sure",
           "We could cook together on Sunday.", "Sam"]


def machine() -> str:
    """The CPU model and count, and the load average, for the record."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")
    load = os.getloadavg()
    return f"{model}, {os.cpu_count()} CPU(s); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (0-100) of some samples, nearest rank."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def median(samples: list[float]) -> float:
    """The median, NaN for no samples."""
    return statistics.median(samples) if samples else float("nan")


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_memory_mb(pid: int) -> dict[str, float]:
    """A process's resident memory in MB: VmRSS and its parts RssAnon, RssFile, RssShmem."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def proc_rss_mb(pid: int) -> float:
    """Resident memory of a process in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class BotUnderTest:
    """A bot in its own process against the fake server: `craftbot run` or the echo bot."""

    def __init__(self, server: WatchedBotApi, kind: str, workdir: Path, *,
                 curriculum: Path = CURRICULUM, database: Path | None = None,
                 data_key: str | None = None, telegram: dict[str, Any] | None = None) -> None:
        self.server, self.kind, self.workdir = server, kind, workdir
        self.database = database or workdir / "data" / "bot.sqlite3"
        self.config = workdir / "config.yaml"
        self.log = workdir / f"{kind}.log"
        settings = {"poll_timeout": 10, "max_per_second": 0} | (telegram or {})  # 0: no limiter
        self.config.write_text(
            f"telegram:\n  base_url: {server.base_url}\n  base_file_url: {server.base_file_url}\n"
            + "".join(f"  {key}: {value}\n" for key, value in settings.items())
            + f"storage:\n  database: {self.database}\ncurriculum:\n  path: {curriculum}\n",
            encoding="utf-8")
        self.env = {**os.environ, "CRAFTBOT_TELEGRAM_TOKEN": server.token, "PYTHONUNBUFFERED": "1"}
        if data_key:
            self.env["CRAFTBOT_DATA_KEY"] = data_key
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The bot's process id."""
        assert self.proc is not None
        return self.proc.pid

    def command(self) -> list[str]:
        """How the bot is started."""
        if self.kind.startswith("echo"):  # "echo", or "echo-aiohttp" on the aiohttp transport
            return [sys.executable, str(ECHO_BOT), self.server.base_url, *self.kind.split("-")[1:]]
        if self.kind.startswith("craftbot-aiohttp"):  # on the aiohttp transport (bench/transport.py)
            return [sys.executable, str(CRAFTBOT_AIOHTTP), str(self.config), *self.kind.split("-")[2:]]
        profile = os.environ.get("BENCH_PROFILE")  # a file: run the bot under cProfile
        prefix = ["-m", "cProfile", "-o", profile] if profile else []
        return [sys.executable, *prefix, "-m", "bot.cli", "run", "--config", str(self.config)]

    def start(self) -> float:
        """Start the bot; wait until it polls; return the seconds that took."""
        polls = self.server.polls
        started = time.perf_counter()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.command(), cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
        self.server.wait_for_poll(polls, gave_up=lambda: self.proc is None or self.proc.poll() is not None)
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.kind} bot exited early:\n{self.log.read_text()[-3000:]}")
        return time.perf_counter() - started

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the bot and return its exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code


@dataclass
class User:
    """One simulated person: what they did last and when the bot answered."""

    user_id: int
    rng: random.Random
    sent_at: float = 0.0
    first: float | None = None
    last: float | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    turns: int = 0


@dataclass
class Turn:
    """One update and its reply, in perf_counter seconds."""

    sent: float
    first: float
    done: float


@dataclass
class Results:
    """What a crowd of users saw."""

    turns: list[Turn] = field(default_factory=list)
    unanswered: int = 0

    def window(self, start: float, end: float) -> list[Turn]:
        """Turns completed inside [start, end)."""
        return [t for t in self.turns if start <= t.done < end]


Policy = Callable[[WatchedBotApi, User], None]


def play_curriculum(server: WatchedBotApi, user: User) -> None:
    """A family member's next move: mostly press an offered button, sometimes type or ask."""
    rng = user.rng
    if user.turns == 0:
        server.inject_message(user.user_id, "/start")
        return
    roll = rng.random()
    keyboard = server.keyboard(user.user_id)
    if roll < 0.02:
        server.inject_message(user.user_id, rng.choice(["/menu", "/progress", "/help"]))
    elif keyboard and roll < 0.85:
        message_id, datas = keyboard
        server.inject_callback(user.user_id, message_id, rng.choice(datas))
    else:
        server.inject_message(user.user_id, rng.choice(ANSWERS))


def echo_text(server: WatchedBotApi, user: User) -> None:
    """What users send the echo bot: text."""
    server.inject_message(user.user_id, rng_text(user.rng))


def rng_text(rng: random.Random) -> str:
    """A short answer."""
    return rng.choice(ANSWERS)


class Crowd:
    """Simulated users on the server's event loop: each sends, waits for the whole reply, thinks.

    A reply is complete when the bot has not touched the user's chat for `quiet` seconds;
    its latency is measured to the bot's last reaction (message, edit or answered press).
    A pause (`think`) is counted from that last reaction; with no pause the next message
    goes as soon as the reply is known to be complete.
    """

    def __init__(self, server: WatchedBotApi, user_ids: list[int], policy: Policy, *,
                 think: Callable[[random.Random], float] = lambda rng: 0.0, quiet: float = 0.05,
                 timeout: float = 120.0, seed: int = 7) -> None:
        self.server, self.policy, self.think = server, policy, think
        self.quiet, self.timeout = quiet, timeout
        self.users = {uid: User(uid, random.Random(seed * 1_000_003 + uid)) for uid in user_ids}
        self.results = Results()
        self.running = False
        self._tasks: list[asyncio.Task[None]] = []
        for uid in user_ids:
            server.add_user(uid)
        server.listener = self._on_reaction

    def _on_reaction(self, kind: str, chat_id: int, msg: dict[str, Any]) -> None:
        user = self.users.get(chat_id)
        if user is None:
            return
        now = time.perf_counter()
        user.last = now
        if user.first is None:
            user.first = now
            user.answered.set()

    async def _play(self, user: User, stagger: float) -> None:
        await asyncio.sleep(stagger)
        while self.running:
            user.first = user.last = None
            user.answered.clear()
            user.sent_at = time.perf_counter()
            self.policy(self.server, user)
            user.turns += 1
            try:
                await asyncio.wait_for(user.answered.wait(), self.timeout)
            except TimeoutError:
                self.results.unanswered += 1
                continue
            while True:
                last = user.last
                assert last is not None
                await asyncio.sleep(max(0.0, last + self.quiet - time.perf_counter()))
                if user.last == last:
                    break
            assert user.first is not None
            self.results.turns.append(Turn(user.sent_at, user.first, last))
            pause = self.think(user.rng)  # counted from the reply, as a person starts reading then
            if pause > 0:
                await asyncio.sleep(max(0.0, last + pause - time.perf_counter()))

    def start(self, spread: float = 1.0, *, first: Callable[[random.Random], float] | None = None) -> None:
        """Start every user, their first messages spread evenly over `spread` seconds.

        Or each after `first(rng)` seconds: with the think time's own law (exponential), the
        crowd sends at its steady rate from the start, with no burst nor wave to drain.
        """
        loop = self.server._loop
        assert loop is not None

        async def begin() -> None:
            self.running = True
            rng = random.Random(1)
            self._tasks = [asyncio.create_task(self._play(u, first(rng) if first else rng.random() * spread))
                           for u in self.users.values()]

        asyncio.run_coroutine_threadsafe(begin(), loop).result(10)

    def stop(self) -> None:
        """Stop every user (a reply in flight is abandoned)."""
        loop = self.server._loop
        assert loop is not None

        async def end() -> None:
            self.running = False
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(end(), loop).result(30)
        self.server.listener = None


@dataclass
class Sample:
    """The bot process at one moment."""

    at: float
    cpu: float
    rss_mb: float


def sample(pid: int) -> Sample:
    """Read a process's CPU time and memory now."""
    return Sample(time.perf_counter(), proc_cpu(pid), proc_rss_mb(pid))


def workdir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for one run."""
    return tempfile.TemporaryDirectory(prefix=prefix)


def seed_database(path: Path, users: int, curriculum: Path = CURRICULUM) -> None:
    """A bot database holding `users` onboarded people at random steps (plain progress)."""
    import asyncio as _asyncio
    import json
    import sqlite3

    from state.contracts import Progress
    from state.curriculum.loader import load_curriculum
    from state.engine.engine import Engine
    from state.store.progress import SqliteProgressStore

    async def schema() -> None:
        await (await SqliteProgressStore(path).open()).close()

    _asyncio.run(schema())
    engine = Engine(load_curriculum(curriculum))
    content = engine.curriculum.content(None)
    places = [(m.id, s.id) for m in content.modules.values() for s in m.steps]
    rng = random.Random(1)
    rows = []
    for uid in range(1, users + 1):
        module, step = rng.choice(places)
        progress = Progress(user_id=uid, module=module, step=step, seq=rng.randint(1, 300),
                            answers={"loved_one": "Sam", "relationship": "partner", "substance": "alcohol",
                                     "safety_fear": "no", "safety_weapons": "no", "shared_phone": "no",
                                     "trigger_time": "evenings after work"},
                            positions={module: step}, completed={"onboarding": 1.0},
                            created_at=1.0, updated_at=1.0, version=engine.version)
        rows.append((uid, json.dumps(vars(progress), separators=(",", ":")), module, step, engine.version,
                     time.time() - 86400.0, time.time() - 86400.0))
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO users (user_id, data, module, step, version, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
