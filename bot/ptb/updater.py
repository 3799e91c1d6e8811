"""Fetching and handling updates so that a crash loses none and no chat goes out of order.

python-telegram-bot's own `Updater` confirms updates to Telegram as soon as it has fetched
them (the next getUpdates carries the new offset), before they are handled. A process
killed then loses every update it had fetched: the family member's message is never
answered. `CommitFirstUpdater` replaces it for long polling:

- the offset it sends Telegram never passes an update that is not yet handled (Telegram
  confirms every update below the offset), so after a crash Telegram delivers again every
  update that might not have been; those already saved are recognised by their update id
  (`state.service.conversations.Conversations.handle`, `state.service.redelivery`).
  One exception, a trade: Telegram answers at most 100 updates from the offset, so when
  that whole window is updates already in hand and nothing new, and the oldest of them is
  stuck (its chat has more waiting behind it: a flood; or it has waited `STUCK_AFTER`
  seconds: a chat held by a 429 or a slow call), the offset moves past them to the newest
  one in hand.
  Everyone else's updates are fetched again at once; the ones skipped over live only in
  memory until handled (`in_memory_only()`), so a crash then could lose them: up to
  `QUEUE_LIMIT` per flooded chat, and whatever else was in hand (docs/operations.md);
- updates of different chats are handled concurrently (up to `concurrency` at a time) and
  each chat's updates strictly in order, which is what the engine needs. While one chat
  waits for Telegram or the database, another is served;
- when everything in hand is handled it long-polls again at once; while updates are
  still being handled (a chart being drawn, a chat held by a 429, a flood from one
  person) it keeps asking for more every `BUSY_POLL` seconds (or as soon as one is
  handled, but not more often than every `MIN_GAP`), so no chat holds another back. The
  updates in hand come back in each answer, as they are not confirmed yet; every id below
  the newest one queued is in hand or done (ids only grow), so they are skipped without
  being parsed. When 100 or more are in hand above the offset, an answer could hold
  nothing new, so nothing is asked until the offset moves: a busy bot does not fetch
  and decode the same hundred updates after every one it handles;
- each chat's queue holds at most `QUEUE_LIMIT` updates. Beyond that an update is
  answered once with a plain "slow down" and dropped (counted in `dropped`), unless
  `urgent` says it must be read (words of crisis: never dropped); a press on the same
  message as a press still waiting is merged into it (answered, not queued);
- the batch is fetched as raw JSON and parsed one update at a time: an update that cannot
  be parsed is parked (its id, kind and size counted in `parked`, never its content) and
  the offset moves past it, where PTB's own `get_updates` would fail the whole batch
  forever and log every user's text at CRITICAL;
- errors while fetching are logged and retried with a growing pause, as PTB does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from telegram import Update
from telegram.error import Forbidden, InvalidToken, TelegramError
from telegram.ext import Application, Updater
from telegram.warnings import PTBUserWarning

from bot.ops.metrics import PARKED_UPDATES

log = logging.getLogger("craftbot.updates")

MAX_PAUSE = 30.0  # seconds between fetch retries at most
BATCH = 100  # Telegram's largest getUpdates batch
BUSY_POLL = 0.05  # seconds between fetches while updates are in hand (unless one is handled)
QUEUE_LIMIT = 20  # updates waiting in one chat before more are turned away
SLOW_DOWN = ("I'm still reading your earlier messages, so I missed some of the latest ones. "
             "Please wait for my answer, then send the rest again.")
READ_MARGIN = 5.0  # seconds a long poll may take beyond its timeout (PTB's default read timeout)
STUCK_AFTER = 0.5  # seconds the offset stays put, Telegram's window full, before it moves past
MIN_GAP = 0.01  # seconds between two fetches while updates are in hand
YIELD_EVERY = 10  # updates parsed before the other tasks get a turn

# getUpdates is fetched raw (`Bot.do_api_request`) so that one bad update cannot fail the batch;
# PTB warns that `get_updates` exists, which is the point: it parses all or nothing.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)


def chat_key(update: Update) -> int:
    """The chat whose updates must stay in order (the user for presses on inline messages)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0


