"""Fetching and handling updates so that a crash loses none and no chat goes out of order.

python-telegram-bot's own `Updater` confirms updates to Telegram as soon as it has fetched
them (the next getUpdates carries the new offset), before they are handled. A process
killed then loses every update it had fetched: the family member's message is never
answered. `CommitFirstUpdater` replaces it for long polling:

- the offset it sends Telegram never passes an update that is not yet handled (Telegram
  confirms every update below the offset), so after a crash Telegram delivers again every
  update that might not have been; those already saved are recognised by their update id
  (`state.service.conversations.Conversations.handle`, `state.service.redelivery`);
- updates of different chats are handled concurrently (up to `concurrency` at a time) and
  each chat's updates strictly in order, which is what the engine needs. While one chat
  waits for Telegram or the database, another is served;
- when everything in hand is handled it long-polls again at once; but when a few
  updates are still being handled after `LINGER` (a chart being drawn, a slow call), it
  asks for more anyway, so one slow update does not hold everyone else back. Those few
  come back in each answer, as they are not confirmed yet, and are skipped;
- errors while fetching are logged and retried with a growing pause, as PTB does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Update
from telegram.error import Forbidden, InvalidToken, TelegramError
from telegram.ext import Application, Updater

log = logging.getLogger("craftbot.updates")

MAX_PAUSE = 30.0  # seconds between fetch retries at most
BATCH = 100  # Telegram's largest getUpdates batch
STRAGGLERS = 4  # ask for more while no more than this many updates are still being handled
LINGER = 0.03  # ...for this long (seconds); and then this often, as each answer repeats them


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
        self._next = 0  # one past the newest update handed to a chat
        self._pending: set[int] = set()  # ids of updates not yet handled
        self._chats: dict[int, deque[Update]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._done = asyncio.Event()  # set whenever an update has been handled
        self._slots = asyncio.Semaphore(self.concurrency)
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
        self._done = asyncio.Event()
        self._slots = asyncio.Semaphore(self.concurrency)
        self._task = asyncio.create_task(
            self._poll(timeout, list(allowed_updates) if allowed_updates is not None else None,
                       poll_interval, error_callback),
            name="craftbot:poll")
        return self.update_queue

    async def stop(self) -> None:
        """Stop fetching, finish the updates in hand, confirm them to Telegram."""
        if not self.running:
            raise RuntimeError("This Updater is not running!")
        self._running = False
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)
        if self._next:
            try:  # confirm what was handled, so it is not delivered again
                await self.bot.get_updates(offset=self._offset(), limit=1, timeout=0)
            except TelegramError as exc:
                log.warning("could not confirm the last updates (%s); they will come again",
                            type(exc).__name__)

    def _offset(self) -> int:
        """The offset to send: it confirms exactly the updates below the oldest one in hand."""
        return min(self._pending) if self._pending else self._next

    async def _poll(self, wait: Any, allowed: list[str] | None, interval: float,
                    on_error: Callable[[TelegramError], None] | None) -> None:
        pause = 1.0
        asked = 0.0
        while self.running:
            # Wait until everything in hand is handled (then a long poll picks up what comes
            # next at once), or until only a few stragglers have been at it for LINGER.
            while self._pending and self.running:
                left = asked + LINGER - time.monotonic()
                if len(self._pending) <= STRAGGLERS and left <= 0:
                    break
                await self._until_handled(left if len(self._pending) <= STRAGGLERS else None)
            if not self.running:
                return
            asked = time.monotonic()
            try:
                updates = await self._fetch(0 if self._pending else wait, allowed)
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
            for update in updates:
                if update.update_id >= self._next:  # the others are in hand already
                    self._dispatch(update)
            if interval:
                await self._wait(interval)

    async def _fetch(self, wait: Any, allowed: list[str] | None) -> list[Update] | None:
        """The next updates from the current offset, or None when asked to stop."""
        fetch = asyncio.ensure_future(self.bot.get_updates(
            offset=self._offset(), limit=BATCH, timeout=wait, allowed_updates=allowed))
        stopping = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await fetch
            return None
        return list(fetch.result())

    def _dispatch(self, update: Update) -> None:
        """Queue an update behind its chat's earlier ones; start the chat's worker if idle."""
        self._next = update.update_id + 1
        self._pending.add(update.update_id)
        key = chat_key(update)
        queue = self._chats.get(key)
        if queue is not None:
            queue.append(update)
            return
        self._chats[key] = deque([update])
        worker = asyncio.create_task(self._serve(key), name=f"craftbot:chat:{key}")
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    async def _serve(self, key: int) -> None:
        """Handle one chat's queued updates in order, then stop."""
        queue = self._chats[key]
        try:
            while queue:
                update = queue[0]
                async with self._slots:
                    await self._process(update)
                queue.popleft()
                self._pending.discard(update.update_id)
                self._done.set()
        finally:
            del self._chats[key]

    async def _process(self, update: Update) -> None:
        try:
            await self.application.process_update(update)
        except Exception:  # process_update hands handler errors to the error handler already
            log.exception("update %d could not be processed", update.update_id)
        self.handled += 1

    async def _until_handled(self, seconds: float | None = None) -> None:
        """Wait until some update has been handled, the bot stops, or `seconds` pass."""
        self._done.clear()
        done = asyncio.ensure_future(self._done.wait())
        stopping = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({done, stopping}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        done.cancel()
        stopping.cancel()

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), seconds)


def _log_fetch_error(exc: TelegramError) -> None:
    log.error("fetching updates failed: %s", type(exc).__name__)
