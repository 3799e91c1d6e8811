"""Webhook mode: Telegram posts each update to the bot, which keeps it before answering 200.

`WebhookUpdater` takes the place of python-telegram-bot's `Updater` (so `Application.run_webhook`
runs the bot's whole life as `run_polling` does) but serves the webhook itself, with aiohttp:

- every request must carry Telegram's secret header (`X-Telegram-Bot-Api-Secret-Token`),
  compared in constant time (`hmac.compare_digest`): none is 401, a wrong one 403; nothing
  of such a request is read further or stored;
- the body is capped (`MAX_BODY`, 413 beyond it), must be JSON (415, 400) and an update
  with a whole-number `update_id` (400). A refused request is counted by outcome
  (`craftbot_webhook_requests`) and logged by kind only, never its content;
- the update is written to the inbox (`state.storage.InboxRecords`: chat id, update id, the
  update sealed with the person's key) and committed durably before the answer 200. Telegram
  forgets an update once answered 200, so a process that dies after that loses nothing:
  the update waits in the database and is handled after the restart. A repeat of an update
  id already stored is answered 200 and not stored again. A store that fails answers 503,
  and Telegram sends the update again later;
- the inbox is worked by `bot.ptb.inbox.InboxWorkers`: per chat, in update-id order, leased.

Why not python-telegram-bot's own webhook server (tornado, `Updater.start_webhook`): it puts
each update on an in-memory queue and answers 200 at once, so a crash loses what is queued,
and it logs whole updates (message text) at DEBUG and at CRITICAL for one it cannot parse;
its handler is private API, so it cannot be changed to store first. aiohttp is a well-kept
asyncio server the tests already used for the fake Bot API; it caps the body size itself.
TLS is the reverse proxy's (docs/operations.md, "Webhook mode"): the bot serves plain HTTP
on `telegram.webhook.listen`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, Updater

from bot.config import Settings
from bot.ops.health import parse_listen
from bot.ops.metrics import WEBHOOK_REQUESTS
from bot.ptb.inbox import LEASE, InboxWorkers
from bot.ptb.updater import chat_key
from state.storage import InboxRecords

log = logging.getLogger("craftbot.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 256 * 1024  # bytes; an update is a few kB (a 4096-character message and its entities)
MAX_CONNECTIONS = 100  # Telegram's most connections at once to one webhook
SHUTDOWN_SECONDS = 5.0  # a request in flight at stop gets this long to be stored and answered


class WebhookUnavailable(Exception):
    """The webhook cannot be served or registered: the address is taken, or Telegram refused it."""


def webhook_arguments(settings: Settings, allowed_updates: Sequence[str]) -> dict[str, Any]:
    """The keyword arguments for `Application.run_webhook` / `WebhookUpdater.start_webhook`."""
    hook = settings.telegram.webhook
    address = parse_listen(hook.listen)
    assert address is not None  # required with a url (bot.config)
    return {"listen": address[0] or "", "port": address[1],
            "url_path": urlsplit(hook.url).path or "/", "webhook_url": hook.url,
            "secret_token": hook.secret_token.get_secret_value(),
            "allowed_updates": list(allowed_updates), "drop_pending_updates": False,
            "max_connections": min(settings.telegram.concurrency, MAX_CONNECTIONS)}


def answer(status: int, outcome: str) -> web.Response:
    """A bodiless answer, counted by outcome."""
    WEBHOOK_REQUESTS.labels(outcome=outcome).inc()
    return web.Response(status=status)


class WebhookUpdater(Updater):
    """Serves the webhook, stores each update before answering, and works the inbox."""

    def __init__(self, application: Application, inbox: InboxRecords,  # type: ignore[type-arg]
                 clock: Callable[[], float], concurrency: int, *, one_process: bool,
                 lease: float = LEASE) -> None:
        super().__init__(application.bot, application.update_queue)
        self.application = application
        self.inbox = inbox
        self.clock = clock
        self.workers = InboxWorkers(inbox, application.bot, application.process_update, clock,
                                    concurrency, one_process=one_process, lease=lease)
        self._runner: web.AppRunner | None = None
        self._secret = b""
        self._path = "/"

    async def start_webhook(self, listen: Any = "", port: Any = 0, url_path: str = "",
                            cert: Any = None, key: Any = None, bootstrap_retries: int = 0,
                            webhook_url: str | None = None, allowed_updates: Sequence[str] | None = None,
                            drop_pending_updates: bool | None = None, ip_address: str | None = None,
                            max_connections: int = 40, secret_token: str | None = None,
                            unix: Any = None) -> asyncio.Queue[object]:
        """Work the inbox, serve the webhook, then register it with Telegram (PTB's signature).

        `cert`, `key` and `unix` are not taken: TLS belongs to the reverse proxy.
        """
        if self.running:
            raise RuntimeError("This Updater is already running!")
        if not self._initialized:
            raise RuntimeError("This Updater was not initialized via `Updater.initialize`!")
        if cert is not None or key is not None or unix is not None:
            raise ValueError("TLS and unix sockets belong to the reverse proxy (docs/operations.md)")
        if not secret_token or not webhook_url:
            raise ValueError("webhook mode needs telegram.webhook.url and telegram.webhook.secret_token")
        self._secret = secret_token.encode()
        self._path = "/" + url_path.lstrip("/")
        await self.workers.start()  # what the last run left in the inbox is handled first
        try:
            await self._serve(str(listen) or None, int(port))
            await self.bot.set_webhook(
                url=webhook_url, secret_token=secret_token, allowed_updates=allowed_updates,
                max_connections=max_connections, drop_pending_updates=bool(drop_pending_updates),
                ip_address=ip_address)
        except BaseException as exc:
            await self._close()
            if isinstance(exc, OSError):
                raise WebhookUnavailable(f"cannot serve the webhook on {listen or '*'}:{port}:"
                                         f" {exc.strerror or type(exc).__name__}") from None
            if isinstance(exc, TelegramError):
                raise WebhookUnavailable(f"Telegram refused the webhook: {exc.message}") from None
            raise
        self._running = True
        log.info("webhook served on %s:%s%s and registered with Telegram", listen or "*", port, self._path)
        return self.update_queue

    async def _serve(self, host: str | None, port: int) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self._receive)
        runner = web.AppRunner(app, access_log=None, handle_signals=False,
                               shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        self._runner = runner
        await web.TCPSite(runner, host, port).start()

    @property
    def address(self) -> tuple[str, int]:
        """The address served (the port the system chose when 0 was asked)."""
        assert self._runner is not None and self._runner.addresses
        host, port = self._runner.addresses[0][:2]
        return str(host), int(port)

    async def stop(self) -> None:
        """Stop serving (requests in flight are answered), finish the updates in hand.

        The webhook stays registered: Telegram keeps the updates that come meanwhile and
        delivers them when this or another instance serves again.
        """
        if not self.running:
            raise RuntimeError("This Updater is not running!")
        self._running = False
        await self._close()

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.workers.stop()

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        """One request: refused, or its update stored and committed, then 200."""
        if request.path != self._path:
            return answer(404, "bad")
        if request.method != "POST":
            return answer(405, "bad")
        given = request.headers.get(SECRET_HEADER)
        if given is None or not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self._secret):
            log.info("webhook request refused: secret token %s", "missing" if given is None else "wrong")
            return answer(401 if given is None else 403, "refused")
        if request.content_type != "application/json":
            return answer(415, "bad")
        try:
            data = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            log.info("webhook request refused: body over %d bytes", MAX_BODY)
            return answer(413, "bad")
        except ValueError:
            return answer(400, "bad")
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if type(update_id) is not int or update_id < 0:
            log.info("webhook request refused: not an update")
            return answer(400, "bad")
        return await self._keep(update_id, data)

    async def _keep(self, update_id: int, data: dict[str, Any]) -> web.Response:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        try:
            new = (await self.inbox.add([(self._chat_of(data), update_id, body)], self.clock()))[0]
        except Exception as exc:  # the database: Telegram sends it again after a pause
            log.error("update %d could not be stored (%s); Telegram will send it again",
                      update_id, type(exc).__name__)
            return answer(503, "failed")
        if not new:
            log.debug("update %d delivered again: already kept", update_id)
            return answer(200, "duplicate")
        self.workers.wake()
        return answer(200, "stored")

    def _chat_of(self, data: dict[str, Any]) -> int:
        """The chat whose order the update keeps (0 for one that cannot be parsed: it is parked)."""
        try:
            return chat_key(Update.de_json(data, self.bot))
        except (TelegramError, ValueError, TypeError, KeyError, AttributeError):
            return 0