class CommitFirstUpdater(Updater):
    """Long polling that confirms an update to Telegram only after it has been handled."""

    def __init__(self, application: Application, concurrency: int = 32,  # type: ignore[type-arg]
                 urgent: Callable[[Update], bool] | None = None,
                 slow_down: Callable[[Update], str] | None = None) -> None:
        super().__init__(application.bot, application.update_queue)
        self.application = application
        self.concurrency = max(1, concurrency)
        self.urgent = urgent or (lambda update: False)
        self.slow_down = slow_down or (lambda update: SLOW_DOWN)  # in the person's language
        self.handled = 0
        self.dropped = 0  # turned away from a full chat queue (the person was told)
        self.merged = 0  # presses merged into one waiting on the same message
        self.parked = 0  # updates that could not be parsed, skipped (metrics read this)
        self.parked_kinds: Counter[str] = Counter()
        self.skips = 0  # times the offset moved past updates in hand (a clogged window)
        self._next = 0  # one past the newest update handed to a chat
        self._floor = 0  # the offset may not go below this: Telegram forgot what is under it
        self._since = (0, 0.0)  # (the oldest update in hand, since when it is the oldest)
        self._fetched_at = 0.0  # when the last fetch was asked (the event loop's clock)
        self._pending: dict[int, int] = {}  # ids of updates not yet handled -> their chat
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
                await self._get(offset=self._offset(), limit=1, timeout=0)
            except TelegramError as exc:
                log.warning("could not confirm the last updates (%s); they will come again",
                            type(exc).__name__)

    def _offset(self) -> int:
        """The offset to send: it confirms the updates below the oldest one in hand.

        Never below `_floor`, where a clogged window moved it (`_unclog`).
        """
        return max(self._floor, min(self._pending) if self._pending else self._next)

    def in_memory_only(self) -> int:
        """Updates in hand that Telegram would not deliver again after a crash."""
        return sum(1 for update_id in self._pending if update_id < self._floor)

    def _window_full(self) -> bool:
        """Whether Telegram's next answer can only be updates already in hand."""
        return self._next - self._offset() >= BATCH

    def _unclog(self, full: bool) -> bool:
        """Telegram's window holds nothing new (`full`): move the offset past every update in hand.

        Telegram answers at most `BATCH` updates from the offset; when all of them are in
        hand (queued behind a busy chat, or turned away but not yet confirmed), updates
        after them cannot be fetched at all until the oldest is handled. Under a steady
        load the oldest is handled soon and the window moves by itself; the offset moves
        only past an oldest update that is stuck: more of its chat's updates wait behind
        it (a flood), or it has been the oldest for `STUCK_AFTER` seconds.
        """
        if not self._pending:
            return False
        oldest, now = min(self._pending), asyncio.get_running_loop().time()
        if oldest != self._since[0]:
            self._since = (oldest, now)
        if not full or self._offset() >= self._next:
            return False
        queue = self._chats.get(self._pending[oldest])
        if (queue is None or len(queue) < 2) and now - self._since[1] < STUCK_AFTER:
            return False
        self._floor = self._next
        self.skips += 1
        log.info("the offset moved past %d update(s) in hand: Telegram's window was full",
                 self.in_memory_only())
        return True

    async def _poll(self, wait: Any, allowed: list[str] | None, interval: float,
                    on_error: Callable[[TelegramError], None] | None) -> None:
        pause = 1.0
        fresh = True  # the last answer brought new updates: ask again at once
        while self.running:
            if self._pending and not fresh:  # nothing new came: wait a moment, or for one done
                await self._until_handled(BUSY_POLL)
                await self._wait(self._fetched_at + MIN_GAP - asyncio.get_running_loop().time())
                if self._window_full() and not self._unclog(True):
                    continue  # an answer now could bring nothing new
            if not self.running:
                return
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
            before = self._next
            for count, raw in enumerate(updates, 1):  # in order: parsed, queued, then the next
                update = self._parse(raw)
                if update is not None:
                    self._dispatch(update)
                if count % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # a flood's hundred updates do not hold the others' replies
            fresh = self._next != before
            if self._unclog(len(updates) >= BATCH and not fresh):
                fresh = True  # ask again at once, from past the clog
            if interval:
                await self._wait(interval)

    async def _get(self, **params: Any) -> list[Any]:
        """getUpdates, unparsed: a list of JSON objects (Telegram's answer as it came)."""
        seconds = float(params.get("timeout") or 0)
        raw = await self.bot.do_api_request("getUpdates", api_kwargs=params,
                                            read_timeout=seconds + READ_MARGIN)
        return list(raw) if isinstance(raw, list) else []

    async def _fetch(self, wait: Any, allowed: list[str] | None) -> list[Any] | None:
        """The next updates from the current offset, unparsed, or None when asked to stop."""
        self._fetched_at = asyncio.get_running_loop().time()
        fetch = asyncio.ensure_future(self._get(
            offset=self._offset(), limit=BATCH, timeout=wait, allowed_updates=allowed))
        stopping = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await fetch
            return None
        return fetch.result()

    def _parse(self, raw: Any) -> Update | None:
        """One update from its JSON; None for one already in hand or one that cannot be parsed.

        An update that cannot be parsed is parked: counted by kind, its id, kind and size
        logged (never its content), and the offset moves past it.
        """
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if isinstance(update_id, int) and update_id < self._next:
            return None  # in hand or handled: Telegram repeats what the offset has not passed
        try:
            return Update.de_json(raw, self.bot)
        except Exception as exc:  # any parse failure parks the update
            self._park(raw, update_id, exc)
            return None

    def _park(self, raw: Any, update_id: Any, exc: Exception) -> None:
        kinds = [key for key in raw if key != "update_id"] if isinstance(raw, dict) else []
        kind = kinds[0] if len(kinds) == 1 else "unknown"
        self.parked += 1
        self.parked_kinds[kind] += 1
        PARKED_UPDATES.inc()
        if isinstance(update_id, int):
            self._next = max(self._next, update_id + 1)
        log.warning("update %s parked: cannot be parsed (%s), kind=%s bytes=%d",
                    update_id if isinstance(update_id, int) else "?", type(exc).__name__, kind,
                    len(json.dumps(raw, default=str)))

    def _dispatch(self, update: Update) -> None:
        """Queue an update behind its chat's earlier ones; start the chat's worker if idle."""
        self._next = update.update_id + 1
        key = chat_key(update)
        queue = self._chats.get(key)
        if queue is not None:
            if self._turned_away(key, queue, update):
                return
            self._pending[update.update_id] = key
            queue.append(update)
            return
        self._pending[update.update_id] = key
        self._chats[key] = deque([update])
        worker = asyncio.create_task(self._serve(key), name=f"craftbot:chat:{key}")
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    def _turned_away(self, key: int, queue: deque[Update], update: Update) -> bool:
        """Whether an update is merged or turned away rather than queued (then it is done)."""
        press = update.callback_query
        if press is not None and press.message is not None and any(
                q.callback_query is not None and q.callback_query.message is not None
                and q.callback_query.message.message_id == press.message.message_id
                for q in list(queue)[1:]):  # the same keyboard pressed while a press waits
            self.merged += 1
            self._later(self.bot.answer_callback_query(press.id))
            return True
        if len(queue) < QUEUE_LIMIT or self.urgent(update):
            return False
        self.dropped += 1
        if not any(q.update_id < 0 for q in queue):  # tell them once per overflow
            self._later(self.bot.send_message(key, self.slow_down(update)))
            queue.append(Update(-update.update_id))  # marks the overflow told; skipped
        return True

    def _later(self, call: Coroutine[Any, Any, Any]) -> None:
        """A call whose answer nobody waits for (its failure is logged by kind only)."""
        async def run() -> None:
            try:
                await call
            except TelegramError as exc:
                log.info("a notice could not be sent: %s", type(exc).__name__)
        task = asyncio.create_task(run())
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)

    async def _serve(self, key: int) -> None:
        """Handle one chat's queued updates in order, then stop."""
        queue = self._chats[key]
        try:
            while queue:
                update = queue[0]
                if update.update_id >= 0:
                    async with self._slots:
                        await self._process(update)
                queue.popleft()
                self._pending.pop(update.update_id, None)
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
