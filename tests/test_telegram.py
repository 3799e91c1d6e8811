"""The real bot against a local Bot API server: what a family member would see.

The bot runs in this process (`InProcessBot`); only the crash test starts a real process.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.botapi import FakeBotApi
from tests.kit.bots import BotProcess, InProcessBot
from tests.kit.player import Player, texts


@pytest.fixture
def bot(server: FakeBotApi, tmp_path: Path) -> Iterator[InProcessBot]:
    running = InProcessBot(server, tmp_path).start()
    yield running
    running.stop()
    assert server.errors == [], "the bot sent something Telegram would reject"


def onboard(player: Player) -> None:
    """Go through onboarding as a partner of 'Sam' who drinks, with no safety concern."""
    replies = player.send("/start")
    assert "CRAFT" in texts(replies)
    player.press("Yes, let's start")
    assert "call your loved one" in player.last_text()
    assert "Who is Sam to you?" in texts(player.send("Sam"))
    player.press("My partner")
    player.press("Alcohol")
    player.press("No")
    player.press("No")
    replies = player.press("No")
    assert "the end of “Getting started”" in texts(replies)


def test_onboarding_module_and_resume_after_restart(server: FakeBotApi, bot: InProcessBot) -> None:
    assert {c["command"] for c in server.commands} >= {"start", "menu", "progress", "help", "safety"}
    player = Player(server, 1001)
    onboard(player)
    assert "Welcome to the basics, about Sam." in texts(player.press("Next: Basics"))
    player.press("Ready")
    assert "How stressed are you today?" in player.last_text()
    player.press("7")
    # the pressed scale message now shows the pick and has no buttons left
    scale = next(m for m in server.sent(1001) if "How stressed" in m.get("text", ""))
    assert "» 7" in scale["text"] and "reply_markup" not in scale
    replies = player.press("I'd love your help")
    assert "positive and specific" in texts(replies)
    player.send("evenings after work")
    assert "When is the best time to talk?" in player.last_text()
    replies = player.press("While they are drunk")
    assert "Not then" in texts(replies) and "try again" in texts(replies)

    bot.stop()
    bot.start()  # a new process on the same database
    replies = player.send("/start")
    assert "Welcome back" in texts(replies)
    assert "When is the best time to talk?" in player.last_text()
    replies = player.press("sober and calm")
    assert "That's right" in texts(replies)
    assert "Which of these have you done?" in player.last_text()


def test_old_and_forged_buttons_never_move_the_user(server: FakeBotApi, bot: InProcessBot) -> None:
    player = Player(server, 1002)
    onboard(player)
    player.press("Next: Basics")
    player.press("Ready")
    player.send("not a number")  # the scale is shown again: two live keyboards now
    first_scale = next(m for m in server.sent(1002) if "How stressed" in m.get("text", ""))
    player.press("3")
    assert "Which sounds kinder?" in player.last_text()
    stale = next(b["callback_data"] for row in first_scale["reply_markup"]["inline_keyboard"]
                 for b in row if b["text"] == "9")
    replies = player.inject("inject_callback", 1002, first_scale["message_id"], stale)
    assert "earlier step" in texts(replies)
    assert "Which sounds kinder?" in player.last_text()
    forged = {"callback_query": {"id": "forged-1", "chat_instance": "x",
                                 "from": {"id": 1002, "is_bot": False, "first_name": "T"},
                                 "data": "o:99999:0"}}
    replies = player.inject("inject_raw", forged)
    assert "Which sounds kinder?" in player.last_text() and "earlier step" in texts(replies)
    assert any(a.get("callback_query_id") == "forged-1" for a in server.answered_callbacks)


def test_stickers_edits_groups_and_duplicates(server: FakeBotApi, bot: InProcessBot) -> None:
    player = Player(server, 1003)
    player.send("/start")
    replies = player.inject("inject_sticker", 1003)
    assert "only read text" in texts(replies)
    assert "Is that okay with you?" in player.last_text()
    replies = player.inject("inject_voice", 1003)
    assert "only read text" in texts(replies)
    own = server.messages[1003][0]
    replies = player.inject("inject_edited_message", 1003, own["message_id"], "/start please")
    assert "edited a message" in texts(replies)

    group = Player(server, 1004)
    replies = group.inject("inject_message", 1004, "hello bot", chat_id=-5001, chat_type="group")
    assert server.sent(-5001) and "private chats" in server.sent(-5001)[0]["text"]
    assert any(m == "leaveChat" for m, _ in server.calls)
    assert server.sent(1004) == [] and replies == []

    before = server.sent_count(1003)
    typist = Player(server, 1003)
    typist.inject("inject_message", 1003, "1")
    update = typist.injected
    after_first = server.sent_count(1003)
    server.inject_duplicate(update)
    server.wait_idle()
    assert after_first > before and server.sent_count(1003) == after_first


def test_crisis_words_interrupt_a_module_and_lead_back(server: FakeBotApi, bot: InProcessBot) -> None:
    player = Player(server, 1005)
    onboard(player)
    player.press("Next: Basics")
    player.press("Ready")
    player.press("5")
    player.press("I'd love your help")
    replies = player.send("Honestly I want to die some days")
    assert "988" in texts(replies) and "911" in texts(replies)
    assert "Back to where I was" not in [b[1] for b in player.buttons()]  # not in one tap
    player.press("I'm safe right now")
    replies = player.press("Back to where I was")
    assert "When does Sam usually use?" in player.last_text()
    # the words may have been the answer: one tap keeps them, nothing is lost
    replies = player.press("Use what I wrote")
    assert "Saved" in texts(replies)
    assert "When is the best time to talk?" in player.last_text()


@pytest.mark.e2e
def test_a_crash_loses_no_answered_step(server: FakeBotApi, tmp_path: Path) -> None:
    bot = BotProcess(server, tmp_path).start()
    player = Player(server, 1006)
    onboard(player)
    player.press("Next: Basics")
    player.press("Ready")
    bot.stop(signal.SIGKILL)
    bot.start()
    try:
        player.send("/start")
        assert "How stressed are you today?" in player.last_text()
    finally:
        bot.stop()
    assert server.errors == [], "the bot sent something Telegram would reject"
