"""Webhook mode through the real python-telegram-bot stack: what a family member and an operator see.

The bot runs in this process (`InProcessBot`) with `telegram.webhook` set; the fake Bot API
(`tests/kit/botapi_webhook.py`) delivers each update by POSTing it to the bot with the secret
header, one chat's updates one at a time, sending again what is not answered 200, as
Telegram does. The process-kill test is tests/test_webhook_crash.py.
"""

from __future__ import annotations

import socket
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from state.store.crypto import KEY_ENV, new_key
from tests.kit.botapi_webhook import SECRET_HEADER, WebhookBotApi
from tests.kit.bots import InProcessBot
from tests.kit.player import Player, texts
from tests.test_health import until

SECRET = "webhook-secret-for-tests-0123456789"
WORDS = "my brother drank again last night"  # what must never be at rest in clear
LEASE = 20  # telegram.webhook.lease_seconds (the default is 60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def webhook_lines(port: int) -> str:
    return (f"  webhook:\n    url: http://127.0.0.1:{port}/telegram/hook\n"
            f"    listen: 127.0.0.1:{port}\n    secret_token: {SECRET}\n    lease_seconds: {LEASE}\n")


@pytest.fixture
def server() -> Iterator[WebhookBotApi]:
    with WebhookBotApi() as fake:
        yield fake


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def bot(server: WebhookBotApi, tmp_path: Path, port: int,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessBot]:
    monkeypatch.setenv(KEY_ENV, new_key())  # sealed at rest, as a real deployment runs
    running = InProcessBot(server, tmp_path, telegram=webhook_lines(port)).start()
    yield running
    running.stop()
    assert server.errors == [], "the bot sent something Telegram would reject"


def inbox(database: Path) -> list[tuple[int, int, str | None, float | None]]:
    """The inbox's rows: (update id, chat id, stored body, handled at)."""
    with sqlite3.connect(database) as db:
        return [(int(u), int(c), b, h) for u, c, b, h in
                db.execute("SELECT update_id, chat_id, body, handled_at FROM inbox ORDER BY update_id")]


def post(port: int, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram/hook", data=body,
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_conversation_by_webhook(server: WebhookBotApi, bot: InProcessBot) -> None:
    assert server.webhook is not None and server.webhook["url"].endswith("/telegram/hook")
    assert server.webhook["secret_token"] == SECRET
    player = Player(server, 1001)
    assert "CRAFT" in texts(player.send("/start"))
    player.press("Yes, let's start")
    assert "call your loved one" in player.last_text()
    assert "Who is Sam to you?" in texts(player.send("Sam"))
    assert not any(method == "getUpdates" for method, _ in server.calls)  # no polling
    rows = inbox(bot.database)
    assert len(rows) == 3 and all(handled is not None and body is None for _, _, body, handled in rows)
    assert {chat for _, chat, _, _ in rows} == {1001}


def test_a_request_without_the_right_secret_is_refused_and_nothing_is_kept(
        server: WebhookBotApi, bot: InProcessBot, port: int, caplog: pytest.LogCaptureFixture) -> None:
    update = (b'{"update_id": 9001, "message": {"message_id": 1, "date": 1, "chat": {"id": 77, "type":'
              b' "private"}, "from": {"id": 77, "is_bot": false, "first_name": "X"}, "text": "'
              + WORDS.encode() + b'"}}')
    json_type = {"Content-Type": "application/json"}
    assert post(port, update, json_type) == 401
    assert post(port, update, {**json_type, SECRET_HEADER: SECRET[:-1] + "x"}) == 403
    assert post(port, update, {**json_type, SECRET_HEADER: ""}) == 403
    right = {**json_type, SECRET_HEADER: SECRET}
    assert post(port, update, {**right, "Content-Type": "text/plain"}) == 415
    assert post(port, b'{"update_id": ', right) == 400
    assert post(port, b'{"message": {}}', right) == 400  # no update id
    assert post(port, b'{"update_id": 9002, "x": "' + b"y" * 300_000 + b'"}', right) == 413
    request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram/hook",
                                     headers={SECRET_HEADER: SECRET})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405
    assert inbox(bot.database) == []
    assert Player(server, 77).send("/help")  # the bot still serves Telegram's own deliveries
    assert WORDS not in caplog.text and SECRET not in caplog.text


