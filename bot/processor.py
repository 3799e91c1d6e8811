"""Fetching and processing updates so that a crash loses none and no chat goes out of order.

python-telegram-bot's own `Updater` confirms updates to Telegram as soon as it has fetched
them (the next getUpdates carries the new offset), before they are handled. A process
killed then loses every update it had fetched: the family member's message is never
answered. `CommitFirstUpdater` replaces it for long polling:

- it fetches a batch, handles every update of the batch, and only then asks for the next
  batch, whose offset confirms the handled ones. After a crash Telegram delivers the
  unconfirmed updates again; those already saved are recognised by their update id (see
  `state.service.Conversations.handle` and `state.redelivery`).
- updates of different chats are handled concurrently (up to `concurrency` at a time) and
  each chat's updates strictly in order. While one chat waits for Telegram or the database,
  another is served, so the bot's CPU stays busy; per-user order is what the engine needs.
- errors while fetching are logged and retried with a growing pause, as PTB does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Update
from telegram.error import Forbidden, InvalidToken, TelegramError
from telegram.ext import Application, Updater

log = logging.getLogger("craftbot.updates")

MAX_PAUSE = 30.0  # seconds between fetch retries at most
BATCH = 100  # Telegram's largest getUpdates batch


def chat_key(update: Update) -> int:
    """The chat whose updates must stay in order (the user for presses on inline messages)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0


class CommitFirstUpdater(Updater):
    """Long polling that confirms an update to Telegram only after it has been handled."""

    def __init__(self, application: Application, concurrency: int = 32) -> None:  # type: ignore[type-arg]
        super().__init__(application.bot, application.update_queue)
        self.application = application
        self.concurrency = max(1, concurrency)
        self.handled = 0
        self._offset = 0
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start_polling(self, poll_interval: float = 0.0, timeout: Any = 10,  # noqa: ASYNC109 (PTB's name)
                            bootstrap_retries: int = 0, allowed_updates: Sequence[str] | None = None,
                            drop_pending_updates: bool | None = None,
                            error_callback: Callable[[TelegramError], None] | None = None,
                            ) -> asyncio.Queue[object]:
        """Start fetching and handling updates in the background (PTB's signature)."""
        if self.running:
            raise RuntimeError("This Updater is already running!")
        if not self._initialized:
            raise RuntimeError("This Updater was not initialized via `Updater.initialize`!")
        await self.bot.delete_webhook(drop_pending_updates=bool(drop_pending_updates))
        self._running = True
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            self._poll(timeout, list(allowed_updates) if allowed_updates is not None else None,
                       poll_interval, error_callback),
            name="craftbot:poll")
        return self.update_queue

    async def stop(self) -> None:
        """Finish the batch in hand, confirm it to Telegram, and stop."""
        if not self.running:
            raise RuntimeError("This Updater is not running!")
        self._running = False
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._offset:
            try:  # confirm the last handled batch, so it is not delivered again
                await self.bot.get_updates(offset=self._offset, limit=1, timeout=0)
            except TelegramError as exc:
                log.warning("could not confirm the last updates (%s); they will come again",
                            type(exc).__name__)

    async def _poll(self, wait: Any, allowed: list[str] | None, interval: float,
                    on_error: Callable[[TelegramError], None] | None) -> None:
        pause = 1.0
        while self.running:
            try:
                updates = await self._fetch(wait, allowed)
            except (InvalidToken, Forbidden) as exc:
                log.critical("Telegram refused the bot (%s); stopping to fetch updates", type(exc).__name__)
                return
            except TelegramError as exc:
                (on_error or _log_fetch_error)(exc)
                await self._wait(pause)
                pause = min(pause * 2, MAX_PAUSE)
                continue
            except Exception:  # a malformed answer: log it, keep polling (as PTB does)
                log.exception("fetching updates failed")
                await self._wait(pause)
                pause = min(pause * 2, MAX_PAUSE)
                continue
            pause = 1.0
            if updates is None:  # stopping
                return
            if updates:
                await self.handle(updates)
                self._offset = updates[-1].update_id + 1
            if interval:
                await self._wait(interval)

    async def _fetch(self, wait: Any, allowed: list[str] | None) -> list[Update] | None:
        """The next batch (which confirms the previous one), or None when asked to stop."""
        fetch = asyncio.ensure_future(self.bot.get_updates(
            offset=self._offset, limit=BATCH, timeout=wait, allowed_updates=allowed))
        stopping = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await fetch
            return None
        return list(fetch.result())

    async def handle(self, updates: Sequence[Update]) -> None:
        """Handle a batch: chats concurrently, each chat's updates in order; return when all are done."""
        chains: dict[int, list[Update]] = {}
        for update in updates:
            chains.setdefault(chat_key(update), []).append(update)
        if len(chains) == 1 or self.concurrency == 1:
            for update in updates:
                await self._process(update)
            return
        slots = asyncio.Semaphore(self.concurrency)

        async def run(chain: list[Update]) -> None:
            async with slots:
                for update in chain:
                    await self._process(update)

        await asyncio.gather(*(run(chain) for chain in chains.values()))

    async def _process(self, update: Update) -> None:
        try:
            await self.application.process_update(update)
        except Exception:  # process_update hands handler errors to the error handler already
            log.exception("update %d could not be processed", update.update_id)
        self.handled += 1

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


def _log_fetch_error(exc: TelegramError) -> None:
    log.error("fetching updates failed: %s", type(exc).__name__)
