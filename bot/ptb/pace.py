"""One instance's side of the outgoing budget shared by every instance (`state.storage.SharedRate`).

With PostgreSQL, `bot.ptb.outbox.Budget` keeps its own queue, priorities, per-chat buckets
and its own overall rate (no instance ever sends more than the whole budget), and asks
`SharedPace` before a message goes. `SharedPace` asks the bucket in the database
(`state.store.pgbudget`):

- priorities across instances are kept by reserves: a reply may take the bucket's last
  token, a reminder only while more than a third of its burst is left, bulk only while more
  than two thirds is. So when the bucket runs low, every instance's reminders wait and
  every instance's replies still find capacity;
- crisis help never waits on the database: it goes at once, and the token it used is taken
  afterwards, in the background, letting the bucket go into debt (up to one burst), so the
  others slow down for it;
- when several calls wait, up to `BATCH` tokens are taken in one round trip and kept for
  `KEEP` seconds for the next calls of the same or a more urgent priority;
- a 429 for the whole bot is written to the bucket (`hold`) and every instance learns it at
  its next grant;
- when the bucket does not answer within `WAIT` seconds (the database is down, slow or
  locked), the instance goes on with its own budget alone for `ALONE` seconds, logs it and
  counts it (`craftbot_outbox_alone_total`): availability over strictness. Telegram may then
  answer 429s, which hold as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.ops.metrics import OUTBOX_ALONE
from state.storage import SharedRate

log = logging.getLogger("craftbot.outbox")

CRISIS, REPLY, REMINDER, BULK = 0, 1, 2, 3  # priorities, most urgent first (bot.ptb.outbox's)
RESERVES = {REPLY: 0.0, REMINDER: 1 / 3, BULK: 2 / 3}  # of the burst: left for more urgent calls
WAIT = 0.5  # seconds a call waits for the shared bucket's answer before going on alone
ALONE = 5.0  # seconds an instance keeps to its own budget after the shared one did not answer
BATCH = 4  # most tokens taken in one round trip, when that many calls wait
KEEP = 1.0  # seconds tokens taken ahead are kept for the calls that follow
LOOK_AGAIN = 0.25  # most seconds between two asks while the bucket is low


@dataclass(frozen=True)
class Answer:
    """Whether a call may go now; if not, how long to wait before asking again, and any hold."""

    go: bool
    wait: float = 0.0
    held: float = 0.0  # seconds a 429 for the whole bot (met by some instance) still holds


GO = Answer(True)


class SharedPace:
    """This instance's grants from the shared bucket (see the module's text)."""

    def __init__(self, rate: SharedRate, now: Callable[[], float]) -> None:
        self.rate = rate
        self.now = now  # the instance's own monotonic clock, for KEEP and ALONE
        self.alone = 0  # times the bucket did not answer in time
        self._kept = 0  # tokens taken ahead
        self._kept_for = CRISIS  # the least urgent priority they may serve
        self._kept_until = 0.0
        self._alone_until: float | None = None
        self._behind_said = False
        self._tasks: set[asyncio.Task[Any]] = set()

    def reserve(self, priority: int) -> float:
        """Tokens a call of this priority must leave in the bucket (crisis: it may owe a burst)."""
        if priority <= CRISIS:
            return -self.rate.capacity
        return RESERVES.get(priority, RESERVES[BULK]) * self.rate.capacity

    async def turn(self, priority: int, waiting: int) -> Answer:
        """Ask for one message of `priority` (`waiting`: calls queued, for a batch)."""
        if priority <= CRISIS:
            self._background(self.rate.take(1, self.reserve(CRISIS)))
            return GO
        now = self.now()
        if self._kept and priority <= self._kept_for and now < self._kept_until:
            self._kept -= 1
            return GO
        if self._alone_until is not None and now < self._alone_until:
            return GO
        reserve = self.reserve(priority)
        try:
            grant = await asyncio.wait_for(self.rate.take(min(BATCH, max(1, waiting)), reserve), WAIT)
        except Exception as exc:  # the database is down or slow: this instance's budget alone
            self._go_alone(exc)
            return GO
        self._alone_until = None
        if grant.clock_behind and not self._behind_said:
            self._behind_said = True
            log.warning("outbox: this instance's clock is behind the shared budget's by over 2 s; check NTP")
        if grant.held > 0:
            return Answer(False, grant.held, grant.held)
        if grant.granted:  # tokens still kept serve only the more urgent of both priorities now
            self._kept_for = min(self._kept_for, priority) if self._kept else priority
            self._kept, self._kept_until = self._kept + grant.granted - 1, now + KEEP
            return GO
        wait = (reserve + 1 - grant.tokens) / self.rate.rate
        return Answer(False, min(max(wait, 0.001), LOOK_AGAIN))

    def hold_everywhere(self, seconds: float) -> None:
        """A 429 for the whole bot: tell every instance, in the background."""
        self._background(self.rate.hold(seconds))

    async def close(self) -> None:
        """Stop what runs in the background and let the connection go."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.rate.close()

    def _background(self, work: Coroutine[Any, Any, object]) -> None:
        """Run `work` with the usual timeout, never waited for (crisis help, holds)."""
        if self._alone_until is not None and self.now() < self._alone_until:
            work.close()  # the bucket is not answering: do not pile calls on it
            return

        async def run() -> None:
            try:
                await asyncio.wait_for(work, WAIT)
            except Exception as exc:
                self._go_alone(exc)

        task = asyncio.create_task(run(), name="craftbot:outbox-shared")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _go_alone(self, exc: BaseException) -> None:
        if self._alone_until is None:
            log.warning("outbox: the shared budget did not answer (%s); this instance keeps its own"
                        " pace for %.0f s", type(exc).__name__, ALONE)
        self.alone += 1
        OUTBOX_ALONE.inc()
        self._alone_until = self.now() + ALONE
