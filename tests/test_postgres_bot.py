"""The real `craftbot run` on PostgreSQL, end to end through the fake Bot API server.

A person writes to the bot, whose store is a PostgreSQL database (with a data key and the
person keys in a database of their own); the reply comes, what they wrote is kept sealed,
the bot is killed outright and started again, and they go on where they were. A second
bot on the same database refuses to start: one polls.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from state.store.crypto import KEY_ENV, new_key
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import BotProcess
from tests.kit.curricula import REPO
from tests.kit.postgres import query


@pytest.mark.e2e
def test_the_bot_serves_from_postgresql_and_survives_a_kill(
        server: FakeBotApi, tmp_path: Path, pg_url: str, pg_keys_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAFTBOT_STORAGE__URL", pg_url)
    monkeypatch.setenv("CRAFTBOT_STORAGE__KEYS_URL", pg_keys_url)
    monkeypatch.setenv(KEY_ENV, new_key())
    bot = BotProcess(server, tmp_path).start()
    try:
        server.add_user(7)
        mark = server.sent_count(7)
        server.inject_message(7, "/start")
        assert server.wait_for_sent(1, mark, chat_id=7, timeout=30)
        assert query(pg_url, "SELECT count(*) FROM users") == [(1,)]
        assert all(str(data).startswith("p1:") for (data,) in query(pg_url, "SELECT data FROM users"))
        assert not bot.database.exists()  # nothing went to the SQLite file

        env = {**os.environ, "CRAFTBOT_TELEGRAM_TOKEN": server.token}
        second = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--config", str(bot.config)],
                                cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 2 and "polling Telegram for this PostgreSQL database" in second.stderr
    finally:
        bot.stop(signal.SIGKILL)
    again = BotProcess(server, tmp_path).start()  # the lock went with the killed process's session
    try:
        mark = server.sent_count(7)
        server.inject_message(7, "/menu")
        assert server.wait_for_sent(1, mark, chat_id=7, timeout=30)
        assert query(pg_url, "SELECT count(*) FROM users") == [(1,)]  # the same person, carried on
    finally:
        assert again.stop() == 0
