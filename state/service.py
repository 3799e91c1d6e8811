"""The conversation service: load a user's progress, let the engine answer, save, in order.

This is the one place where an input becomes a saved reply. Telegram and the terminal
chat both call `Conversations.handle`; a repeated update (same id, as after a crash) is
recognised here, inside the same transaction that saved it the first time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from state.datarights import DataRights
from state.engine import Engine
from state.privacy import PrivacyData
from state.progress import Input, Reply
from state.store import SqliteProgressStore

Clock = Callable[[], float]


class Conversations:
    """Serves inputs from many users against one engine and one store."""

    def __init__(self, engine: Engine, store: SqliteProgressStore, clock: Clock = time.time) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self.privacy = PrivacyData(store)
        self.rights = DataRights(engine, store, self.privacy)

    async def handle(self, user_id: int, message: Input, *, update_id: int = 0,
                     language: str | None = None) -> Reply | None:
        """Answer one input; None when this update was already handled."""
        now = self.clock()
        if self.rights.wants(message):  # /hide, /mydata, /delete: before the engine, at any step
            return await self.rights.handle(user_id, message, now, language)
        async with self.store.session(user_id) as session:
            progress = session.progress or self.engine.new_progress(user_id, language, now)
            if update_id and update_id <= progress.last_update_id:
                return None
            reply = self.engine.handle(progress, message, now)
            progress.last_update_id = max(progress.last_update_id, update_id)
            session.save(progress, reply.events)
        return reply
