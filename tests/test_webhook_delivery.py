"""Delivery by webhook, both ends: the fake Bot API sends again what is not answered 200, as
Telegram does, and the bot answers 503 (never 200) for an update it could not store.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.kit.botapi_webhook import SECRET_HEADER, WEBHOOK_CONFLICT, WebhookBotApi
from tests.kit.bots import InProcessBot
from tests.kit.player import texts
from tests.test_webhook import SECRET, free_port, inbox, webhook_lines


class Receiver:
    """A webhook that answers a message by the next status of its script for that text (then 200)."""

    def __init__(self, script: dict[str, list[int]]) -> None:
        self.script = script
        self.got: list[tuple[int, str | None]] = []  # (update id, secret header)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def serve() -> web.AppRunner:
            app = web.Application()
            app.router.add_post("/hook", self._take)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            return runner

        runner = self._loop.run_until_complete(serve())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    async def _take(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.got.append((int(update["update_id"]), request.headers.get(SECRET_HEADER)))
        statuses = self.script.get(update.get("message", {}).get("text", ""), [])
        return web.Response(status=statuses.pop(0) if statuses else 200)

    def __enter__(self) -> Receiver:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def call(server: WebhookBotApi, method: str, **params: Any) -> tuple[int, Any]:
    request = urllib.request.Request(f"{server.base_url}{server.token}/{method}", method="POST",
                                     data=json.dumps(params).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), json.loads(response.read())["result"]
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read())["description"]


@pytest.fixture
def server() -> Iterator[WebhookBotApi]:
    with WebhookBotApi() as fake:
        yield fake


def test_the_fake_sends_again_until_200_one_chat_at_a_time(server: WebhookBotApi) -> None:
    with Receiver({"one": [500, 502]}) as hook:
        for user in (1, 2):
            server.add_user(user)
        first = server.inject_message(1, "one")
        second = server.inject_message(1, "two")
        other = server.inject_message(2, "elsewhere")
        assert call(server, "setWebhook", url=f"http://127.0.0.1:{hook.port}/hook",
                    secret_token=SECRET) == (200, True)
        assert call(server, "getUpdates") == (409, WEBHOOK_CONFLICT)  # as Telegram answers
        server.wait_for(lambda s: s.delivered(second["update_id"]) == [200])
        ids = [uid for uid, _ in hook.got]
        assert ids.count(first["update_id"]) == 3  # 500, 502, then 200
        last_of_first = max(i for i, uid in enumerate(ids) if uid == first["update_id"])
        assert ids.index(second["update_id"]) > last_of_first
        assert ids.index(other["update_id"]) < ids.index(second["update_id"])  # not held by chat 1
        assert {secret for _, secret in hook.got} == {SECRET}
        status, info = call(server, "getWebhookInfo")
        assert status == 200 and info["pending_update_count"] == 0
        assert info["last_error_message"] == "Wrong response from the webhook: 502"
        assert call(server, "deleteWebhook") == (200, True)
        assert call(server, "getUpdates")[0] == 200


def test_an_update_the_bot_cannot_store_gets_503_and_comes_again(
        server: WebhookBotApi, tmp_path: Path) -> None:
    bot = InProcessBot(server, tmp_path, telegram=webhook_lines(free_port())).start()
    try:
        server.add_user(1101)
        holder = sqlite3.connect(bot.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the database's write lock
        update = server.inject_message(1101, "/help")
        server.wait_for(lambda s: 503 in s.delivered(update["update_id"]), timeout=30)
        assert server.sent(1101) == [] and inbox(bot.database) == []
        holder.execute("ROLLBACK")
        holder.close()
        server.wait_for(lambda s: "I teach CRAFT" in texts(s.sent(1101)), timeout=30)
        assert server.delivered(update["update_id"])[-1] == 200
        assert [uid for uid, _, _, _ in inbox(bot.database)] == [update["update_id"]]
    finally:
        bot.stop()
