"""Traces: logs hold no words, names or token; tracebacks neither; files private to their owner."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings, TelegramSettings
from bot.logs import JsonFormatter, RedactToken
from bot.ptb.admin import is_admin
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import BotProcess
from tests.kit.curricula import REPO
from tests.kit.player import Player

TOKEN = "123456:TEST-TOKEN"
SECRET = TOKEN.split(":")[1]
WORDS = ["Philippa", "Quokka-Lantern", "sunset-walks-4410", "want to die", "weekends-after-payday"]


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    with FakeBotApi(TOKEN) as fake:
        yield fake


@pytest.mark.e2e
def test_a_whole_conversation_leaves_no_words_names_or_token_in_the_log(server: FakeBotApi,
                                                                        tmp_path: Path) -> None:
    bot = BotProcess(server, tmp_path).start()  # at DEBUG, the most a log can say
    try:
        player = Player(server, 3001)
        player.send("/start")
        player.press("Yes, let's start")
        player.send(WORDS[0])
        for label in ("My partner", "Alcohol", "No", "No", "No", "Next: Basics", "Ready", "5",
                      "I'd love your help"):
            player.press(label)
        player.send(f"Honestly I {WORDS[3]} some days, {WORDS[1]}")
        player.press("I'm safe")
        player.press("Back to where I was")
        player.send(WORDS[4])
        player.send(WORDS[2])
        own = [m for m in server.messages[3001] if not m["from"]["is_bot"] and "text" in m]
        player.inject("inject_edited_message", 3001, own[-1]["message_id"], WORDS[1])
        player.send("/mydata")
        player.send("/hide")
    finally:
        bot.stop()
    log = bot.log.read_text()
    assert "update handled" in log  # the log is written, and at DEBUG
    for secret in [*WORDS, SECRET, "Sam"]:
        assert secret.lower() not in log.lower(), f"{secret!r} is in the log"
    assert "3001" not in log  # users appear only under a pseudonym


def record_with_traceback(message: str, *args: object) -> logging.LogRecord:
    try:
        raise RuntimeError(f"request to https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError:
        return logging.LogRecord("craftbot", logging.ERROR, __file__, 1, message, args, sys.exc_info())


@pytest.mark.parametrize("formatter", [logging.Formatter(), JsonFormatter()])
def test_the_token_is_redacted_from_messages_arguments_and_tracebacks(formatter: logging.Formatter) -> None:
    record = record_with_traceback("calling %s with %s", f"/bot{TOKEN}/sendMessage", f"raw={SECRET}")
    assert RedactToken(TOKEN).filter(record)
    out = formatter.format(record)
    assert "Traceback" in out and "RuntimeError" in out and "<token>" in out
    assert SECRET not in out and TOKEN not in out


@pytest.mark.e2e
def test_a_rejected_token_is_not_printed_at_start(server: FakeBotApi, tmp_path: Path) -> None:
    wrong = "123456:WRONG-SECRET-42"
    bot = BotProcess(server, tmp_path)
    env = {**os.environ, "CRAFTBOT_TELEGRAM_TOKEN": wrong}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--config", str(bot.config)],
                          cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert "InvalidToken" in done.stderr or "rejected" in done.stderr
    assert "WRONG-SECRET-42" not in done.stderr + done.stdout


@pytest.mark.e2e
def test_the_database_its_journal_and_folder_are_private(server: FakeBotApi, tmp_path: Path) -> None:
    old = os.umask(0o022)  # a usual, permissive umask
    try:
        bot = BotProcess(server, tmp_path).start()
    finally:
        os.umask(old)
    try:
        Player(server, 3002).send("/start")
        files = [Path(f"{bot.database}{suffix}") for suffix in ("", "-wal", "-shm")]
        assert all(f.exists() for f in files)
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
        assert stat.S_IMODE(bot.database.parent.stat().st_mode) == 0o700
    finally:
        bot.stop()


@pytest.mark.e2e
def test_without_a_data_key_run_warns_loudly(server: FakeBotApi, tmp_path: Path) -> None:
    bot = BotProcess(server, tmp_path).start()
    bot.stop()
    log = bot.log.read_text()
    assert "CRAFTBOT_DATA_KEY is not set" in log and "UNENCRYPTED" in log


def test_is_admin_only_for_listed_ids() -> None:
    settings = Settings(telegram=TelegramSettings(admins=[11, 12]))
    assert is_admin(settings, 11) and is_admin([5], 5)
    assert not is_admin(settings, 13) and not is_admin(settings, None) and not is_admin(Settings(), 11)
