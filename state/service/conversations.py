"""The conversation service: load a user's progress, let the engine answer, save, in order.

This is the one place where an input becomes a saved reply. Telegram and the terminal
chat both call `Conversations.handle`; a repeated update (same id, as after a crash) is
recognised here, inside the same transaction that saved it the first time. The engine
decides who answers (`state.engine.engine`); the service carries out what the answer
orders: reminder orders inside the transaction, privacy orders after it.
"""

from __future__ import annotations

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


class Conversations:
    """Serves inputs from many users against one engine and one store."""

    def __init__(self, engine: Engine, store: ProgressStore, clock: Clock = time.time,
                 followup: FollowUpOptions | None = None) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
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
        fresh progress that is never saved. Anything else raises as before.
        """
        now = self.clock()
        try:
            return await self._handle(user_id, message, update_id, language, now)
        except Exception as exc:
            if not self.engine.answers_without_progress(message, language):
                raise
            log.warning("answered without the saved progress (%s)", type(exc).__name__)
            reply = self.engine.handle(self.engine.new_progress(user_id, language, now), message, now)
            return await self.rights.carry_out(user_id, reply, now)

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
