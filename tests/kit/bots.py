"""The real bot against a FakeBotApi, two ways: in this process, or as a `craftbot run` process.

`InProcessBot` builds the application with `bot.ptb.app.build_application` and runs it the
way `Application.run_polling` does (initialize, post_init, start polling, start; then the
same steps back), on an event loop in a thread of its own, as python-telegram-bot's own
tests drive a real Application offline. Most Telegram-level tests use it: it starts in
milliseconds and its failures show in pytest's output.

`BotProcess` starts the real `craftbot run` in a subprocess. Only tests that need a real
process use it (marked `e2e`): a crash (SIGKILL), SIGHUP, start-up checks and the log file.

Both write the same config.yaml, expose the same `database`, and have `start()` return
once the bot polls for updates and `stop()` return once it has stopped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, TypeVarTuple

from bot.config import load_settings
from bot.ptb.app import UPDATES, build_application
from bot.ptb.webhook import webhook_arguments
from state.curriculum.loader import load_curriculum
from state.engine.engine import Engine
from tests.kit.botapi import FakeBotApi
from tests.kit.curricula import REPO, SAMPLE


def write_config(server: FakeBotApi, workdir: Path, curriculum: Path, extra_config: str,
                 *, with_token: bool, telegram: str = "") -> Path:
    """The bot's config.yaml in `workdir`, pointed at the fake server (token in it if asked).

    `telegram` is more lines of the `telegram:` section, indented (a webhook, say).
    """
    config = workdir / "config.yaml"
    token = f"  token: {server.token}\n" if with_token else ""
    exact = "reminders:\n  jitter_minutes: 0\n"  # reminders exactly on time, so tests can say when
    extra_config = (extra_config.replace("reminders:\n", exact, 1) if "reminders:\n" in extra_config
                    else extra_config + exact)
    config.write_text(
        "telegram:\n"
        f"  base_url: {server.base_url}\n"
        f"  base_file_url: {server.base_file_url}\n"
        "  poll_timeout: 2\n" + token + telegram +
        # Telegram's pace (one message a second to a chat past a burst) is the outbox's own
        # tests' subject; elsewhere a reply arrives whole before the player looks.
        ("" if "max_per_second" in telegram else "  max_per_second: 0\n") +
        "storage:\n"
        f"  database: {workdir / 'data' / 'bot.sqlite3'}\n"
        "curriculum:\n"
        f"  path: {curriculum}\n"
        "logging:\n  level: DEBUG\n"
        + ("" if "metrics:" in extra_config else "metrics:\n  listen: ''\n")  # no fixed port unless asked
        + extra_config, encoding="utf-8")
    return config


def polls(server: FakeBotApi) -> int:
    """How many times the bot has asked the server for updates."""
    return sum(1 for method, _ in server.calls if method == "getUpdates")


def started(server: FakeBotApi) -> int:
    """How many times a bot has begun taking updates: each long poll, each setWebhook."""
    return sum(1 for method, _ in server.calls if method in ("getUpdates", "setWebhook"))


Ts = TypeVarTuple("Ts")
T = TypeVar("T")


class ThreadLoop(asyncio.SelectorEventLoop):
    """An event loop for a thread other than the main one: signal handlers are kept, not installed.

    Only the main thread may install signal handlers; the bot installs one for SIGHUP.
    `raise_signal` runs the kept handler, as the signal would.
    """

    def __init__(self) -> None:
        super().__init__()
        self.handlers: dict[int, tuple[Callable[..., object], tuple[Any, ...]]] = {}

    def add_signal_handler(self, sig: int, callback: Callable[[*Ts], object],
                           *args: *Ts) -> None:
        """Keep the handler for `raise_signal`."""
        self.handlers[sig] = (callback, args)

    def remove_signal_handler(self, sig: int) -> bool:
        """Forget a kept handler."""
        return self.handlers.pop(sig, None) is not None

    def raise_signal(self, sig: int) -> None:
        """Run the handler kept for `sig` on this loop (from any thread)."""
        callback, args = self.handlers[sig]
        self.call_soon_threadsafe(callback, *args)


class Tracebacks(logging.Handler):
    """Keeps every log record that carries a traceback (an exception the bot logged)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record if it has a traceback."""
        if record.exc_info:
            self.records.append(record)


class InProcessBot:
    """`build_application(...)` run in this process against a FakeBotApi.

    `tracebacks` holds every exception the bot logged while running (as the log file of
    a `craftbot run` process would show them).
    """

    def __init__(self, server: FakeBotApi, workdir: Path, curriculum: Path = SAMPLE,
                 extra_config: str = "", telegram: str = "") -> None:
        self.server = server
        self.config = write_config(server, workdir, curriculum, extra_config, with_token=True,
                                   telegram=telegram)
        self.failure: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._loop: ThreadLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._logged = Tracebacks()
        self.app: Any = None  # the running Application, once started

    @property
    def database(self) -> Path:
        """The SQLite file the bot writes."""
        return self.config.parent / "data" / "bot.sqlite3"

    @property
    def tracebacks(self) -> list[logging.LogRecord]:
        """The log records with a traceback the bot wrote so far."""
        return list(self._logged.records)

    @property
    def alive(self) -> bool:
        """Whether the bot is running (it has not stopped or failed)."""
        return self._thread is not None and self._thread.is_alive() and self.failure is None

    def start(self) -> InProcessBot:
        """Start the bot and wait until it polls for updates (or has set its webhook)."""
        before = started(self.server)
        self.failure = None
        self._thread = threading.Thread(target=self._run, name="craftbot-in-process", daemon=True)
        logging.getLogger().addHandler(self._logged)
        self._thread.start()
        self.server.wait_for(lambda s: self.failure is not None or started(s) > before, timeout=30)
        if self.failure is not None:
            raise RuntimeError("the bot failed to start") from self.failure
        return self

    def _run(self) -> None:
        with asyncio.Runner(loop_factory=ThreadLoop) as runner:
            try:
                runner.run(self._serve())
            except BaseException as exc:  # reported by start() and stop(), in the test's thread
                self.failure = exc
                self.server.notify()  # start() sees it at once

    async def _serve(self) -> None:
        """Run the application as `Application.run_polling` does, until `stop()`."""
        settings = load_settings(self.config)
        engine = Engine(load_curriculum(settings.curriculum.path, settings.curriculum.default_locale),
                        settings.crisis.resource_map(), settings.crisis.wording())
        app = self.app = build_application(settings, engine)
        loop = asyncio.get_running_loop()
        assert isinstance(loop, ThreadLoop)
        self._loop, self._stopping = loop, asyncio.Event()
        await app.initialize()
        try:
            if app.post_init:
                await app.post_init(app)
            assert app.updater is not None
            if settings.telegram.webhook.url:
                await app.updater.start_webhook(**webhook_arguments(settings, UPDATES))
            else:
                await app.updater.start_polling(timeout=settings.telegram.poll_timeout,
                                                allowed_updates=UPDATES, drop_pending_updates=False)
            await app.start()
            await self._stopping.wait()
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
        finally:
            await app.shutdown()
            if app.post_shutdown:
                await app.post_shutdown(app)

    def call(self, work: Callable[[], Awaitable[T]], timeout: float = 30) -> T:
        """Run `work()` on the bot's event loop (from the test's thread) and return its result."""
        assert self._loop is not None

        async def run() -> T:
            return await work()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def hang_up(self) -> None:
        """Deliver SIGHUP to the bot (it reloads the curriculum)."""
        assert self._loop is not None
        self._loop.raise_signal(signal.SIGHUP)

    def stop(self) -> int:
        """Stop the bot cleanly (as SIGTERM does); 0, or the failure the bot stopped with."""
        assert self._thread is not None and self._loop is not None and self._stopping is not None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=30)
        logging.getLogger().removeHandler(self._logged)
        assert not self._thread.is_alive(), "the bot did not stop within 30 seconds"
        self._thread = None
        if self.failure is not None:
            raise RuntimeError("the bot failed") from self.failure
        return 0


class BotProcess:
    """The real `craftbot run` in a subprocess, talking to a FakeBotApi."""

    def __init__(self, server: FakeBotApi, workdir: Path, curriculum: Path = SAMPLE,
                 extra_config: str = "", telegram: str = "") -> None:
        self.server = server
        self.config = write_config(server, workdir, curriculum, extra_config, with_token=False,
                                   telegram=telegram)
        self.log = workdir / "bot.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def database(self) -> Path:
        """The SQLite file the bot writes."""
        return self.config.parent / "data" / "bot.sqlite3"

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> BotProcess:
        """Start the bot and wait until it polls for updates (or has set its webhook)."""
        before = started(self.server)
        env = {**os.environ, "CRAFTBOT_TELEGRAM_TOKEN": self.server.token, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run", "--config", str(self.config)],
                cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.server.wait_for(lambda s: self._exited() or started(s) > before, timeout=30)
        if self._exited():
            raise RuntimeError(f"bot exited early:\n{self.log.read_text()}")
        return self

    def _exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the bot (SIGTERM: clean; SIGKILL: a crash) and return its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        self.proc = None
        return code
