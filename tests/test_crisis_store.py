"""Crisis help does not wait on the store (issue 12): through the real bot and the fake Bot API.

With PostgreSQL stopped, words of crisis and /safety are answered within the crisis deadline
(`storage.crisis_wait_seconds`, 0.2 s here), and an ordinary message gets the kind error
reply within the writer's reconnect wait, not after a hang. With the person's row locked by
another PostgreSQL session, or SQLite's write lock held by another connection, help comes
within the deadline too; once the lock goes, the turn that waited is saved, their progress
is intact, and the help is not sent a second time.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from state.store.crypto import KEY_ENV
from state.store.postgres import RECONNECT_WAIT
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import InProcessBot
from tests.kit.player import Player, helps, onboard, texts
from tests.kit.postgres import PostgresServer, find_bindir, saved_progress, unavailable

DEADLINE = 0.2  # seconds: storage.crisis_wait_seconds for these tests
MARGIN = 1.5  # seconds for the engine, the send and a busy 2-core machine
CRISIS = "i want to kill myself"
ERROR = "something went wrong on my side"


@pytest.fixture
def deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The crisis deadline shortened; no data key (the progress is read back as JSON)."""
    monkeypatch.setenv("CRAFTBOT_STORAGE__CRISIS_WAIT_SECONDS", str(DEADLINE))
    monkeypatch.delenv(KEY_ENV, raising=False)


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, which it may stop."""
    bindir = find_bindir()
    if bindir is None:
        unavailable("no initdb/pg_ctl (apt-get install postgresql)")
    assert bindir is not None
    server = PostgresServer(bindir).start()
    yield server
    server.stop()


def timed(server: FakeBotApi, user_id: int, text: str) -> tuple[float, list[dict[str, Any]]]:
    """Seconds from a message sent to the bot's first reply, and the replies once it is quiet."""
    mark = server.sent_count(user_id)
    started = time.monotonic()
    server.inject_message(user_id, text)
    assert server.wait_for_sent(1, mark, chat_id=user_id, timeout=60), "no reply"
    seconds = time.monotonic() - started
    server.wait_idle(quiet=0.3, timeout=30)
    return seconds, server.sent(user_id)[mark:]


def settled(bot: InProcessBot) -> None:
    """Wait for the turns that ran past their deadline."""
    bot.call(lambda: bot.app.bot_data["conversations"].settle())


def test_with_postgresql_stopped_crisis_help_comes_within_the_deadline(
        server: FakeBotApi, tmp_path: Path, own_postgres: PostgresServer, deadline: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAFTBOT_STORAGE__URL", own_postgres.create_database())
    bot = InProcessBot(server, tmp_path).start()
    try:
        player = Player(server, 5001)
        onboard(player)
        own_postgres.stop()  # refusing connections from now on

        # The first use finds the connection lost; the next tries to connect for a while.
        seconds, replies = timed(server, 5001, "what should I say to him tonight?")
        assert ERROR in texts(replies) and seconds < RECONNECT_WAIT + MARGIN
        seconds, replies = timed(server, 5001, CRISIS)
        assert helps(replies) == 1 and seconds < DEADLINE + MARGIN
        seconds, replies = timed(server, 5001, "/safety")
        assert helps(replies) == 1 and seconds < DEADLINE + MARGIN
        # An ordinary message waits behind the reconnect still being tried, then fails kindly.
        seconds, replies = timed(server, 5001, "and now?")
        assert ERROR in texts(replies) and seconds < RECONNECT_WAIT + MARGIN
        settled(bot)  # the crisis turns behind the deadline failed: nothing was saved
        # Known to be down: a turn fails at once rather than waiting.
        seconds, replies = timed(server, 5001, "hello?")
        assert ERROR in texts(replies) and seconds < MARGIN
    finally:
        bot.stop()
    assert server.errors == []


def test_a_row_locked_on_postgresql_delays_no_help_and_loses_no_progress(
        server: FakeBotApi, tmp_path: Path, pg_url: str, deadline: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAFTBOT_STORAGE__URL", pg_url)
    bot = InProcessBot(server, tmp_path).start()
    try:
        player = Player(server, 5002)
        onboard(player)
        before = saved_progress(pg_url, 5002)
        with psycopg.connect(pg_url) as other:  # another session holds the person's row
            other.execute("SELECT data FROM users WHERE user_id = 5002 FOR UPDATE").fetchall()
            seconds, replies = timed(server, 5002, CRISIS)
            assert helps(replies) == 1 and seconds < DEADLINE + MARGIN
            other.rollback()
        settled(bot)
        after = saved_progress(pg_url, 5002)
        assert after["answers"] == before["answers"] and "last_crisis" in after["practice"]
        server.wait_idle(quiet=0.5, timeout=30)
        assert helps(server.sent(5002)) == 1  # the turn that waited sent nothing
        assert [b[1] for b in player.buttons()][:1] == ["I'm safe right now"]
        player.press("I'm safe right now")  # the person goes on from the saved turn
        assert server.sent(5002) and helps(server.sent(5002)) == 1
    finally:
        bot.stop()
    assert server.errors == [] and bot.tracebacks == []


def test_sqlites_write_lock_held_delays_no_help_and_loses_no_progress(
        server: FakeBotApi, tmp_path: Path, deadline: None) -> None:
    bot = InProcessBot(server, tmp_path).start()
    try:
        player = Player(server, 5003)
        onboard(player)
        before = saved_progress(bot.database, 5003)
        other = sqlite3.connect(bot.database, isolation_level=None)  # a `craftbot purge`, say
        try:
            other.execute("BEGIN IMMEDIATE")
            seconds, replies = timed(server, 5003, CRISIS)
            assert helps(replies) == 1 and seconds < DEADLINE + MARGIN
            # Anything else waits for the store as long as it takes (here, for the lock).
            mark = server.sent_count(5003)
            server.inject_message(5003, "/menu")
            with pytest.raises(TimeoutError):
                server.wait_for_sent(1, mark, chat_id=5003, timeout=2 * DEADLINE + 0.3)
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert server.wait_for_sent(1, mark, chat_id=5003, timeout=30)
        settled(bot)
        after = saved_progress(bot.database, 5003)
        assert after["answers"] == before["answers"] and "last_crisis" in after["practice"]
        server.wait_idle(quiet=0.5, timeout=30)
        sent = server.sent(5003)
        assert helps(sent) == 1 and ERROR not in texts(sent)  # /menu answered from the saved progress
    finally:
        bot.stop()
    assert server.errors == [] and bot.tracebacks == []
