"""Log pseudonyms that do not track people: keyed, at DEBUG only, stable only while the key is.

An INFO line says what happened (an update handled, its kind, its time) and never to whom,
so two INFO lines about one person cannot be told from two about two people. DEBUG lines
carry a pseudonym: an HMAC of the Telegram id under a key derived from the data key, from
`logging.pseudonym_key`, or random per process.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ops.pseudonym import Pseudonyms, choose_key, derive_key, pseudonym
from state.store.crypto import KEY_ENV, new_key
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import BotProcess, InProcessBot
from tests.kit.player import Player

ANNA, BEN = 5101, 5102


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


def test_a_pseudonym_is_keyed_and_is_not_the_plain_hash() -> None:
    one, two = Pseudonyms(derive_key("a secret")), Pseudonyms(derive_key("another secret"))
    assert one(ANNA) == one(ANNA) and one(ANNA) != one(BEN)
    assert one(ANNA) != two(ANNA)
    unkeyed = hashlib.sha256(f"craftbot:{ANNA}".encode()).hexdigest()
    assert one(ANNA) not in unkeyed and not unkeyed.startswith(one(ANNA)[:10])


def test_where_the_key_comes_from() -> None:
    data = new_key()
    key, source = choose_key(data, "ignored while there is a data key")
    assert source == "data key" and key == choose_key(data, "")[0]  # the same after a restart
    assert key == choose_key(f"{data}, {new_key()}", "")[0]  # the current (first) key of a list
    assert key not in data.encode()  # derived, not the data key itself
    configured, source = choose_key(None, "pseudonym secret")
    assert source == "logging.pseudonym_key" and configured == choose_key("", "pseudonym secret")[0]
    first, source = choose_key(None, "")
    assert source == "random" and first != choose_key(None, "")[0]  # no link across restarts


def test_two_info_lines_about_one_person_cannot_be_linked(server: FakeBotApi, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="craftbot")
    bot = InProcessBot(server, tmp_path).start()
    try:
        anna, ben = Player(server, ANNA), Player(server, BEN)
        for player in (anna, ben):
            player.send("/start")
        anna.send("/menu")
    finally:
        bot.stop()
    records = [r for r in caplog.records if r.name.startswith("craftbot.")]
    info = [r.getMessage() for r in records if r.levelno >= logging.INFO]
    handled = [line for line in info if line.startswith("update handled")]
    assert len(handled) == 3
    for person in (ANNA, BEN):
        tag = pseudonym(person)
        assert not any(tag in line or str(person) in line for line in info)
        assert any(tag in r.getMessage() for r in records if r.levelno == logging.DEBUG)
    # Anna's two lines and Ben's one differ at most in their numbers: nothing tells whose they are.
    shapes = {re.sub(r"input=\w+ |\d+(\.\d+)?", "", line) for line in handled}
    assert len(shapes) == 1


@pytest.mark.e2e
def test_pseudonyms_link_across_restarts_only_with_a_key(server: FakeBotApi, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def tag_after_a_run(workdir: Path) -> str:
        workdir.mkdir(exist_ok=True)
        bot = BotProcess(server, workdir)
        written = bot.log.stat().st_size if bot.log.exists() else 0  # the log of earlier runs
        bot.start()  # at DEBUG
        try:
            Player(server, ANNA).send("/menu")
        finally:
            bot.stop()
        tags = re.findall(r"update handled user=([0-9a-f]+)", bot.log.read_text()[written:])
        assert tags and len(set(tags)) == 1
        return tags[0]

    monkeypatch.setenv(KEY_ENV, new_key())
    keyed = [tag_after_a_run(tmp_path / "keyed"), tag_after_a_run(tmp_path / "keyed")]
    assert keyed[0] == keyed[1]
    assert "log pseudonyms are keyed by the data key" in (tmp_path / "keyed" / "bot.log").read_text()
    monkeypatch.delenv(KEY_ENV)
    plain = [tag_after_a_run(tmp_path / "plain"), tag_after_a_run(tmp_path / "plain")]
    assert plain[0] != plain[1]
    log = (tmp_path / "plain" / "bot.log").read_text()
    assert "log pseudonyms use a random key: they do not link across restarts" in log