def test_an_update_delivered_twice_is_answered_once(server: WebhookBotApi, bot: InProcessBot) -> None:
    server.add_user(3001)
    server.hold(3001)  # the reply hangs: the update is in hand when it comes again
    update = server.inject_message(3001, "/help")
    server.wait_for(lambda s: s.delivered(update["update_id"]) == [200])
    server.inject_duplicate(update)
    server.wait_for(lambda s: s.delivered(update["update_id"]) == [200, 200])
    server.release(3001)
    server.wait_idle()
    server.inject_duplicate(update)  # and once more, long after it was handled
    server.wait_for(lambda s: s.delivered(update["update_id"]) == [200, 200, 200])
    server.wait_idle()
    assert sum("I teach CRAFT" in m.get("text", "") for m in server.sent(3001)) == 1
    assert [uid for uid, chat, _, _ in inbox(bot.database) if chat == 3001] == [update["update_id"]]


COMMANDS = {"/help": "I teach CRAFT", "/safety": "help you can reach right now",
            "/progress": "You have finished"}


def markers(server: WebhookBotApi, chat: int) -> list[str]:
    """The commands a chat's replies answered, in the order the person saw them."""
    seen: list[str] = []
    for message in server.sent(chat):
        found = [command for command, marker in COMMANDS.items() if marker in message.get("text", "")]
        if found and (not seen or seen[-1] != found[0]):
            seen.append(found[0])
    return seen


def test_each_chat_is_answered_in_order_with_two_chats_interleaved(
        server: WebhookBotApi, bot: InProcessBot) -> None:
    sequence = ["/help", "/safety", "/progress"] * 3
    for chat in (4001, 4002):
        server.add_user(chat)
    for command in sequence:
        for chat in (4001, 4002):
            server.inject_message(chat, command)
    server.wait_for(lambda s: all(markers(s, chat) == sequence for chat in (4001, 4002)), timeout=30)


def test_a_stuck_chat_holds_back_only_itself_and_its_words_are_sealed(
        server: WebhookBotApi, bot: InProcessBot) -> None:
    for chat in (5001, 5002):
        server.add_user(chat)
    server.hold(5001)
    first = server.inject_message(5001, WORDS)
    server.wait_for(lambda s: s.delivered(first["update_id"]) == [200])
    later = server.inject_message(5001, "/safety")
    server.wait_for(lambda s: s.delivered(later["update_id"]) == [200])  # kept while the chat is stuck
    assert "help you can reach right now" in texts(Player(server, 5002).send("/safety"))
    assert markers(server, 5002) == ["/safety"] and server.sent(5001) == []

    waiting = [(uid, body) for uid, chat, body, handled in inbox(bot.database) if chat == 5001]
    assert [uid for uid, _ in waiting] == [first["update_id"], later["update_id"]]
    assert all(body is not None and body.startswith("p1:") for _, body in waiting)  # the person's key
    for name in ("bot.sqlite3", "bot.sqlite3-wal"):
        stored = (bot.database.parent / name)
        assert not stored.exists() or WORDS.encode() not in stored.read_bytes(), name

    with sqlite3.connect(bot.database) as db:  # the chat is leased for the configured time
        (leased, received), = db.execute("SELECT lease_until, received_at FROM inbox WHERE update_id = ?",
                                         (first["update_id"],))
    assert LEASE <= leased - received < LEASE + 10  # claimed, and renewed, a moment after it came

    server.release(5001)
    # the welcome (a first message starts onboarding), then the help asked for after it
    server.wait_for(lambda s: markers(s, 5001) == ["/help", "/safety"], timeout=30)


