"""The reminder dispatcher: due reminders out of SQLite, worded by the engine, sent within limits.

One pass (`Scheduler.run_due(now)`) claims the reminders due at `now` in batches, and for
each: the engine words it through `Conversations.handle(Due(...))` (reminders off, quiet
hours now, homework already reviewed: it says nothing, and the reminder is skipped or put
back until quiet hours end); a `Pacer` spaces the sends; the reminder is marked sent only
once Telegram accepted it (claim-then-send: see `state.store.reminders`).

- "retry after": every send pauses for as long as Telegram says, then the message is
  tried again (up to `max_retries`; after that the reminder waits for a later pass);
- blocked by the user (or the account is gone): the reminder fails, the person's other
  reminders are cancelled, and nothing is planned for them until they write again;
- any other failure: the reminder goes back to wait a minute, never lost.

`run_forever` is the bot's loop: `recover` once, then a pass every `poll_seconds`. Time is
the one injectable clock (`state.service.clock`), so tests move it and call `run_due` themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.ops.metrics import REMINDERS_DUE, REMINDERS_FAILED, REMINDERS_SENT
from bot.ptb.outbox import REMINDER, retry_seconds
from bot.ptb.render import Renderer
from state.contracts import Due, Message
from state.service.conversations import Clock, Conversations
from state.service.pacing import Pacer
from state.service.tasks import stop_task
from state.store.reminders import Reminder, ReminderStore

log = logging.getLogger("craftbot.reminders")

UNREACHABLE_WORDS = ("chat not found", "user is deactivated", "bot was blocked")


class Unreachable(Exception):
    """Telegram refuses to deliver to this chat for good (the user blocked the bot)."""


class RetryLater(Exception):
    """Telegram asked to wait before sending again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class Sender(Protocol):
    """Delivers one message to one private chat."""

    async def send(self, chat_id: int, message: Message) -> None:
        """Send it, or raise `Unreachable` or `RetryLater`."""
        ...


@dataclass
class DispatchReport:
    """What one pass did."""

    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    deferred: int = 0
    unreachable: int = 0
    released: int = 0
    retries: int = 0
    waited: float = 0.0


def spread(batch: list[Reminder]) -> list[Reminder]:
    """Everyone's first reminder before anyone's second, so no one's chat spacing holds the rest up."""
    seen: dict[int, int] = {}
    ranked = []
    for reminder in batch:
        seen[reminder.user_id] = seen.get(reminder.user_id, -1) + 1
        ranked.append((seen[reminder.user_id], reminder))
    return [reminder for _, reminder in sorted(ranked, key=lambda pair: pair[0])]


