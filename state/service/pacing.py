"""Spacing unasked messages within Telegram's limits: ~30 a second overall, ~1 a second per chat.

`Pacer.wait(chat)` returns when a message to that chat may go: first it waits until the
chat's own spacing allows one, then it books the next free slot of the overall rate (so a
chat that must wait never holds up the others). `pause(seconds)` stops every send for that
long: Telegram's "retry after" means the bot, not just one chat, must slow down.

Time is injected (`now`, `sleep`), so tests and `bench/reminders.py` run the same code in
simulated time with `SimulatedTime`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

PRUNE_AT = 50_000  # chats remembered before old entries are dropped


class Pacer:
    """Books send slots: at most `per_second` overall, one per `per_chat` seconds in a chat."""

    def __init__(self, per_second: float = 25.0, per_chat: float = 1.0, *,
                 now: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if per_second <= 0 or per_chat < 0:
            raise ValueError("per_second must be above 0 and per_chat not below 0")
        self.interval = 1.0 / per_second
        self.per_chat = per_chat
        self.now = now
        self.sleep = sleep
        self._next = 0.0
        self._paused_until = 0.0
        self._chats: dict[int, float] = {}

    async def wait(self, chat_id: int) -> float:
        """Wait until a message to `chat_id` may be sent; the time it may go."""
        while True:
            ready = max(self._chats.get(chat_id, 0.0), self._paused_until)
            if ready > self.now():
                await self.sleep(ready - self.now())
                continue
            now = self.now()
            slot = max(now, self._next, self._paused_until)
            self._next = slot + self.interval
            self._chats[chat_id] = slot + self.per_chat
            if slot > now:
                await self.sleep(slot - now)
            if self.now() >= self._paused_until:
                self._prune()
                return slot

    def last_slot(self, chat_id: int) -> float | None:
        """When the latest message to `chat_id` was allowed to go (None if none was)."""
        ready = self._chats.get(chat_id)
        return None if ready is None else ready - self.per_chat

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds` (Telegram answered "retry after")."""
        self._paused_until = max(self._paused_until, self.now() + seconds)

    def _prune(self) -> None:
        if len(self._chats) > PRUNE_AT:
            now = self.now()
            self._chats = {chat: t for chat, t in self._chats.items() if t > now}


class SimulatedTime:
    """A clock that jumps instead of sleeping: `sleep` moves time on and returns at once.

    Exact for one task at a time, and for several that, as with `Pacer`, each sleep until
    a slot booked after the previous one; a task that waited for its chat while others
    sent moves time further than needed, so rates measured this way are, if anything, low.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def now(self) -> float:
        """The simulated time."""
        return self.t

    async def sleep(self, seconds: float) -> None:
        """Move time on by `seconds` (from now) and let other tasks run."""
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)
