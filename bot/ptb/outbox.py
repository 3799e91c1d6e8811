"""One outgoing budget per bot token: crisis help first, one chat's 429 holds that chat only.

Telegram lets a bot send about 30 messages a second overall and about one a second to one
chat (short bursts pass); beyond that it answers 429 "retry after N". python-telegram-bot's
`AIORateLimiter` treats every 429 as the whole bot's and serves calls first come, first
served, so one flooded chat or a wave of reminders makes everyone wait. `Budget` is the
bot's `BaseRateLimiter` instead (every Bot API call passes through it, replies and
reminders alike):

- messages (sends and edits) queue for the overall rate by priority: `CRISIS` replies,
  then `REPLY` (someone just wrote), then `REMINDER`, then `BULK`; the caller says which
  with PTB's `rate_limit_args`; calls that send nothing (answers to presses, deletes,
  "typing…", getMe) are not counted. Within a priority, a chat that was sent nothing in
  the last `LEAD` seconds goes up to `LEAD` seconds ahead: the first message of a reply,
  what tells a person they were heard, does not wait behind the fourth message of
  someone else's long reply (which then waits a little longer, never more than `LEAD`);
- each chat has its own bucket (`aiolimiter.AsyncLimiter`: `chat_burst` messages at once,
  one a second sustained), taken before the overall queue, so a chat that must wait
  holds no slot anyone else could use. Every message waits for it, replies included: a
  person writing fast is answered at Telegram's pace for one chat rather than provoking
  a 429, which would hold their chat far longer;
- both buckets allow a smaller burst than Telegram does (half the overall rate, one less
  per chat), so calls that leave here evenly spaced and arrive bunched by the network or
  a busy moment still fit Telegram's own buckets;
- a 429 for a call to one chat holds that chat for `retry_after`; a 429 for a call to no
  chat holds every call, and so do 429s for two different chats within a second (that is
  the bot's overall limit, whichever chat's call met it). The call is then tried again,
  up to `max_retries` times.

`per_second <= 0` turns the rates off (a local fake server in tests and benches); holds
and priorities stay.

Several instances on one PostgreSQL share one budget per token: with `shared`, every
message but crisis help also waits for its turn in the bucket in the database, and a 429
for the whole bot holds every instance (`bot.ptb.pace`, `state.store.pgbudget`). The queue,
the priorities within this instance, the per-chat buckets and per-chat holds stay here: a
chat's updates are worked by one instance at a time (the inbox's lease), so its replies all
leave from one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.ptb.pace import BULK, CRISIS, REMINDER, REPLY, SharedPace
from state.storage import SharedRate

__all__ = ["BULK", "CRISIS", "REMINDER", "REPLY", "Budget", "chat_of", "retry_seconds"]
COUNTED = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendVoice", "sendAudio",
    "sendVideo", "sendAnimation", "sendSticker", "copyMessage", "forwardMessage",
    "editMessageText", "editMessageReplyMarkup", "editMessageCaption", "editMessageMedia",
})
CHATS_KEPT = 10_000  # chat buckets remembered (least recently used dropped first)
CHAT_BURST = 4  # messages at once to one chat (Telegram's burst looks like 5; one spare)
TOGETHER = 1.0  # seconds: 429s for two chats this close together are the bot's overall limit
LEAD = 1.0  # seconds a chat sent nothing lately may go ahead of chats in the middle of a reply
RECHECK = 0.5  # most seconds between two looks at a hold (a hold learnt from another instance may move)

Result = bool | dict[str, Any] | list[dict[str, Any]]


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked to wait, in seconds."""
    wait = exc.retry_after
    return float(wait) if isinstance(wait, int | float) else wait.total_seconds()


def chat_of(data: dict[str, Any]) -> int | None:
    """The chat a call is about, if it names one by number."""
    raw = data.get("chat_id")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.lstrip("-").isdigit():
        return int(raw)
    return None


