"""The update loop under faults: an update nobody can parse, a send that fails, a 429.

The real application (`build_application`) polls the fake Bot API server in this test's
event loop (tests/test_ptb_updater.py's `running`); the server injects the faults.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ptb.app import build_application
from state.curriculum.loader import load_curriculum
from state.engine.engine import Engine
from tests.kit.botapi import FakeBotApi
from tests.kit.curricula import SAMPLE
from tests.test_ptb_updater import running, settings_for, until

FIRST, SECOND = 3101, 3102
SECRET = "my brother hides bottles in the garage"


class Kept(logging.Handler):
    """Every record of every logger, formatted as a log file would hold it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the formatted record, traceback included."""
        self.lines.append(logging.Formatter("%(name)s %(message)s").format(record))


@pytest.fixture
def kept() -> Iterator[Kept]:
    """Everything logged, at DEBUG, the library loggers included."""
    handler, root, telegram = Kept(), logging.getLogger(), logging.getLogger("telegram")
    levels = root.level, telegram.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    telegram.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        telegram.setLevel(levels[1])


async def test_an_update_that_cannot_be_parsed_is_parked_and_the_others_answered(
        server: FakeBotApi, tmp_path: Path, kept: Kept) -> None:
    server.inject_message(FIRST, f"/start {SECRET}")
    bad = server.inject_raw({"message": {"message_id": 7, "text": SECRET,
                                         "chat": {"id": FIRST, "type": "private"}}})  # no date
    server.inject_message(SECOND, "/start")
    async with running(settings_for(server, tmp_path)) as app:
        await until(server, lambda s: s.sent(FIRST) and s.sent(SECOND))
        assert app.updater is not None
        await until(server, lambda s: max(int(p.get("offset") or 0) for m, p in s.calls
                                          if m == "getUpdates") > bad["update_id"])
        assert getattr(app.updater, "parked", 0) == 1
    log = "\n".join(kept.lines)
    assert f"update {bad['update_id']} parked" in log
    assert SECRET not in log and "someone you love" not in log  # neither theirs nor the bot's words


def test_the_library_loggers_carry_no_payloads(server: FakeBotApi, tmp_path: Path,
                                               kept: Kept) -> None:
    build_application(settings_for(server, tmp_path), _engine())
    logging.getLogger("telegram.Bot").debug("Calling Bot API endpoint `%s` with parameters `%s`",
                                            "sendMessage", {"text": SECRET})
    logging.getLogger("telegram.ext.Updater").critical("Received data was %r", [{"text": SECRET}])
    assert SECRET not in "\n".join(kept.lines)
    assert any("arguments withheld" in line for line in kept.lines)


def _engine() -> Engine:
    return Engine(load_curriculum(SAMPLE))


async def test_crisis_help_is_sent_again_until_telegram_takes_it(
        server: FakeBotApi, tmp_path: Path) -> None:
    server.fail("sendMessage", FIRST, 502, 502)  # the first two tries of the crisis reply
    async with running(settings_for(server, tmp_path)):
        server.inject_message(FIRST, "Honestly I want to die some days")
        await until(server, lambda s: s.sent(FIRST))
    text = " ".join(m["text"] for m in server.sent(FIRST))
    assert "988" in text and "911" in text
    assert [e["error_code"] for e in server.errors] == [502, 502]
    assert "Sorry" not in text


async def test_a_429_in_one_chat_holds_that_chat_only(server: FakeBotApi, tmp_path: Path) -> None:
    server.flood(FIRST, 3)
    async with running(settings_for(server, tmp_path)):
        server.inject_message(FIRST, "/start")
        await until(server, lambda s: s.errors)  # FIRST's reply refused: hold that chat 3 s
        server.inject_message(SECOND, "/start")
        await until(server, lambda s: s.sent(SECOND))
        assert server.sent(FIRST) == []  # still held, and SECOND was answered all the same
        await until(server, lambda s: s.sent(FIRST))  # then FIRST's reply goes out
    assert "someone you love" in server.sent(FIRST)[0]["text"]


async def test_a_reply_that_fails_part_way_is_completed_once_and_hidden_whole(
        server: FakeBotApi, tmp_path: Path) -> None:
    server.fail("sendMessage", FIRST, 0, 502)  # the first message goes, the second fails once
    async with running(settings_for(server, tmp_path)):
        server.inject_message(FIRST, "/start")
        await until(server, lambda s: len(s.sent(FIRST)) >= 2)
        shown = [m["message_id"] for m in server.sent(FIRST)]
        texts = [m["text"] for m in server.sent(FIRST)]
        assert len(set(texts)) == len(texts), "nothing sent twice"
        server.inject_message(FIRST, "/hide")
        await until(server, lambda s: set(shown) <= {m for _, m in s.deleted})


async def test_words_after_a_lost_question_see_the_question_again(
        server: FakeBotApi, tmp_path: Path) -> None:
    async with running(settings_for(server, tmp_path)):
        server.inject_message(FIRST, "/start")
        await until(server, lambda s: s.sent(FIRST) and s.sent(FIRST)[-1].get("reply_markup"))
        before = len(server.sent(FIRST))
        question = server.sent(FIRST)[-1]["text"]
        server.fail("sendMessage", FIRST, *[502] * 5)  # the next reply never arrives (nor "sorry")
        server.inject_message(FIRST, "/start")
        await until(server, lambda s: len([e for e in s.errors if e["error_code"] == 502]) == 5)
        server.inject_message(FIRST, "some words")
        await until(server, lambda s: len(s.sent(FIRST)) > before)
    assert server.sent(FIRST)[-1]["text"] == question  # shown again, not taken as an answer


async def test_a_reply_that_never_arrives_whole_is_hidden_whole_with_its_apology(
        server: FakeBotApi, tmp_path: Path) -> None:
    server.fail("sendMessage", FIRST, 0, 502, 502, 502, 502)  # the second message never goes
    async with running(settings_for(server, tmp_path)):
        server.inject_message(FIRST, "/start")
        await until(server, lambda s: len(s.sent(FIRST)) >= 2)  # the first part, then "sorry"
        shown = [m["message_id"] for m in server.sent(FIRST)]
        server.inject_message(FIRST, "/hide")
        await until(server, lambda s: set(shown) <= {m for _, m in s.deleted})
