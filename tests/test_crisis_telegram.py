"""The crisis flow, /safetyplan and discreet mode through the real bot (in this process) and the Bot API."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from state.store.crypto import KEY_ENV, new_key
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import InProcessBot
from tests.kit.player import Player, texts

TESTS = Path(__file__).parent


@pytest.fixture
def bot(server: FakeBotApi, tmp_path: Path) -> Iterator[InProcessBot]:
    """The bot on the sample curriculum plus a short safety-plan module."""
    curriculum = tmp_path / "curriculum"
    shutil.copytree(TESTS / "curriculum", curriculum)
    shutil.copy(TESTS / "data" / "plan_module.yaml", curriculum / "en" / "plan.yaml")
    process = InProcessBot(server, tmp_path, curriculum).start()
    yield process
    process.stop()
    assert server.errors == [], "the bot sent something Telegram would reject"


def onboard(player: Player, shared_phone: str) -> None:
    """Onboarding as Sam's partner, no safety concern; the phone shared or not."""
    player.send("/start")
    player.press("Yes, let's start")
    player.send("Sam")
    for label in ("My partner", "Alcohol"):
        player.press(label)
    for _ in range(2):  # the two safety questions: the exact "No" button, not "Not sure"
        message_id, _, data = next(b for b in player.buttons() if b[1] == "No")
        player.inject("inject_callback", player.user_id, message_id, data)  # waits for the answer
    player.press(shared_phone)


def test_crisis_flow_and_safety_plan_end_to_end(server: FakeBotApi, bot: InProcessBot) -> None:
    assert {c["command"] for c in server.commands} >= {"safety", "safetyplan", "discreet"}
    player = Player(server, 4001)
    onboard(player, "No")
    player.send("/menu")
    assert "Where could you go" in texts(player.press("Plan ahead"))
    player.send("the neighbours, number 12")
    assert "Who could you call?" in player.last_text()

    replies = player.send("He's SCREAMING that he'll kill me!!")
    resources = [m for m in replies if "1-800-799-7233" in m.get("text", "")]
    assert resources and "988" in texts(replies)
    assert [b[1] for b in player.buttons()] == ["I'm safe right now", "I'm not safe", "I'm not sure"]
    player.press("I'm not safe")
    assert "Please get help now" in texts(server.sent(4001)[-3:])
    assert "Back to where I was" not in [b[1] for b in player.buttons()]
    player.press("I'm safe now")
    replies = player.press("My safety plan")
    assert "A safe place: the neighbours, number 12" in texts(replies)
    assert "Anyone who can see this screen" in texts(replies)
    replies = player.press("Back to where I was")
    assert "Who could you call?" in player.last_text()
    # the resources were never edited away, and the typed threat was not taken as the answer
    sent = {m["message_id"]: m for m in server.sent(4001)}
    assert all("edit_date" not in sent[m["message_id"]] for m in resources)
    player.send("my brother")
    assert "You wrote that you could go to: the neighbours, number 12" in player.last_text()

    replies = player.send("/safetyplan")
    assert "Who to call: my brother" in texts(replies)


def test_discreet_mode_end_to_end(server: FakeBotApi, bot: InProcessBot) -> None:
    player = Player(server, 4002)
    onboard(player, "Yes, maybe")
    assert "Discreet mode is on" in texts(player.send("/discreet"))
    player.send("/menu")
    player.press("Plan ahead")
    player.send("the neighbours, number 12")
    player.send("my brother")
    assert player.last_text() == "You wrote that you could go to: (kept private)"
    player.send("/discreet")
    player.press("Turn discreet mode off")
    assert "Discreet mode is off" in player.last_text()
    player.press("Continue")
    assert "number 12" in player.last_text()


