"""The updater's promise, through the real python-telegram-bot stack in this process: the
getUpdates offset never passes an update that is not handled yet, so a slow update holds
nobody back and is never lost, and one whose handling never finished is fetched again.

The bot is `build_application(...)` as `craftbot run` builds it, polling the fake Bot API
server (tests/kit/botapi.py). A handler added in front of the bot's own (PTB's public
`add_handler`) holds one person's update until the test lets it go: a slow chart, a slow
disk, or, when it ends by cancellation, a process killed in the middle of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.config import (
    CurriculumSettings,
    ReminderSettings,
    Settings,
    StorageSettings,
    TelegramSettings,
)
from bot.ptb.app import UPDATES, build_application
from state.curriculum.loader import load_curriculum
from state.engine.engine import Engine
from tests.kit.botapi import FakeBotApi
from tests.kit.curricula import SAMPLE

SLOW, QUICK = 2001, 2002  # the person whose update is held, and someone writing after them


class Gate:
    """Holds SLOW's updates in a handler until opened; or ends them as a killed process would."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.holding = asyncio.Event()
        self.kill = False

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_user is None or update.effective_user.id != SLOW:
            return
        self.holding.set()
        await self.opened.wait()
        if self.kill:  # the handling never finishes: nothing after this point runs
            raise asyncio.CancelledError


def settings_for(server: FakeBotApi, tmp_path: Path) -> Settings:
    """The bot's settings against the fake server, reminders off, no rate limiter."""
    return Settings(
        telegram=TelegramSettings(base_url=server.base_url, base_file_url=server.base_file_url,
                                  token=SecretStr(server.token), poll_timeout=1, max_per_second=0),
        storage=StorageSettings(database=tmp_path / "bot.sqlite3"),
        curriculum=CurriculumSettings(path=SAMPLE),
        reminders=ReminderSettings(send=False, jitter_minutes=0),
    )


@asynccontextmanager
async def running(settings: Settings, gate: Gate | None = None) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The bot polling, as `run_polling` starts and stops it, inside the test's event loop."""
    app = build_application(settings, Engine(load_curriculum(settings.curriculum.path)))
    if gate is not None:
        app.add_handler(TypeHandler(Update, gate), group=-2)
    async with app:
        assert app.post_init is not None and app.post_shutdown is not None and app.updater
        await app.post_init(app)
        await app.updater.start_polling(timeout=1, allowed_updates=UPDATES)
        await app.start()
        try:
            yield app
        finally:
            if gate is not None:
                gate.opened.set()  # a failed test must not leave the stop waiting on it
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)


async def until(server: FakeBotApi, predicate: Callable[[FakeBotApi], Any]) -> None:
    """Wait (off the event loop, so the bot keeps running) until the server shows `predicate`."""
    await asyncio.to_thread(server.wait_for, predicate, 20.0)


def offsets(server: FakeBotApi) -> list[int]:
    """The offset of every getUpdates call so far (0 when none was sent)."""
    return [int(params.get("offset") or 0) for method, params in server.calls if method == "getUpdates"]


def unconfirmed(server: FakeBotApi, update_id: int) -> bool:
    """Whether Telegram would still deliver this update: no offset sent so far has passed it."""
    return max(offsets(server), default=0) <= update_id


async def test_a_slow_update_holds_the_offset_but_not_the_next_person(
        server: FakeBotApi, tmp_path: Path) -> None:
    gate = Gate()
    async with running(settings_for(server, tmp_path), gate):
        slow = server.inject_message(SLOW, "/start")["update_id"]
        await asyncio.wait_for(gate.holding.wait(), 20)
        server.inject_message(QUICK, "/start")
        await until(server, lambda s: s.sent(QUICK))
        polls = len(offsets(server))
        await until(server, lambda s: len(offsets(s)) > polls + 2)  # asked again, got it again
        assert server.sent(SLOW) == [] and unconfirmed(server, slow)

        gate.opened.set()
        await until(server, lambda s: s.sent(SLOW))
        await until(server, lambda s: max(offsets(s)) > slow)
        answered = len(server.sent(SLOW))
    assert "someone you love" in server.sent(SLOW)[0]["text"]
    assert len(server.sent(SLOW)) == answered, "fetched many times, handled once"


async def test_an_update_whose_handling_never_finished_is_fetched_again_after_a_restart(
        server: FakeBotApi, tmp_path: Path) -> None:
    settings = settings_for(server, tmp_path)
    gate = Gate()
    gate.kill = True
    async with running(settings, gate):
        slow = server.inject_message(SLOW, "/start")["update_id"]
        await asyncio.wait_for(gate.holding.wait(), 20)
        server.inject_message(QUICK, "/start")
        await until(server, lambda s: s.sent(QUICK))
        gate.opened.set()  # SLOW's handling dies here, unanswered
    seen = [m["text"] for m in server.sent(QUICK)]
    assert server.sent(SLOW) == [] and unconfirmed(server, slow)

    async with running(settings):  # the bot again, on the same database
        await until(server, lambda s: s.sent(SLOW))
        await until(server, lambda s: max(offsets(s)) > slow)
    assert "someone you love" in server.sent(SLOW)[0]["text"]
    # QUICK's update came again too (it stood behind SLOW's): it is not handled twice, they
    # see at most their question once more (state/service/redelivery.py).
    again = [m["text"] for m in server.sent(QUICK)][len(seen):]
    assert again in ([], seen[-1:])
