"""Carrying out the privacy orders of an answer: /hide, /mydata and /delete.

The engine decides (`state.engine.data_rights`); this does what needs the database, once
the turn's transaction is over: the ids of recent messages to delete, the export, the
erasure.
"""

from __future__ import annotations

from state.contracts import EraseData, ExportData, HideRecent, Reply
from state.engine import data_rights
from state.engine.engine import Engine
from state.store.privacy import PrivacyData


class DataRights:
    """Does what /hide, /mydata and /delete asked for."""

    def __init__(self, engine: Engine, privacy: PrivacyData) -> None:
        self.engine = engine  # replaced by `Conversations.use` when the curriculum is reloaded
        self.privacy = privacy

    async def carry_out(self, user_id: int, reply: Reply, now: float) -> Reply:
        """The reply with its privacy orders done: messages to delete, a file, or nothing kept."""
        for order in reply.orders:
            if isinstance(order, HideRecent):
                reply.delete = await self.privacy.take_recent(user_id, now)
            elif isinstance(order, ExportData):
                found = await self.privacy.export(user_id)
                content = self.engine.curriculum.content(order.locale)
                exported = data_rights.exported(content, found, now)
                reply.messages = [*reply.messages, *exported.messages]
                reply.documents = [*reply.documents, *exported.documents]
            elif isinstance(order, EraseData):
                await self.privacy.erase(user_id)
        return reply
