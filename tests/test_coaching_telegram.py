"""The rehearsal coach through the real bot: python-telegram-bot's stack, in this process,
against the fake Bot API server, on a small curriculum with one coached rehearsal.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.botapi import FakeBotApi
from tests.kit.bots import InProcessBot
from tests.kit.player import Player, texts
from tests.test_coaching import build


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
def bot(server: FakeBotApi, tmp_path: Path) -> Iterator[InProcessBot]:
    running = InProcessBot(server, tmp_path, build(tmp_path / "curriculum")).start()
    yield running
    running.stop()
    assert server.errors == [], "the bot sent something Telegram would reject"


def test_a_threat_typed_in_telegram_is_coached_once_then_the_rehearsal_goes_on(
        server: FakeBotApi, bot: InProcessBot) -> None:
    player = Player(server, 4001)
    player.send("/start")
    player.press("Yes, let's start")
    player.send("Sam")
    for label in ("My partner", "Alcohol", "No", "No", "No"):
        player.press(label)
    player.send("/menu")
    assert "How would you say it?" in texts(player.press("Rehearse"))
    assert "Could you say a little more?" in texts(player.send("7"))  # a bare number is no line
    coached = texts(player.send("Stop drinking or I'll divorce you"))
    assert "has a threat in it" in coached and "Want to try once more?" in coached
    assert "Sam, I love you, and I'm worried. Would you have dinner with me on Friday?" in coached
    again = texts(player.send("Sam, I feel worried. Would you have dinner with me on Friday?"))
    assert "That's calmer: no threat this time." in again
    assert "Any initial you'd like to sign it with?" in again
    assert "Done." in texts(player.send("S"))
