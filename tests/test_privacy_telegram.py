"""The privacy commands through the real bot (in this process) and the fake Bot API: what a user would see."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from state.contracts import Progress
from state.store.progress import SqliteProgressStore
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import BotProcess, InProcessBot
from tests.kit.player import Player, texts
from tests.test_privacy import file_bytes

HOUR = 3600.0
PHRASE = "Plover-Cardamom-2208"


@pytest.fixture
def bot(server: FakeBotApi, tmp_path: Path) -> Iterator[InProcessBot]:
    process = InProcessBot(server, tmp_path)
    config = process.config.read_text()
    process.config.write_text(config.replace("telegram:\n", "telegram:\n  admins: [4004]\n"))
    process.start()
    yield process
    process.stop()
    assert server.errors == [], "the bot sent something Telegram would reject"


def onboard(player: Player, name: str = "Sam") -> None:
    player.send("/start")
    player.press("Yes, let's start")
    player.send(name)
    for label in ("My partner", "Alcohol", "No", "No", "No"):
        player.press(label)


def rows_about(database: Path, user_id: int) -> int:
    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute(
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c"
            " WHERE m.type = 'table' AND c.name = 'user_id'")]
        return sum(db.execute(f'SELECT count(*) FROM "{t}" WHERE user_id = ?', (user_id,)).fetchone()[0]
                   for t in tables)


def test_hide_deletes_the_last_two_days_and_leaves_one_neutral_message(server: FakeBotApi,
                                                                       bot: InProcessBot) -> None:
    clock = {"now": time.time() - 49 * HOUR}
    server.now = lambda: clock["now"]
    player = Player(server, 2001)
    player.send("/start")
    player.press("Yes, let's start")  # these are 49 hours old at /hide time: out of reach
    old = {m["message_id"] for m in server.messages[2001]}

    clock["now"] = time.time() - 47 * HOUR  # two hours later: 47 hours before /hide
    player.send("Sam")
    player.press("My partner")
    clock["now"] = time.time() - HOUR
    player.press("Alcohol")
    server.now = time.time
    recent = {m["message_id"] for m in server.messages[2001]} - old

    mark = server.sent_count(2001)
    hide_command = server.inject_message(2001, "/hide")["message"]["message_id"]
    server.wait_idle()
    replies = server.sent(2001)[mark:]
    deleted = {message_id for chat, message_id in server.deleted if chat == 2001}
    assert deleted == recent | {hide_command}
    assert len(replies) == 1 and "Clear history" in replies[0]["text"]
    left = server.messages[2001]
    assert {m["message_id"] for m in left} == old | {replies[0]["message_id"]}
    for word in ("Sam", "alcohol", "drink", "drug", "CRAFT"):
        assert word.lower() not in replies[0]["text"].lower()
    # the bot's own reply and the user's next message can be hidden again
    player.send("/hide")
    assert {m["message_id"] for m in server.messages[2001]} == old | {server.sent(2001)[-1]["message_id"]}


def test_mydata_sends_a_json_file_and_a_summary(server: FakeBotApi, bot: InProcessBot) -> None:
    player = Player(server, 2002)
    onboard(player, "Marguerite")
    replies = player.send("/mydata")
    assert replies[0]["document"]["file_name"].endswith(".json")
    file_id = replies[0]["document"]["file_id"]
    data = json.loads(server.files[file_id]["data"])
    assert data["user_id"] == 2002 and data["progress"]["answers"]["loved_one"] == "Marguerite"
    assert data["tables"]["recent_messages"] and "text" not in data["tables"]["recent_messages"][0]
    assert "Everything I keep about you" in texts(replies)
    assert "Marguerite" not in texts(replies)


def test_delete_twice_confirmed_erases_every_row_and_byte(server: FakeBotApi, bot: InProcessBot) -> None:
    player = Player(server, 2003)
    onboard(player, PHRASE)
    bystander = Player(server, 2013)
    onboard(bystander, "Ingrid")
    assert any(PHRASE.encode() in d for d in file_bytes(bot.database).values())

    assert "can't be undone" in texts(player.send("/delete"))
    assert "Last check" in texts(player.press("Yes, erase"))
    first = next(m for m in server.sent(2003) if "can't be undone" in m.get("text", ""))
    assert "reply_markup" not in first  # the pressed question lost its buttons
    assert rows_about(bot.database, 2003) > 0
    assert "erased" in texts(player.press("Erase everything now"))
    assert rows_about(bot.database, 2003) == 0
    for name, data in file_bytes(bot.database).items():
        assert PHRASE.encode() not in data, name
    assert rows_about(bot.database, 2013) > 0
    replies = player.send("/start")  # a new beginning
    assert "CRAFT" in texts(replies)


def test_delete_erases_a_reply_that_never_went_out_whole(server: FakeBotApi, bot: InProcessBot) -> None:
    player = Player(server, 2004)
    player.send("/start")
    player.press("Yes, let's start")
    server.fail("sendMessage", 2004, *[502] * 4)  # the reply to their name never gets through
    player.send(PHRASE)
    with sqlite3.connect(bot.database) as db:  # kept to be sent again after a kill: it echoes them
        (body,), = db.execute("SELECT body FROM replies WHERE user_id = 2004 AND done_at IS NULL")
    assert PHRASE in body
    player.send("/delete")
    player.press("Yes, erase")
    assert "erased" in texts(player.press("Erase everything now"))
    assert rows_about(bot.database, 2004) == 0
    for name, data in file_bytes(bot.database).items():
        assert PHRASE.encode() not in data, name
    with server._cond:  # the four refused sends were meant: the fixture checks for no others
        server._errors.clear()


def test_admin_commands_only_for_listed_admins(server: FakeBotApi, bot: InProcessBot) -> None:
    onboard(Player(server, 2005))
    stranger = Player(server, 2006)
    onboard(stranger)
    replies = stranger.send("/stats")
    assert "don't know that command" in texts(replies) and "People stored" not in texts(replies)
    admin = Player(server, 4004)
    replies = admin.send("/stats")
    assert "People stored: 2" in texts(replies)  # counts only, never who
    assert "2005" not in texts(replies) and "Sam" not in texts(replies)


@pytest.mark.e2e
def test_retention_at_start_erases_inactive_people(server: FakeBotApi, tmp_path: Path) -> None:
    process = BotProcess(server, tmp_path, extra_config="privacy:\n  retention_days: 30\n")

    async def seed() -> None:
        store = await SqliteProgressStore(process.database).open()
        for user_id, days_ago in ((2101, 31), (2102, 29)):
            at = time.time() - days_ago * 86400
            await store.save(Progress(user_id=user_id, created_at=at, updated_at=at,
                                      answers={"loved_one": "Kai"}), [])
        await store.close()

    asyncio.run(seed())
    process.start()
    try:
        assert rows_about(process.database, 2101) == 0
        assert rows_about(process.database, 2102) == 1
        assert "retention: erased 1 inactive user(s)" in process.log.read_text()
    finally:
        process.stop()
