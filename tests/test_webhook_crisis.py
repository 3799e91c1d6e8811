"""Webhook mode with PostgreSQL down: crisis help does not wait for the inbox (issues 12 and 17).

The bot runs in this process in webhook mode on a PostgreSQL server of the test's own, which
the test stops and starts again. The fake Bot API delivers updates as Telegram does, sending
again every update not answered 200. While the server is down, words of crisis are answered
within the crisis deadline (`storage.crisis_wait_seconds`), whether the inbox's write hangs
(behind a reconnect being tried) or fails at once, and the webhook answers 503; the
help is not sent again at each of Telegram's redeliveries; an ordinary message gets no reply
and a 503. Once the server is back, both updates are kept and handled from the person's saved
progress: the crisis pathway a second time, the ordinary message answered as usual.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from state.store.crypto import KEY_ENV
from tests.kit.botapi_webhook import WebhookBotApi
from tests.kit.bots import InProcessBot
from tests.kit.curricula import BUNDLED
from tests.kit.player import Player, helps, onboard, texts
from tests.kit.postgres import PostgresServer, find_bindir, saved_progress, unavailable
from tests.test_webhook import free_port, webhook_lines

DEADLINE = 0.3  # seconds: storage.crisis_wait_seconds for these tests
MARGIN = 1.5  # seconds for the engine, the send and a busy 2-core machine
CRISIS = "i want to kill myself"
ERROR = "something went wrong on my side"
ASKING, ORDINARY, SPANISH = 5301, 5302, 5303


@pytest.fixture
def own_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, which it may stop and start; the bot's store on it."""
    bindir = find_bindir()
    if bindir is None:
        unavailable("no initdb/pg_ctl (apt-get install postgresql)")
    assert bindir is not None
    server = PostgresServer(bindir).start()
    monkeypatch.setenv("CRAFTBOT_STORAGE__URL", server.create_database())
    monkeypatch.setenv("CRAFTBOT_STORAGE__CRISIS_WAIT_SECONDS", str(DEADLINE))
    monkeypatch.delenv(KEY_ENV, raising=False)  # the progress is read back as JSON
    yield server
    server.stop()


@pytest.fixture
def webhook(own_postgres: PostgresServer, tmp_path: Path) -> Iterator[tuple[WebhookBotApi, InProcessBot]]:
    with WebhookBotApi() as server:
        bot = InProcessBot(server, tmp_path, telegram=webhook_lines(free_port())).start()
        try:
            yield server, bot
        finally:
            bot.stop()


def refused(server: WebhookBotApi, update_id: int, times: int) -> list[int]:
    """The statuses of the update's deliveries, once Telegram has tried it `times` times."""
    server.wait_for(lambda s: len(s.delivered(update_id)) >= times, timeout=30)
    return server.delivered(update_id)


def test_crisis_help_comes_while_postgresql_is_down_and_the_update_is_handled_once_it_is_back(
        webhook: tuple[WebhookBotApi, InProcessBot], own_postgres: PostgresServer) -> None:
    server, bot = webhook
    url = os.environ["CRAFTBOT_STORAGE__URL"]
    asking, ordinary = Player(server, ASKING), Player(server, ORDINARY)
    onboard(asking)
    onboard(ordinary)
    own_postgres.halt()

    # The first write finds the connection lost (503 at once); the next tries to connect for 5 s.
    seen = server.sent_count(ORDINARY)
    plain = server.inject_message(ORDINARY, "what should I say to him tonight?")
    refused(server, plain["update_id"], 1)

    mark = server.sent_count(ASKING)
    started = time.monotonic()
    crisis = server.inject_message(ASKING, CRISIS)
    server.wait_for_sent(1, mark, chat_id=ASKING, timeout=30)
    seconds = time.monotonic() - started
    assert seconds < DEADLINE + MARGIN, f"help took {seconds:.2f} s"
    # Telegram was told 503 and delivers it again and again; the help went out once.
    # (Not `wait_idle`: the update stays undelivered; the retries are the time that passes.)
    statuses = refused(server, crisis["update_id"], 5)
    assert statuses and all(status == 503 for status in statuses)
    assert helps(server.sent(ASKING)[mark:]) == 1 and ERROR not in texts(server.sent(ASKING)[mark:])
    assert all(status == 503 for status in refused(server, plain["update_id"], 2))
    assert server.sent_count(ORDINARY) == seen  # no reply while nothing could be kept


    own_postgres.resume()
    # The updates are kept at their next delivery and handled from the saved progress.
    server.wait_for(lambda s: 200 in s.delivered(crisis["update_id"])
                    and 200 in s.delivered(plain["update_id"]), timeout=60)
    server.wait_for(lambda s: helps(s.sent(ASKING)[mark:]) == 2, timeout=30)
    server.wait_for(lambda s: s.sent_count(ORDINARY) > seen, timeout=30)
    server.wait_idle(quiet=0.5, timeout=30)
    assert ERROR not in texts(server.sent(ORDINARY)[seen:])
    for person, update in ((ASKING, crisis), (ORDINARY, plain)):
        saved = saved_progress(url, person)
        assert saved["last_update_id"] >= update["update_id"] and saved["answers"].get("loved_one") == "Sam"
    assert "last_crisis" in saved_progress(url, ASKING)["practice"]
    assert server.errors == [] and bot.tracebacks == []


def test_while_postgresql_is_down_help_speaks_telegrams_language_is_retried_and_an_edit_counts(
        own_postgres: PostgresServer, tmp_path: Path) -> None:
    with WebhookBotApi() as server:
        bot = InProcessBot(server, tmp_path, BUNDLED, telegram=webhook_lines(free_port())).start()
        try:
            up = Player(server, ASKING).send("/safety")  # the help, with the store up
            english = texts(up)
            first = server.inject_message(ASKING, "hello")
            server.wait_for_sent(1, server.sent_count(ASKING), chat_id=ASKING, timeout=30)
            own_postgres.halt()

            mark = server.sent_count(SPANISH)
            server.fail("sendMessage", SPANISH, 502, 502, 502, 502)  # an ordinary reply gives up at the 4th
            safety = server.inject_message(SPANISH, "/safety", language_code="es")
            server.wait_for_sent(len(up), mark, chat_id=SPANISH, timeout=30)  # tried until taken
            assert all(status == 503 for status in refused(server, safety["update_id"], 3))
            spanish = server.sent(SPANISH)[mark:]
            assert helps(spanish) == 1 and texts(spanish) != english  # the same help, in Spanish

            mark = server.sent_count(ASKING)
            started = time.monotonic()
            edit = server.inject_edited_message(ASKING, first["message"]["message_id"], CRISIS)
            server.wait_for_sent(1, mark, chat_id=ASKING, timeout=30)
            seconds = time.monotonic() - started
            assert seconds < DEADLINE + MARGIN, f"help took {seconds:.2f} s"
            assert all(status == 503 for status in refused(server, edit["update_id"], 3))
            assert helps(server.sent(ASKING)[mark:]) == 1
        finally:
            bot.stop()
        assert [e["error_code"] for e in server.errors] == [502] * 4 and bot.tracebacks == []  # those planned
