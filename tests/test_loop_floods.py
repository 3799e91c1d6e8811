"""No head-of-line blocking: a flooded chat holds nobody else back and keeps its order.

SLOW sends 150 messages in a burst; QUICK writes right after and is answered within a
second, while SLOW's queue keeps `QUEUE_LIMIT` updates in order and tells them once to slow
down. The offset passes everything once it is all handled. A chat stuck on one update with
150 more behind it fills Telegram's window of 100: the offset moves past them and QUICK is
answered within a second all the same.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from telegram import Update
from telegram.ext import ContextTypes

from bot.ptb.updater import QUEUE_LIMIT, SLOW_DOWN, CommitFirstUpdater
from tests.kit.botapi import FakeBotApi
from tests.test_ptb_updater import QUICK, SLOW, Gate, offsets, running, settings_for, until


def told(server: FakeBotApi) -> int:
    """How many times SLOW was asked to slow down."""
    return sum(1 for m in server.sent(SLOW) if SLOW_DOWN[:20] in m["text"])


async def test_a_flooded_chat_holds_nobody_back(server: FakeBotApi, tmp_path: Path) -> None:
    async with running(settings_for(server, tmp_path)) as app:
        first = server.inject_message(SLOW, "/start")["update_id"]
        for i in range(150):
            server.inject_message(SLOW, f"message {i}")
        started = time.monotonic()
        quick = server.inject_message(QUICK, "/start")["update_id"]
        await until(server, lambda s: s.sent(QUICK))
        assert time.monotonic() - started < 1.0
        await until(server, lambda s: max(offsets(s)) > quick)
        updater = app.updater
        assert isinstance(updater, CommitFirstUpdater)
        assert updater.dropped + updater.handled >= 151 and updater.dropped > 0
    assert told(server) >= 1
    assert max(offsets(server)) > first + 150



async def test_a_stuck_chat_with_150_updates_behind_it_holds_nobody_back(
        server: FakeBotApi, tmp_path: Path) -> None:
    gate = Gate()  # SLOW's first update never ends while QUICK writes: Telegram's window clogs
    async with running(settings_for(server, tmp_path), gate) as app:
        first = server.inject_message(SLOW, "/start")["update_id"]
        await asyncio.wait_for(gate.holding.wait(), 20)
        for i in range(150):
            server.inject_message(SLOW, f"message {i}")
        started = time.monotonic()
        quick = server.inject_message(QUICK, "/start")["update_id"]
        await until(server, lambda s: s.sent(QUICK))
        assert time.monotonic() - started < 1.0
        updater = app.updater
        assert isinstance(updater, CommitFirstUpdater)
        assert updater.skips >= 1 and server.sent(SLOW)[:1] and told(server) == 1
        assert all(SLOW_DOWN[:20] in m["text"] for m in server.sent(SLOW))  # the rest waits
        gate.opened.set()  # then SLOW's queue is read in order, and the offset passes it all
        await until(server, lambda s: max(offsets(s)) > quick and updater.in_memory_only() == 0)
    assert first < quick


class Armed(Gate):
    """Holds SLOW's updates only once armed (their first is answered as usual)."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self.armed:
            await super().__call__(update, context)


def keyboard(server: FakeBotApi) -> tuple[int, list[str]]:
    """SLOW's latest bot message with buttons: its id and its buttons' data."""
    message = next(m for m in reversed(server.sent(SLOW)) if m.get("reply_markup"))
    rows = message["reply_markup"]["inline_keyboard"]
    return message["message_id"], [b["callback_data"] for row in rows for b in row]


async def test_presses_on_one_keyboard_while_one_waits_are_merged(
        server: FakeBotApi, tmp_path: Path) -> None:
    gate = Armed()
    async with running(settings_for(server, tmp_path), gate) as app:
        server.inject_message(SLOW, "/start")
        await until(server, lambda s: any(m.get("reply_markup") for m in s.sent(SLOW)))
        message_id, datas = keyboard(server)
        gate.armed = True
        server.inject_message(SLOW, "hello")  # held: what follows waits in SLOW's queue
        await asyncio.wait_for(gate.holding.wait(), 20)
        presses = [server.inject_callback(SLOW, message_id, datas[0])["callback_query"]["id"]
                   for _ in range(3)]
        await until(server, lambda s: {a["callback_query_id"] for a in s.answered_callbacks}
                    >= set(presses[1:]))  # the two extra presses answered at once, not queued
        updater = app.updater
        assert isinstance(updater, CommitFirstUpdater) and updater.merged == 2
        gate.opened.set()
        await until(server, lambda s: presses[0] in {a["callback_query_id"] for a in s.answered_callbacks})


async def test_words_of_crisis_are_read_even_from_a_full_queue(
        server: FakeBotApi, tmp_path: Path) -> None:
    gate = Gate()
    async with running(settings_for(server, tmp_path), gate):
        server.inject_message(SLOW, "/start")
        await asyncio.wait_for(gate.holding.wait(), 20)
        for i in range(QUEUE_LIMIT + 5):
            server.inject_message(SLOW, f"message {i}")
        server.inject_message(SLOW, "Honestly I want to die some days")
        await until(server, lambda s: told(s) == 1)  # the queue overflowed
        gate.opened.set()
        await until(server, lambda s: any("988" in m["text"] for m in s.sent(SLOW)))
