"""Hearing curriculum publications on PostgreSQL: `LISTEN craftbot_curriculum` (psycopg's async API).

Only imported when the store is PostgreSQL (psycopg is the optional `postgres` extra). The
NOTIFY is sent by `state.store.published.publish` in the transaction that records a
publication; `state.service.reload` listens here and polls the table as well.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg

from state.store.published import CHANNEL

__all__ = ["Listener"]


class Listener:
    """Hears `NOTIFY craftbot_curriculum` on PostgreSQL, on an async connection of its own.

    `heard()` yields each announced version as it comes. A lost connection ends the
    iteration with the error; the caller polls meanwhile and listens again later.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.listening = asyncio.Event()  # set while LISTEN is in place (tests wait for it)

    async def heard(self) -> AsyncIterator[str]:
        """Announced versions, one by one, until the connection is lost or the task is cancelled."""
        conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True,
                                                     application_name="craftbot-publish", connect_timeout=10)
        try:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            async for note in conn.notifies():
                yield note.payload
        finally:
            self.listening.clear()
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.close())
