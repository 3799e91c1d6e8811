"""Webhook mode's promise, with a real `craftbot run` process: an update answered 200 is never lost.

Telegram forgets an update once the webhook answers 200. The bot answers only after the update
is committed to its inbox, so a process killed (SIGKILL) right after the 200, before it could
reply, answers the update once it is started again. The fake Bot API kills the process the
moment it receives the 200, and keeps the bot's reply to that person unanswered until then,
so the reply cannot have reached the person before the kill.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from state.store.crypto import KEY_ENV, new_key
from tests.kit.botapi_webhook import WebhookBotApi
from tests.kit.bots import BotProcess
from tests.kit.player import Player, texts
from tests.test_webhook import free_port, inbox, webhook_lines

pytestmark = pytest.mark.e2e  # a real `craftbot run` process
PERSON = 7001


def test_an_update_kept_before_the_200_is_answered_after_the_process_is_killed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, new_key())
    with WebhookBotApi() as server:
        process = BotProcess(server, tmp_path, telegram=webhook_lines(free_port())).start()
        player = Player(server, PERSON)
        assert "Is that okay with you?" in texts(player.send("/start"))
        message_id, _, data = next(b for b in player.buttons() if b[1] == "Yes, let's start")

        armed, killed = threading.Event(), threading.Event()
        assert process.proc is not None
        pid = process.proc.pid

        def kill_after_the_200(update_id: int, status: int) -> None:
            if armed.is_set() and status == 200 and not killed.is_set():
                os.kill(pid, signal.SIGKILL)
                killed.set()

        server.on_delivery = kill_after_the_200
        server.hold(PERSON)  # the reply waits at "Telegram" until the process is dead
        seen = server.sent_count(PERSON)
        armed.set()
        press = server.inject_callback(PERSON, message_id, data)
        assert killed.wait(30), "the update was never answered 200"
        assert process.stop(signal.SIGKILL) == -signal.SIGKILL
        server.release(PERSON)
        assert server.delivered(press["update_id"]) == [200]  # Telegram will not send it again
        assert server.sent_count(PERSON) == seen  # and the person has no answer yet
        waiting = [uid for uid, _, _, handled in inbox(process.database) if handled is None]
        assert waiting == [press["update_id"]]

        process.start()  # the same database: the update waits in its inbox
        server.wait_for(lambda s: "call your loved one" in texts(s.sent(PERSON)[seen:]), timeout=30)
        assert "Who is Sam to you?" in texts(player.send("Sam"))  # the press counted once, then on
        assert all(handled is not None for _, _, _, handled in inbox(process.database))
        assert process.stop() == 0
        log = process.log.read_text()
        assert "Sam" not in log and "call your loved one" not in log
