"""Crisis words typed during a homework review, through the real bot (in this process) and the
fake Bot API: the help comes first, and the words come back to the review's question, whole.

The review is reached as a person reaches it: onboarding, the Basics module with its
homework, then the evening check-in (the clock in a file, as in test_reminders_telegram).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.ptb.privacy import data_cipher
from state.contracts import Progress
from state.service.clock import FileClock
from state.store.progress import SqliteProgressStore
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import InProcessBot
from tests.kit.player import Player, texts
from tests.kit.world import NY, at
from tests.test_reminders_telegram import basics, bot, clock, onboard, press, server, until, wait_for_reminder

__all__ = ["bot", "clock", "server"]  # the fixtures of test_reminders_telegram, used here

WORDS = ("It went ok at dinner. " * 40 + "but honestly some nights i want to kill myself").strip()


def saved(database: Path, user_id: int) -> Progress | None:
    async def read() -> Progress | None:
        store = await SqliteProgressStore(database, data_cipher()).open()
        try:
            return await store.load(user_id)
        finally:
            await store.close()

    return asyncio.run(read())


def test_crisis_words_in_a_homework_review_get_help_then_go_back_to_the_review_whole(
        server: FakeBotApi, bot: InProcessBot, clock: FileClock) -> None:
    anna = Player(server, 2201)
    onboard(anna)
    basics(anna)
    clock.set(at(NY, "2024-03-11 19:00"))
    wait_for_reminder(server, anna.chat_id)
    until(anna, lambda: press(anna, "I tried it"), "How did it go?")

    help_ = until(anna, lambda: server.inject_message(anna.user_id, WORDS), "Are you safe right now?")
    assert "988" in texts(help_)
    assert "What got in the way" not in texts(help_)  # the words were not taken as an answer yet
    until(anna, lambda: press(anna, "I'm safe right now"), "What would help now?")
    back = until(anna, lambda: press(anna, "Back to where I was"), "I kept what you wrote")
    assert "How did it go?" in texts(back)  # the review's question, not a lesson step
    (message_id, data), = [(m["message_id"], b["callback_data"]) for m in back
                           for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row
                           if b["text"] == "Use what I wrote"]
    until(anna, lambda: anna.inject("inject_callback", anna.user_id, message_id, data), "What got in the way")

    progress = saved(bot.database, anna.user_id)
    assert progress is not None
    assert progress.answers["homework_how"] == WORDS  # whole: over 800 characters, not cut
    assert "held" not in progress.pending
