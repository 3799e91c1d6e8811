"""The conversation service: load a user's progress, let the engine answer, save, in order.

This is the one place where an input becomes a saved reply. Telegram and the terminal
chat both call `Conversations.handle`; a repeated update (same id, as after a crash) is
recognised here, inside the same transaction that saved it the first time. The engine
decides who answers (`state.engine.engine`); the service carries out what the answer
orders: reminder orders inside the transaction, privacy orders after it.

Help in a crisis does not wait on the store. A turn that asks for it (words of crisis,
/safety, a crisis button) gets `crisis_wait` seconds (`CRISIS_WAIT`); a store slower than
that (PostgreSQL unreachable, a row locked by another instance, SQLite's write lock held
by a `craftbot purge`) and the person is answered at once from a fresh progress, as when
the store fails. Their turn is not cancelled (a transaction abandoned mid-way would be left
open on the store's connection): it runs on, and if it is saved, its reply is recorded as
sent and never sent: the person has had the help once, and their progress now holds the
crisis turn as if it had answered. If it fails, nothing was saved and their progress is
as it was.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from state.contracts import Delivery, Due, Input, Other, Reply, TextIn
from state.engine.engine import Engine
from state.service.datarights import DataRights
from state.service.orders import FollowUp, FollowUpOptions
from state.service.redelivery import answer_again
from state.store.privacy import PrivacyData
from state.store.progress import ProgressStore

Clock = Callable[[], float]
log = logging.getLogger("craftbot.service")
# Seconds a turn asking for crisis help waits for the store before it is answered without the
# saved progress: a healthy turn takes milliseconds (docs/performance.md), so only a store in
# trouble is cut short, and help (with its sending) still comes within a few seconds.
CRISIS_WAIT = 2.0
SETTLE_WAIT = 10.0  # seconds the bot's stop waits for turns running past their deadline


class Conversations:
    """Serves inputs from many users against one engine and one store."""

    def __init__(self, engine: Engine, store: ProgressStore, clock: Clock = time.time,
                 followup: FollowUpOptions | None = None, *, crisis_wait: float = CRISIS_WAIT) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self.crisis_wait = crisis_wait  # seconds (see the module's text)
        self.behind: set[asyncio.Task[None]] = set()  # crisis turns still running past the deadline
        self.privacy = PrivacyData(store)
        self.rights = DataRights(engine, self.privacy)
        self.followup = FollowUp(engine, store, followup)  # reminders, check-ins, the chart
        self.undelivered: set[int] = set()  # people whose last reply did not reach them whole
        # Called inside a turn when the person's progress is on a version not served here:
        # another instance may have published a newer one (`state.service.reload.Reloader.pin`).
        self.pinned: Callable[[str], Awaitable[None]] | None = None

    def use(self, engine: Engine) -> None:
        """Serve a newly loaded curriculum from the next update on (see `state.service.reload`)."""
        self.engine = engine
        self.rights.engine = engine
        self.followup.engine = engine

    async def accepted(self, user_id: int, reply: Reply, count: int) -> None:
        """Telegram accepted `count` sends of a kept reply (see `state.service.redelivery`).

        A store that fails here does not stop the reply: the person gets the rest of it now,
        and only a kill before the next record would send more than one message again.
        """
        if reply.delivery is not None:
            try:
                await self.store.replies.accepted(user_id, reply.delivery.update_id, count)
            except Exception as exc:
                log.warning("a sent message could not be recorded (%s)", type(exc).__name__)

    async def replied(self, user_id: int, reply: Reply) -> None:
        """The reply has been sent completely: a kept one is recorded done."""
        self.undelivered.discard(user_id)
        if reply.delivery is not None:
            try:
                await self.store.replies.done(user_id, reply.delivery.update_id, self.clock())
            except Exception as exc:  # handled again, the update would send its last message again
                log.warning("a sent reply could not be recorded (%s)", type(exc).__name__)

    def not_replied(self, user_id: int) -> None:
        """Sending the reply failed part-way: their next words answer no question they saw.

        So their next text or media (not words of crisis, a command or a press) is answered
        with the question they are on, shown again, and taken as an answer only after that.
        """
        self.undelivered.add(user_id)

    async def handle(self, user_id: int, message: Input, *, update_id: int = 0,
                     language: str | None = None) -> Reply | None:
        """Answer one input; None when this update was already handled and answered.

        Help in a crisis never depends on the store: when the person's saved progress cannot
        be read (a damaged row, a lost key) or the turn cannot be saved, words of crisis,
        /safety, the crisis buttons and the privacy commands are still answered, from a
        fresh progress that is never saved; when the store is slow, help in a crisis is
        answered so after `crisis_wait` seconds (see the module's text). Anything else
        raises as before.
        """
        now = self.clock()
        try:
            if self.engine.may_ask_for_help(message):
                return await self._in_time(user_id, message, update_id, language, now)
            return await self._handle(user_id, message, update_id, language, now)
        except Exception as exc:
            if not self.engine.answers_without_progress(message, language):
                raise
            log.warning("answered without the saved progress (%s)", type(exc).__name__)
            return await self._without_progress(user_id, message, language, now)

    async def _without_progress(self, user_id: int, message: Input, language: str | None,
                                now: float) -> Reply | None:
        """The answer from a fresh progress, never saved."""
        reply = self.engine.handle(self.engine.new_progress(user_id, language, now), message, now)
        return await self.rights.carry_out(user_id, reply, now)

    async def _in_time(self, user_id: int, message: Input, update_id: int, language: str | None,
                       now: float) -> Reply | None:
        """The turn, or, for help in a crisis the store holds up past `crisis_wait`, help without it."""
        turn = asyncio.ensure_future(self._handle(user_id, message, update_id, language, now))
        try:
            await asyncio.wait((turn,), timeout=self.crisis_wait)  # never cancels the turn
        except asyncio.CancelledError:  # the bot stops: the turn runs on; its reply was not sent
            self._run_on(user_id, turn, answered=False)
            raise
        if turn.done():
            return turn.result()
        if not self.engine.asks_for_help(message, language):
            return await turn  # any other turn waits as long as the store takes
        log.warning("crisis help answered without waiting for the store (over %.1f s)", self.crisis_wait)
        self._run_on(user_id, turn, answered=True)
        return await self._without_progress(user_id, message, language, now)

    def _run_on(self, user_id: int, turn: asyncio.Future[Reply | None], *, answered: bool) -> None:
        """Let a turn finish after its caller stopped waiting for it.

        `answered`: the person was answered without it, so its reply, once saved, is recorded
        as sent and never sent (a second delivery of the update stays silent too).
        """

        async def finish() -> None:
            try:
                reply = await turn
            except Exception as exc:  # nothing saved: their progress is as it was
                log.warning("a turn past its deadline was not saved (%s)", type(exc).__name__)
                return
            if answered and reply is not None:
                await self.replied(user_id, reply)
            log.info("a turn past its deadline was saved")

        task = asyncio.ensure_future(finish())
        self.behind.add(task)
        task.add_done_callback(self.behind.discard)

    async def settle(self) -> None:
        """Wait for the turns still running past their deadline, before the store closes
        (at most `SETTLE_WAIT` seconds: one the store never finishes fails as it closes)."""
        if self.behind:
            await asyncio.wait(set(self.behind), timeout=SETTLE_WAIT)

    async def _handle(self, user_id: int, message: Input, update_id: int, language: str | None,
                      now: float) -> Reply | None:
        async with self.store.session(user_id) as session:
            if session.progress is None and isinstance(message, Due):
                return None  # a reminder for someone whose data was erased: nothing to say
            progress = session.progress or self.engine.new_progress(user_id, language, now)
            if progress.version != self.engine.version and self.pinned is not None:
                await self.pinned(progress.version)  # never back to an older version than theirs
            if update_id and update_id <= progress.last_update_id:  # handled again after a kill
                return answer_again(self.engine, progress, update_id, await self.store.kept(user_id), now)
            if user_id in self.undelivered and isinstance(message, TextIn | Other) and not (
                    self.engine.answers_without_progress(message, language)):
                self.undelivered.discard(user_id)
                return self.engine.current_question(progress, now)  # not an answer to it yet
            reply = self.engine.handle(progress, message, now)
            if reply.save:
                progress.last_update_id = max(progress.last_update_id, update_id)
                await self.followup.during(session, progress, message, reply.orders, now)
                session.save(progress, reply.events)
                if update_id:  # kept until sent whole: a kill mid-reply loses none of it
                    session.keep(update_id, reply)
                    if reply.messages:  # else kept as done already
                        reply.delivery = Delivery(update_id, 0, reply.crisis)
        await self.rights.carry_out(user_id, reply, now)  # /hide, /mydata, /delete
        await self.followup.after(progress, message, reply, now)  # the /progress chart
        return reply