class Scheduler:
    """Sends due reminders, once each, within Telegram's limits."""

    def __init__(self, conversations: Conversations, sender: Sender, *, clock: Clock,
                 pacer: Pacer | None = None, workers: int = 8, batch: int = 200,
                 max_retries: int = 3, backoff: float = 60.0) -> None:
        self.conversations = conversations
        self.reminders = ReminderStore(conversations.store)
        self.sender = sender
        self.clock = clock
        self.pacer = pacer or Pacer()
        self.workers = max(1, workers)
        self.batch = max(1, batch)
        self.max_retries = max_retries
        self.backoff = backoff

    async def recover(self) -> int:
        """After a crash: claims never marked sent wait again (at most one may go out twice)."""
        returned = await self.reminders.recover()
        if returned:
            log.warning("%d reminder(s) claimed before a restart are due again", returned)
        return returned

    async def run_due(self, now: float | None = None, user_id: int | None = None) -> DispatchReport:
        """One pass: send every reminder due at `now` (the clock's time if not given).

        With `user_id`, only that person's (the terminal chat is one person's chat).
        """
        at = self.clock() if now is None else now
        report = DispatchReport()
        await self.reminders.release_nudges(at, user_id)  # kept on people's rows until due
        while True:
            batch = await self.reminders.claim_due(at, self.batch, user_id)
            report.claimed += len(batch)
            REMINDERS_DUE.inc(len(batch))
            queue = deque(spread(batch))
            await asyncio.gather(*(self._work(queue, report) for _ in range(min(self.workers, len(batch)))))
            if len(batch) < self.batch:
                return report

    async def _work(self, queue: deque[Reminder], report: DispatchReport) -> None:
        """One of the workers of a pass: deliver reminders until the batch is done."""
        while queue:
            await self._deliver(queue.popleft(), report)

    async def _deliver(self, reminder: Reminder, report: DispatchReport) -> None:
        """Word one claimed reminder, send it, and record how it went."""
        due = Due(reminder.id, reminder.kind, reminder.due_at, reminder.ref, reminder.created_at)
        try:
            reply = await self.conversations.handle(reminder.user_id, due)
            if reply is None or not reply.messages:
                if reply is not None and any(e.kind == "reminder_deferred" for e in reply.events):
                    report.deferred += 1  # quiet hours now: the engine put it back until they end
                    return
                await self.reminders.finish(reminder.id, "skipped", self.clock())
                report.skipped += 1
                return
            for message in reply.messages:
                await self._send(reminder.user_id, message, report)
        except Unreachable:
            await self.reminders.unreachable(reminder.user_id, reminder.id, self.clock())
            report.unreachable += 1
            REMINDERS_FAILED.inc()
            log.info("reminder %d: the person cannot be reached; their reminders stop", reminder.id)
            return
        except RetryLater as exc:
            await self.reminders.release(reminder.id, self.clock() + exc.seconds)
            report.released += 1
            return
        except Exception:
            log.exception("reminder %d failed; it will be tried again", reminder.id)
            await self.reminders.release(reminder.id, self.clock() + self.backoff)
            report.released += 1
            REMINDERS_FAILED.inc()
            return
        await self.reminders.mark_sent(reminder.id, self.clock())
        report.sent += 1
        REMINDERS_SENT.inc()

    async def _send(self, chat_id: int, message: Message, report: DispatchReport) -> None:
        """Send one message when the pacer allows; on "retry after", wait as told and retry."""
        for attempt in range(self.max_retries + 1):
            await self.pacer.wait(chat_id)
            try:
                await self.sender.send(chat_id, message)
                return
            except RetryLater as exc:
                if attempt == self.max_retries:
                    raise
                log.warning("Telegram asked to wait %.1f s before sending again", exc.seconds)
                report.retries += 1
                report.waited += exc.seconds
                self.pacer.pause(exc.seconds)

    async def run_forever(self, poll_seconds: float) -> None:
        """The bot's loop: recover once, then a pass every `poll_seconds` until cancelled."""
        await self.recover()
        while True:
            try:
                report = await self.run_due()
                if report.claimed:
                    log.info("reminders: %d due, %d sent, %d skipped, %d unreachable, %d put back",
                             report.claimed, report.sent, report.skipped, report.unreachable,
                             report.released)
            except Exception:
                log.exception("reminder pass failed")
            await asyncio.sleep(poll_seconds)


class TelegramSender:
    """Sends a reminder through the bot's `Renderer`, turning Telegram's refusals into ours."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    async def send(self, chat_id: int, message: Message) -> None:
        """Send one message as a reply would look (split if long), keeping its ids for /hide."""
        try:
            await self.renderer.send(chat_id, message, remember_each=True, priority=REMINDER)
        except RetryAfter as exc:
            raise RetryLater(retry_seconds(exc)) from exc
        except Forbidden as exc:
            raise Unreachable(type(exc).__name__) from exc
        except BadRequest as exc:
            if any(words in exc.message.lower() for words in UNREACHABLE_WORDS):
                raise Unreachable(type(exc).__name__) from exc
            raise


class ReminderLoop:
    """The dispatcher's life in the bot: started after the store opens, stopped before it closes."""

    def __init__(self, conversations: Conversations, *, poll_seconds: float, pacer: Pacer,
                 workers: int) -> None:
        self.conversations = conversations
        self.poll_seconds = poll_seconds
        self.pacer = pacer
        self.workers = workers
        self.scheduler: Scheduler | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, renderer: Renderer) -> None:
        """Recover claims a crash left, then look for due reminders every `poll_seconds`."""
        self.scheduler = Scheduler(self.conversations, TelegramSender(renderer),
                                   clock=self.conversations.clock, pacer=self.pacer, workers=self.workers)
        self._task = asyncio.create_task(self.scheduler.run_forever(self.poll_seconds),
                                         name="craftbot-reminders")

    async def stop(self) -> None:
        """Stop between sends (an interrupted send is recovered at the next start)."""
        await stop_task(self._task)
        self._task = None