def test_an_edited_message_with_crisis_words_interrupts(server: FakeBotApi, bot: InProcessBot) -> None:
    player = Player(server, 4003)
    onboard(player, "No")
    player.send("/menu")
    own = [m for m in server.messages[4003] if not m["from"]["is_bot"] and "text" in m]
    player.inject("inject_edited_message", 4003, own[-1]["message_id"], "my son isn't breathing")
    assert "This may be an emergency" in texts(server.sent(4003)[-4:])


@pytest.mark.parametrize("typed", ["/delete i want to kill myself", "/hide\ni want to kill myself",
                                   "/mydata   i want to kill myself", "/menu i want to kill myself",
                                   "/stats i want to kill myself", "/reload\ni want to kill myself"])
def test_crisis_words_after_a_command_get_help_through_telegram(server: FakeBotApi, bot: InProcessBot,
                                                                typed: str) -> None:
    player = Player(server, 4100)
    onboard(player, "No")
    replies = player.send(typed)
    said = texts(replies)
    assert "988" in said and "Erase everything" not in said
    assert [b[1] for b in player.buttons()][:1] == ["I'm safe right now"]


def test_own_suicidal_thoughts_show_the_suicide_line_not_the_violence_line(
        server: FakeBotApi, tmp_path: Path) -> None:
    bot = InProcessBot(server, tmp_path, TESTS.parent / "curriculum").start()  # the bundled one
    try:
        player = Player(server, 4104)
        player.send("/start")
        said = texts(player.send("honestly i want to die, i can't do this anymore"))
        lines = [line for line in said.splitlines() if line.startswith(("911", "988", "National"))]
        assert [line.split(":")[0] for line in lines] == ["911", "988 Suicide & Crisis Lifeline"]
        assert "Domestic Violence" not in said and "1-800-799-7233" not in said
        # someone threatened by the loved one still gets the violence line
        assert "1-800-799-7233" in texts(player.send("he says he will kill me when he gets home"))
    finally:
        bot.stop()
    assert server.errors == []


def test_invisible_characters_do_not_hide_crisis_words(server: FakeBotApi, bot: InProcessBot) -> None:
    player = Player(server, 4101)
    onboard(player, "No")
    assert "988" in texts(player.send("i want to ki\u200bll my\u00adself"))


def test_discreet_mode_sends_quietly_and_protects_the_safety_plan(server: FakeBotApi,
                                                                   bot: InProcessBot) -> None:
    player = Player(server, 4102)
    onboard(player, "Yes, maybe")  # someone else may read the phone: discreet mode
    player.send("/safety")
    calls = [params for method, params in server.calls if method == "sendMessage"
             and str(params.get("chat_id")) == "4102"]
    last = calls[-1]
    assert str(last.get("disable_notification")).lower() == "true"
    assert "is_disabled" in str(last.get("link_preview_options"))
    player.send("/safetyplan")
    plan = [params for method, params in server.calls if method == "sendMessage"
            and str(params.get("chat_id")) == "4102"][-1]
    assert str(plan.get("protect_content")).lower() == "true"


def test_a_row_that_cannot_be_decrypted_still_gets_help_and_can_be_erased(
        server: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    curriculum = tmp_path / "curriculum"
    shutil.copytree(TESTS / "curriculum", curriculum)
    monkeypatch.setenv(KEY_ENV, new_key())
    first = InProcessBot(server, tmp_path, curriculum).start()
    player = Player(server, 4300)
    onboard(player, "No")
    first.stop()
    monkeypatch.setenv(KEY_ENV, new_key())  # the key the row was sealed with is lost
    bot = InProcessBot(server, tmp_path, curriculum).start()
    try:
        assert "988" in texts(player.send("i want to kill myself"))
        assert "988" in texts(player.send("/safety"))
        player.send("/delete")
        player.press("Yes, erase")
        assert "erased" in texts(player.press("Erase everything now"))
    finally:
        bot.stop()
    assert server.errors == []
    with sqlite3.connect(bot.database) as db:  # erased without ever being decrypted
        assert db.execute("SELECT count(*) FROM users WHERE user_id = 4300").fetchone()[0] == 0