class Budget(BaseRateLimiter[int]):
    """The bot's outgoing calls, within Telegram's limits, in order of priority."""

    def __init__(self, per_second: float = 30.0, *, chat_burst: int = CHAT_BURST, max_retries: int = 3,
                 now: Callable[[], float] = time.monotonic, shared: SharedRate | None = None) -> None:
        # the same rate as Telegram's, half its burst: a bunched arrival still fits
        self.overall = AsyncLimiter(per_second / 2, 0.5) if per_second > 0 else None
        self.chat_burst = chat_burst if per_second > 0 else 0
        self.max_retries = max_retries
        self.now = now
        self.holds = 0  # 429s answered so far
        self._held_until: dict[int | None, float] = {}  # None: every chat
        self._last_refused: tuple[float, int] | None = None  # (when, chat) of the last chat's 429
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()
        self._waiting: list[tuple[int, float, int, int | None, asyncio.Future[None]]] = []
        self._served: dict[int, float] = {}  # chat -> when it last got a slot (within LEAD)
        self._order = itertools.count()
        self._pump: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()  # a call was queued: the pump looks at the queue's head again
        # the bucket every instance shares (PostgreSQL); never with the rates off
        self.shared = SharedPace(shared, now) if shared is not None and self.overall is not None else None

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Stop granting turns."""
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        if self.shared is not None:
            await self.shared.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Make the call when its chat and its priority allow; after a 429, hold and retry."""
        chat = chat_of(data)
        priority = REPLY if rate_limit_args is None else rate_limit_args
        for attempt in itertools.count():
            await self.turn(chat, priority, counted=endpoint in COUNTED)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.hold(chat, retry_seconds(exc))
                if attempt >= self.max_retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def hold(self, chat: int | None, seconds: float) -> None:
        """Telegram answered 429: nothing more to `chat` (None: to anyone) for `seconds`."""
        self.holds += 1
        now = self.now()
        if chat is not None:
            last, self._last_refused = self._last_refused, (now, chat)
            if last is not None and last[1] != chat and now - last[0] < TOGETHER:
                chat = None  # two chats refused together: the bot's overall limit
        if chat is None and self.shared is not None:
            self.shared.hold_everywhere(seconds)
        self._hold(chat, seconds)

    def _hold(self, chat: int | None, seconds: float) -> None:
        until = self.now() + seconds
        self._held_until[chat] = max(self._held_until.get(chat, 0.0), until)

    def held(self, chat: int | None) -> float:
        """Seconds until a call to `chat` may go as far as 429s are concerned (0: now)."""
        until = max(self._held_until.get(None, 0.0),
                    self._held_until.get(chat, 0.0) if chat is not None else 0.0)
        return max(0.0, until - self.now())

    async def turn(self, chat: int | None, priority: int, *, counted: bool = True) -> None:
        """Wait for this call's turn: its chat's hold and bucket, then the overall queue."""
        await self._sit_out(chat)
        if not counted:
            return
        if chat is not None and self.chat_burst:
            await self._bucket(chat).acquire()
        await self._overall(priority, chat)

    async def _sit_out(self, chat: int | None) -> None:
        """Return once no 429 holds calls to `chat` (a hold may grow while waiting)."""
        for _ in itertools.count():
            wait = self.held(chat)
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, RECHECK))

    def _bucket(self, chat: int) -> AsyncLimiter:
        bucket = self._chats.pop(chat, None) or AsyncLimiter(self.chat_burst, float(self.chat_burst))
        self._chats[chat] = bucket
        if len(self._chats) > CHATS_KEPT:
            self._chats.popitem(last=False)
        return bucket

    async def _overall(self, priority: int, chat: int | None) -> None:
        """A slot of the overall rate; the most urgent waiting call gets the next one."""
        if self.overall is None:
            return
        if self.shared is not None and priority == CRISIS:
            # Crisis help never waits on the database, nor behind a call that does: it takes
            # this process's next slot and is counted in the shared bucket afterwards.
            await self.overall.acquire()
            await self.shared.turn(CRISIS, 0)
            self._serve(chat)
            return
        if self.shared is None and not self._waiting and self.overall.has_capacity():
            await self.overall.acquire()
            self._serve(chat)
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        now = self.now()
        fresh = chat is None or now - self._served.get(chat, -LEAD) >= LEAD
        heapq.heappush(self._waiting, (priority, now - LEAD if fresh else now, next(self._order), chat, turn))
        self._arrived.set()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._grant(), name="craftbot:budget")
        await turn

    async def _grant(self) -> None:
        """Hand out slots of the overall rate to waiting calls, most urgent first.

        With a shared bucket the head of the queue also needs its grant; while it waits for
        one, a more urgent call that arrives takes its place at the head.
        """
        assert self.overall is not None
        slot = False  # a slot of this instance's own rate in hand
        while self._waiting:
            await self._sit_out(None)
            if not slot:
                await self.overall.acquire()
                slot = True
            while self._waiting and self._waiting[0][-1].done():
                heapq.heappop(self._waiting)  # its caller gave up
            if not self._waiting:
                break
            if self.shared is not None:
                answer = await self.shared.turn(self._waiting[0][0], len(self._waiting))
                if answer.held:
                    self._hold(None, answer.held)  # another instance met Telegram's 429
                    continue
                if not answer.go:
                    await self._pause(answer.wait)
                    continue
            while self._waiting:
                *_, chat, turn = heapq.heappop(self._waiting)
                if not turn.done():
                    turn.set_result(None)
                    self._serve(chat)
                    slot = False
                    break

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds`, or less if a call is queued meanwhile (it may be more urgent)."""
        self._arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), seconds)

    def _serve(self, chat: int | None) -> None:
        """Note that `chat` just got a slot (entries older than LEAD are forgotten now and then)."""
        if chat is None:
            return
        now = self.now()
        self._served[chat] = now
        if len(self._served) > CHATS_KEPT:
            self._served = {c: t for c, t in self._served.items() if now - t < LEAD}
