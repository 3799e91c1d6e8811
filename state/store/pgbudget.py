"""One outgoing budget per bot for every instance on one PostgreSQL database (migration 011).

Telegram counts a bot's messages per token, whichever process sends them, so instances that
each keep their own pace send N times too much together. `PgRate` keeps the pace in one row
of `outbox_budget`: a token bucket (`rate` a second, `capacity` at once) that each grant
takes from with one statement (`outbox_take`, one round trip, the row locked for its
instant), and a `hold_until` that a 429 for the whole bot, met by any instance, sets for all.
The priorities are the caller's (`bot.ptb.outbox.Budget`): each call says how many tokens
must stay in the bucket for more urgent messages (its `reserve`).

The row is keyed by a hash of the token (`bot_key`), never the token. Times come from the
instance's clock (`state.service.clock`, handed in): the same clock the rest of the bot reads, so tests
move it, and NTP keeps instances within milliseconds of each other. The bucket's time only
moves forward; a clock more than `TOLERANCE` seconds behind it is believed rather than
waited for, so one wrong clock cannot stop everyone else's messages (see the migration).

Why PostgreSQL and not Redis: the instances already share it, so nothing new to run, secure
and back up, and the load is tiny (about 30 grants a second at Telegram's limit, fewer with
batching). Its own connection, apart from the store's writer: a grant never waits behind a
person's turn. `lock_timeout` and `statement_timeout` bound a grant on the server side too,
since the caller gives up after a fraction of a second (`bot.ptb.pace`). Its commits do not
wait for the disk (`synchronous_commit=off`): a grant lost in a server crash gives a few
tokens back, nothing more, and a grant takes 0.4 ms instead of 4 (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from typing import Any

import psycopg

from state.storage import Grant

__all__ = ["PgRate", "bot_key"]

TOLERANCE = 2.0  # seconds an instance's clock may lag the bucket's time before it is believed
SESSION = ("-c lock_timeout=1000 -c statement_timeout=2000"  # milliseconds, per grant
           " -c synchronous_commit=off")  # a grant lost in a server crash costs nothing: no fsync wait
ENSURE = ("INSERT INTO outbox_budget (bot, tokens, updated_at) VALUES (%(bot)s, %(capacity)s, %(now)s)"
          " ON CONFLICT (bot) DO NOTHING")
TAKE = ("SELECT taken, left_tokens, held_until, clock_behind FROM outbox_take("
        "%(bot)s, %(now)s, %(rate)s, %(capacity)s, %(want)s, %(reserve)s, %(tolerance)s)")
HOLD = ("INSERT INTO outbox_budget AS b (bot, tokens, updated_at, hold_until)"
        " VALUES (%(bot)s, 0, %(now)s, %(until)s)"
        " ON CONFLICT (bot) DO UPDATE SET hold_until = greatest(b.hold_until, EXCLUDED.hold_until)")


def bot_key(token: str) -> str:
    """The bucket's key for a bot token: a hash of it (the token itself is never stored)."""
    return hashlib.sha256(f"craftbot-outbox:{token}".encode()).hexdigest()[:32]


class PgRate:
    """The shared bucket of one bot (`state.storage.SharedRate`), on a connection of its own."""

    def __init__(self, url: str, bot: str, rate: float, capacity: float, clock: Callable[[], float]) -> None:
        self.url = url
        self.bot = bot
        self.rate = rate
        self.capacity = capacity
        self.clock = clock
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._ready = False  # the bucket's row is known to exist
        self._lock = asyncio.Lock()  # one statement at a time on the connection

    async def take(self, want: int, reserve: float) -> Grant:
        """Take up to `want` tokens, leaving `reserve` (see `state.storage.SharedRate`)."""
        now = self.clock()
        values = {"bot": self.bot, "now": now, "rate": self.rate, "capacity": self.capacity,
                  "want": want, "reserve": reserve, "tolerance": TOLERANCE}
        row = await self._run(TAKE, values, ensure=True)
        if row is None:  # the row went missing (dropped by hand): made again at the next take
            self._ready = False
            return Grant(0, 0.0, 0.0)
        granted, tokens, hold_until, behind = row
        return Grant(int(granted), float(tokens), max(0.0, float(hold_until) - now), bool(behind))

    async def hold(self, seconds: float) -> None:
        """Hold every instance for `seconds` (a later hold already there is kept)."""
        now = self.clock()
        await self._run(HOLD, {"bot": self.bot, "now": now, "until": now + seconds})

    async def close(self) -> None:
        """Close the connection."""
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()

    async def _run(self, sql: str, values: dict[str, Any], *, ensure: bool = False) -> Any:
        """One statement (after making the row, once); a failed or abandoned connection is closed."""
        async with self._lock:
            conn = self._conn
            try:
                if conn is None:
                    conn = self._conn = await psycopg.AsyncConnection.connect(
                        self.url, autocommit=True, connect_timeout=5, application_name="craftbot-outbox",
                        options=SESSION)
                if ensure and not self._ready:
                    await conn.execute(ENSURE, {**values, "now": self.clock()})
                    self._ready = True
                cursor = await conn.execute(sql, values)
                return await cursor.fetchone() if cursor.description else None
            except BaseException:  # an error, or the caller gave up (a timeout): start afresh
                self._conn = None
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
                raise
