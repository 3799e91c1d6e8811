"""Working the webhook's inbox: each chat's updates one at a time, in update-id order, under a lease.

The webhook (`bot.ptb.webhook`) only stores updates; `InboxWorkers` handles them:

- a dispatcher leases the heads of chats nobody holds (`InboxRecords.claim`), as many as
  there are free slots (`telegram.concurrency`), whenever an update is stored (`wake`) and
  at least every `LOOK_EVERY` seconds (leases left by an instance that died run out; a
  store that failed is tried again);
- each leased head gets a worker of its own that hands the update to python-telegram-bot
  (`Application.process_update`, the bot's own handlers), then marks it handled and leases
  its chat's next update in one transaction (`InboxRecords.done`), until the chat has none
  waiting. So a chat is worked by one worker at a time, in order, and a chat whose update
  hangs (a slow chart, a Telegram 429) holds back only itself and one slot;
- the leases of the updates in hand are renewed every third of the lease
  (`telegram.webhook.lease_seconds`, `LEASE` by default) while this process lives; a process
  that dies stops renewing, and its leases run out after the lease on a shared database (on
  SQLite one process owns the file, so they are released at start);
- an update that cannot be used is parked (marked handled without handling, counted in
  `craftbot_parked_updates`, its id and reason logged, never its content): one that cannot
  be opened (its person's key was erased) or parsed, and one taken `MAX_ATTEMPTS` times
  without being finished (it killed the process each time): it must not stop its chat for
  good.

An error inside the bot's handlers is the handlers' own business (their error handler tells
the person kindly) and the update counts as handled, as in polling (`bot.ptb.updater`).
Handled twice after a crash, an update is recognised by its id (`state.service.redelivery`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from telegram import Bot, Update

from bot.ops.metrics import INBOX_OLDEST_SECONDS, INBOX_QUEUED, PARKED_UPDATES
from state.storage import InboxEntry, InboxRecords
from state.store.inbox import KEEP_HANDLED

log = logging.getLogger("craftbot.inbox")

LEASE = 60.0  # seconds a chat stays with the worker that leased it unless renewed (the default)
LOOK_EVERY = 1.0  # seconds between looks at the inbox when nothing wakes the dispatcher
MAX_ATTEMPTS = 5  # times an update may be taken without being finished before it is parked
FORGET_EVERY = 3600.0  # seconds between drops of old handled-update records


def owner_name() -> str:
    """This process's name on its leases: host, process id and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class InboxWorkers:
    """The dispatcher and per-chat workers of one process (see the module's text)."""

    def __init__(self, inbox: InboxRecords, bot: Bot, process: Callable[[Update], Awaitable[object]],
                 clock: Callable[[], float], concurrency: int, *, one_process: bool,
                 lease: float = LEASE) -> None:
        self.inbox = inbox
        self.bot = bot
        self.process = process
        self.clock = clock
        self.concurrency = max(1, concurrency)
        self.one_process = one_process  # the store is this process's alone (SQLite)
        self.lease = lease  # seconds; renewed every third of it
        self.owner = owner_name()
        self.handled = 0
        self.parked = 0
        self._chats: dict[int, asyncio.Task[None]] = {}  # chat -> its worker
        self._held: dict[int, InboxEntry] = {}  # update id -> the entry being handled
        self._handoff: dict[int, InboxEntry] = {}  # chat -> a head claimed while its worker runs
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._forgotten = 0.0
        self._tidied: float | None = None

    def wake(self) -> None:
        """An update was stored: look at the inbox now."""
        self._wake.set()

    async def start(self) -> None:
        """Release stale leases (one-process stores), then dispatch and renew in the background."""
        if self.one_process:
            released = await self.inbox.release(None)
            if released:
                log.info("inbox: %d update(s) left in hand by the last run taken up again", released)
        self._stop.clear()
        self._tasks = [asyncio.create_task(self._dispatch(), name="craftbot:inbox"),
                       asyncio.create_task(self._renew(), name="craftbot:inbox-leases")]

    async def stop(self) -> None:
        """Stop taking updates, let the workers finish the ones in hand, give back their leases."""
        self._stop.set()
        self._wake.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*self._chats.values(), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.inbox.release(self.owner)

    async def _dispatch(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                await self._claim()
                await self._tidy()
            except Exception as exc:  # the database: tried again at the next look
                log.warning("inbox: looking for updates failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), LOOK_EVERY)

    async def _claim(self) -> None:
        now = self.clock()
        free = self.concurrency - len(self._chats)
        for entry in await self.inbox.claim(self.owner, now, now + self.lease, free):
            if entry.chat_id in self._chats:  # its lease ran out while we work it (a clock jump)
                self._handoff[entry.chat_id] = entry
                continue
            worker = asyncio.create_task(self._work(entry), name=f"craftbot:inbox:{entry.chat_id}")
            self._chats[entry.chat_id] = worker

    async def _tidy(self) -> None:
        """Keep the gauges current (once a look, not once an update); drop old handled-update records."""
        now = self.clock()
        if self._tidied is not None and 0 <= now - self._tidied < LOOK_EVERY:
            return
        self._tidied = now
        queued, oldest = await self.inbox.backlog(now)
        INBOX_QUEUED.set(queued)
        INBOX_OLDEST_SECONDS.set(oldest)
        if now - self._forgotten >= FORGET_EVERY:
            self._forgotten = now
            await self.inbox.forget_handled(now - KEEP_HANDLED)

    async def _work(self, first: InboxEntry) -> None:
        """Handle one chat's updates in order while it has any, then end."""
        entry: InboxEntry | None = first
        last = 0
        try:
            while entry is not None:
                if entry.update_id > last:
                    self._held[entry.update_id] = entry
                    try:
                        await self._handle(entry)
                    finally:
                        self._held.pop(entry.update_id, None)
                    last = entry.update_id
                now = self.clock()
                entry = await self.inbox.done(entry, self.owner, now, now + self.lease)
                if entry is None:
                    entry = self._handoff.pop(first.chat_id, None)
                if self._stop.is_set() and entry is not None:
                    break  # leased to us: released by stop()
        except Exception as exc:  # the database: the lease runs out and the update is taken again
            log.error("inbox: an update could not be finished: %s", type(exc).__name__)
        finally:
            del self._chats[first.chat_id]
            self._wake.set()  # a slot is free

    async def _handle(self, entry: InboxEntry) -> None:
        """Hand one update to the bot's handlers, or park it."""
        update = self._usable(entry)
        if update is None:
            return
        try:
            await self.process(update)
        except Exception:  # process_update hands handler errors to the error handler already
            log.exception("update %d could not be processed", entry.update_id)
        self.handled += 1

    def _usable(self, entry: InboxEntry) -> Update | None:
        """The update to handle; None (parked) for one that must not or cannot be handled."""
        why = None
        update = None
        if entry.attempts > MAX_ATTEMPTS:
            why = f"taken {entry.attempts - 1} times without being finished"
        elif entry.body is None:
            why = "cannot be opened"
        else:
            try:
                update = Update.de_json(json.loads(entry.body), self.bot)
            except Exception as exc:  # any parse failure parks the update
                why = f"cannot be parsed ({type(exc).__name__})"
        if why is not None:
            self.parked += 1
            PARKED_UPDATES.inc()
            log.warning("update %d parked: %s", entry.update_id, why)
        return update

    async def _renew(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.lease / 3)
            if self._held and not self._stop.is_set():
                try:
                    kept = await self.inbox.renew(self.owner, list(self._held), self.clock() + self.lease)
                except Exception as exc:
                    log.warning("inbox: renewing leases failed: %s", type(exc).__name__)
                    continue
                if kept < len(self._held):
                    log.warning("inbox: %d lease(s) ran out while their updates were handled",
                                len(self._held) - kept)
