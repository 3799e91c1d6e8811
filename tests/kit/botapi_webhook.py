"""The fake Bot API delivering by webhook, as Telegram does once a bot calls setWebhook.

`WebhookBotApi` is `WatchedBotApi` plus:

- `setWebhook` (url, secret_token, max_connections, allowed_updates, drop_pending_updates),
  `deleteWebhook` and `getWebhookInfo`, with Telegram's checks and wording; while a webhook
  is set, getUpdates answers 409 Conflict, as Telegram's does;
- delivery: every queued update is POSTed as JSON to the registered URL with the
  `X-Telegram-Bot-Api-Secret-Token` header. As Telegram's Bot API server does, one chat's
  updates go one at a time, in order (the next only after the previous was answered 200),
  different chats' at once up to `max_connections`; an update answered anything but 200,
  or not answered, is sent again after a pause that grows (from `retry_pause` to
  `MAX_RETRY_PAUSE`), holding back its chat meanwhile; it is forgotten once answered 200;
- `deliveries`: every attempt as (update id, HTTP status, 0 when there was no answer), and
  `on_delivery`, called in the server's thread after each attempt (a test kills the bot
  right after a 200 with it);
- `hold(chat_id)` / `release(chat_id)`: the bot's calls about that chat wait, unanswered,
  until released: a chat whose reply hangs (Telegram slow for it, a 429 being waited out).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from tests.kit.botapi import Params
from tests.kit.botapi_rules import ApiError, Pending, bad, int_arg, load_json, select_updates
from tests.kit.botapi_serve import Listener, WatchedBotApi

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_CONFLICT = ("Conflict: can't use getUpdates method while webhook is active;"
                    " use deleteWebhook to delete the webhook first")
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_RETRY_PAUSE = 1.0  # seconds; Telegram's grow to 60 (telegram-bot-api's WebhookActor): too long here


def chat_of(update: dict[str, Any]) -> int:
    """The chat an update belongs to, for per-chat ordering (Telegram's queue id)."""
    for kind, value in update.items():
        if not isinstance(value, dict):
            continue
        if kind == "callback_query":
            message = value.get("message") or {}
            return int((message.get("chat") or value.get("from") or {}).get("id", 0))
        if isinstance(value.get("chat"), dict):
            return int(value["chat"]["id"])
        if isinstance(value.get("from"), dict):
            return int(value["from"]["id"])
    return 0


class WebhookBotApi(WatchedBotApi):
    """A fake Bot API server that delivers updates to a webhook once one is set."""

    def __init__(self, token: str = "123456:TEST-TOKEN", *, listener: Listener | None = None,
                 retry_pause: float = 0.05) -> None:
        super().__init__(token, listener=listener)
        self.retry_pause = retry_pause
        self.webhook: dict[str, Any] | None = None
        self.deliveries: list[tuple[int, int]] = []
        self.on_delivery: Callable[[int, int], None] | None = None
        self.last_error: str | None = None
        self._held: dict[int, asyncio.Event] = {}
        self._failures: dict[int, int] = {}  # update id -> deliveries that failed in a row
        self._deliverer: asyncio.Task[None] | None = None

    # ----- Bot API methods -------------------------------------------------------------------
    def _m_setWebhook(self, params: Params, files: Params) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self._m_deleteWebhook(params, files)
        if not url.startswith(("https://", "http://")):
            raise bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_RE.fullmatch(str(secret)):
            raise bad("secret token contains unallowed characters")
        allowed = load_json(params.get("allowed_updates"), "allowed updates")
        if isinstance(allowed, list):
            self._allowed = [str(kind) for kind in allowed]
        connections = int_arg(params.get("max_connections"), 40)
        self.webhook = {"url": url, "secret_token": secret, "max_connections": min(max(connections, 1), 100)}
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self._queue.clear()
        assert self._loop is not None
        if self._deliverer is None or self._deliverer.done():
            self._deliverer = self._loop.create_task(self._deliver())
        return True

    def _m_deleteWebhook(self, params: Params, files: Params) -> bool:
        self.webhook = None
        return super()._m_deleteWebhook(params, files)

    def _m_getWebhookInfo(self, params: Params, files: Params) -> dict[str, Any]:
        info: dict[str, Any] = {"url": self.webhook["url"] if self.webhook else "",
                                "has_custom_certificate": False, "pending_update_count": len(self._queue)}
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            info["allowed_updates"] = list(self._allowed)
        if self.last_error:
            info |= {"last_error_date": int(time.time()), "last_error_message": self.last_error}
        return info

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        return await super()._get_updates(params)

    # ----- a chat held ---------------------------------------------------------------------------
    def hold(self, chat_id: int) -> None:
        """Leave the bot's calls about this chat unanswered until `release`."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(lambda: self._held.setdefault(chat_id, asyncio.Event()))

    def release(self, chat_id: int) -> None:
        """Answer the held calls about this chat, and the next ones at once."""
        assert self._loop is not None

        def let_go() -> None:
            event = self._held.pop(chat_id, None)
            if event is not None:
                event.set()
        self._loop.call_soon_threadsafe(let_go)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._held and request.path.startswith("/bot"):
            try:
                params, _ = await self._read(request)  # aiohttp keeps the body for the real read
            except ApiError:
                params = {}
            event = self._held.get(int_arg(params.get("chat_id")))
            if event is not None:
                await event.wait()
        return await super()._handle(request)

    # ----- delivery --------------------------------------------------------------------------------
    async def _deliver(self) -> None:
        """Post queued updates to the webhook while one is set (see the module's text)."""
        busy: set[int] = set()
        retry_at: dict[int, float] = {}  # chat -> when its head may be tried again
        tasks: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession() as session:
            while self.webhook is not None and not self._closing:
                assert self._event is not None
                event = self._event
                now = time.monotonic()
                with self._cond:
                    self._queue = select_updates(self._queue, 0, self._allowed)
                    heads: dict[int, Pending] = {}
                    for pending in self._queue:
                        heads.setdefault(chat_of(pending.update), pending)
                    room = self.webhook["max_connections"] - len(busy)
                    ready = [(chat, p) for chat, p in heads.items()
                             if chat not in busy and retry_at.get(chat, 0.0) <= now][:max(room, 0)]
                for chat, pending in ready:
                    busy.add(chat)
                    task = asyncio.create_task(self._post(session, chat, pending, busy, retry_at))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                waits = [at - now for chat, at in retry_at.items() if chat not in busy and at > now]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), min([0.2, *waits]))
            for task in list(tasks):
                task.cancel()

    async def _post(self, session: aiohttp.ClientSession, chat: int, pending: Pending, busy: set[int],
                    retry_at: dict[int, float]) -> None:
        hook = self.webhook
        status = 0
        try:
            if hook is None:
                return
            headers = {"Content-Type": "application/json"}
            if hook["secret_token"]:
                headers[SECRET_HEADER] = str(hook["secret_token"])
            try:
                async with session.post(hook["url"], data=json.dumps(pending.update), headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=30)) as response:
                    status = response.status
                    await response.read()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                self.last_error = f"Connection failed: {type(exc).__name__}"
            with self._cond:
                self.deliveries.append((int(pending.update["update_id"]), status))
                update_id = int(pending.update["update_id"])
                if status == 200:
                    self._queue = [p for p in self._queue if p is not pending]
                    retry_at.pop(chat, None)
                    self._failures.pop(update_id, None)
                else:
                    failures = self._failures[update_id] = self._failures.get(update_id, 0) + 1
                    if status:
                        self.last_error = f"Wrong response from the webhook: {status}"
                    pause = min(self.retry_pause * 2 ** (failures - 1), MAX_RETRY_PAUSE)
                    retry_at[chat] = time.monotonic() + pause
                self._cond.notify_all()
            if self.on_delivery is not None:
                self.on_delivery(int(pending.update["update_id"]), status)
        finally:
            busy.discard(chat)
            self._wake()

    def delivered(self, update_id: int) -> list[int]:
        """The HTTP statuses the webhook answered each delivery of this update with (0: none)."""
        with self._cond:
            return [status for uid, status in self.deliveries if uid == update_id]

    def stop(self) -> None:
        """Stop delivering (the delivery task ended), then stop the server."""
        self.webhook = None
        deliverer, loop = self._deliverer, self._loop
        if deliverer is not None and loop is not None:
            async def end() -> None:
                deliverer.cancel()
                await asyncio.gather(deliverer, return_exceptions=True)
            asyncio.run_coroutine_threadsafe(end(), loop).result(10)
        super().stop()