def test_delete_erases_the_persons_inbox_rows(server: WebhookBotApi, bot: InProcessBot) -> None:
    player, bystander = Player(server, 6001), Player(server, 6002)
    player.send("/start")
    bystander.send("/start")
    assert 6001 in [chat for _, chat, _, _ in inbox(bot.database)]  # handled updates' ids, kept a day
    assert "can't be undone" in texts(player.send("/delete"))
    player.press("Yes, erase")
    assert "erased" in texts(player.press("Erase everything now"))
    server.wait_idle()
    chats = [chat for _, chat, _, _ in inbox(bot.database)]
    assert 6001 not in chats and 6002 in chats
    assert "CRAFT" in texts(player.send("/start"))  # a new beginning, by webhook still


def test_webhook_settings_are_checked_one_line_each_and_the_secret_never_shown(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("telegram:\n  webhook:\n    url: https://bot.example.org/tg\n"
                      "    secret_token: 'not valid!'\n")
    with pytest.raises(ConfigError) as bad:
        load_settings(config)
    lines = bad.value.lines
    assert len(lines) == 2 and "not valid!" not in str(bad.value)
    assert any("telegram.webhook.listen" in line for line in lines)
    assert any("telegram.webhook.secret_token" in line for line in lines)
    config.write_text("telegram:\n  webhook:\n    url: http://bot.example.org/tg\n"
                      f"    listen: 127.0.0.1:8443\n    secret_token: {SECRET}\n")
    with pytest.raises(ConfigError, match="https://"):
        load_settings(config)  # Telegram's own servers post only to https


def test_healthz_says_how_the_inbox_stands_and_metrics_count_requests(
        server: WebhookBotApi, tmp_path: Path, port: int) -> None:
    health = free_port()
    bot = InProcessBot(server, tmp_path, telegram=webhook_lines(port),
                       extra_config=f"metrics:\n  listen: 127.0.0.1:{health}\n").start()
    try:
        def get(path: str) -> tuple[int, str]:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{health}{path}", timeout=5) as response:
                    return int(response.status), response.read().decode()
            except urllib.error.HTTPError as exc:
                return int(exc.code), exc.read().decode()

        until(lambda: get("/healthz")[1].startswith("ok\ninbox: 0 queued, oldest 0.0 s\ncurriculum: "))
        server.add_user(8001)
        server.hold(8001)
        update = server.inject_message(8001, "/help")
        later = server.inject_message(8001, "/safety")
        server.wait_for(lambda s: s.delivered(later["update_id"]) == [200])
        until(lambda: get("/healthz")[1].startswith("ok\ninbox: 2 queued"))  # in hand, and behind it
        assert post(port, b"{}", {"Content-Type": "application/json"}) == 401
        server.release(8001)
        until(lambda: get("/healthz")[1].startswith("ok\ninbox: 0 queued"))
        metrics = get("/metrics")[1]
        assert 'craftbot_webhook_requests_total{outcome="refused"}' in metrics
        assert "craftbot_inbox_queued 0.0" in metrics
        assert server.delivered(update["update_id"]) == [200]
    finally:
        bot.stop()


def test_an_update_that_cannot_be_parsed_is_parked_and_its_chat_goes_on(
        server: WebhookBotApi, bot: InProcessBot, caplog: pytest.LogCaptureFixture) -> None:
    server.add_user(9001)
    broken = server.inject_raw({"message": {"message_id": "not a number", "chat": "nowhere",
                                            "text": WORDS}})
    server.wait_for(lambda s: s.delivered(broken["update_id"]) == [200])  # kept, not refused again
    assert "I teach CRAFT" in texts(Player(server, 9001).send("/help"))
    assert f"update {broken['update_id']} parked: cannot be parsed" in caplog.text
    assert WORDS not in caplog.text
    assert all(handled is not None for _, _, _, handled in inbox(bot.database))
