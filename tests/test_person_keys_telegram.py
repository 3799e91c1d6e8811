"""Person keys through the real bot: a key that cannot be unwrapped, or one erased before a backup
was restored, still gets crisis help and /safety, and /delete still erases; others carry on."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.ptb.privacy import data_cipher
from state.contracts import Progress
from state.store.backup import backup
from state.store.crypto import KEY_ENV, DataCipher, DataKeyError, new_key, wrap
from state.store.keyring import key_store_path
from state.store.progress import SqliteProgressStore
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import InProcessBot
from tests.kit.player import Player, texts
from tests.test_crisis_telegram import onboard

TESTS = Path(__file__).parent


def curriculum_in(tmp_path: Path) -> Path:
    curriculum = tmp_path / "curriculum"
    shutil.copytree(TESTS / "curriculum", curriculum)
    return curriculum


def keys_of(database: Path) -> set[int]:
    with sqlite3.connect(key_store_path(database)) as db:
        return {int(row[0]) for row in db.execute("SELECT user_id FROM person_keys")}


def rows_of(database: Path, user_id: int) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT count(*) FROM users WHERE user_id = ?", (user_id,)).fetchone()[0])


async def load(database: Path, user_id: int) -> Progress | None:
    """A person's progress read by a second store on the same files (as `craftbot chat` would)."""
    store = await SqliteProgressStore(database, data_cipher()).open()
    try:
        return await store.load(user_id)
    finally:
        await store.close()


def gets_help_and_can_erase(player: Player) -> None:
    assert "988" in texts(player.send("i want to kill myself"))
    assert "988" in texts(player.send("/safety"))
    player.send("/delete")
    player.press("Yes, erase")
    assert "erased" in texts(player.press("Erase everything now"))


def test_a_person_key_that_cannot_be_unwrapped_still_gets_help_and_can_be_erased(
        server: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    curriculum = curriculum_in(tmp_path)
    monkeypatch.setenv(KEY_ENV, new_key())
    first = InProcessBot(server, tmp_path, curriculum).start()
    player = Player(server, 4400)
    onboard(player, "No")
    first.stop()
    foreign = DataCipher.from_text(new_key()) or pytest.fail()
    with sqlite3.connect(key_store_path(first.database)) as db:  # wrapped by a key the bot is not given
        db.execute("UPDATE person_keys SET wrapped_key = ? WHERE user_id = 4400", (wrap(foreign, b"k" * 32),))
    bot = InProcessBot(server, tmp_path, curriculum).start()
    try:
        gets_help_and_can_erase(player)
    finally:
        bot.stop()
    assert server.errors == []
    assert rows_of(bot.database, 4400) == 0 and 4400 not in keys_of(bot.database)


def test_after_a_restore_an_erased_person_is_unreadable_gets_help_and_others_carry_on(
        server: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    curriculum = curriculum_in(tmp_path)
    monkeypatch.setenv(KEY_ENV, new_key())
    bot = InProcessBot(server, tmp_path, curriculum).start()
    erased, stays = Player(server, 4500), Player(server, 4501)
    try:
        onboard(erased, "No")
        onboard(stays, "No")
        copy = tmp_path / "backups" / "before.sqlite3"
        backup(bot.database, copy)  # what `craftbot backup` does, while the bot runs
        erased.send("/delete")
        erased.press("Yes, erase")
        assert "erased" in texts(erased.press("Erase everything now"))
    finally:
        bot.stop()
    assert keys_of(bot.database) == {4501}
    for suffix in ("-wal", "-shm"):
        Path(f"{bot.database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(copy, bot.database)  # the restore brings 4500's sealed rows back...
    assert rows_of(bot.database, 4500) == 1
    bot = InProcessBot(server, tmp_path, curriculum).start()
    try:
        with pytest.raises(DataKeyError):  # ...but the erased person's rows cannot be read
            asyncio.run(load(bot.database, 4500))
        gets_help_and_can_erase(erased)  # still, help arrives, and /delete deletes them again
    finally:
        bot.stop()
    assert server.errors == []
    assert rows_of(bot.database, 4500) == 0 and rows_of(bot.database, 4501) == 1
    progress = asyncio.run(load(bot.database, 4501))  # the person who stayed is read as before
    assert progress is not None and progress.answers
