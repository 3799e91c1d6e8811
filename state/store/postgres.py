"""The store on PostgreSQL: the store's jobs run through psycopg 3, connections from a psycopg_pool.

Only imported when `storage.url` names a PostgreSQL database (psycopg is the optional
`postgres` extra). The jobs are the same functions as on SQLite (`state.store.dialect`):
`PgConnection` gives them the `sqlite3.Connection` surface they use, rewriting `?` and
`?N` placeholders into psycopg's `%s` and `%(pN)s` once per statement text (cached), and
`BEGIN IMMEDIATE` into `BEGIN`. The connection runs in autocommit mode, so the jobs' own
BEGIN and COMMIT make the transactions, as on SQLite.

When the writer's connection is lost (the server restarted, failed over, or is down), the
job that found it fails, and the next one connects afresh (`PgOpener.open`): it tries for
`RECONNECT_WAIT` seconds, enough for a restart or a brief network blip, and then says in
the log that the database cannot be reached. From then on each job tries once and fails at
once while the server refuses connections, so turns end in the kind error reply rather
than each waiting its turn on the writer (docs/operations.md); the first connection that
succeeds ends that, and the log says so. It connects directly, not through the pool,
whose retries back off to minutes apart after a long outage.

As on SQLite, one connection per process carries the store's transactions, on a thread of
its own (`state.store.connection.Writer`): a turn is still two hops, and transactions in
one process are one at a time. Other processes (instances) have their own: PostgreSQL's
row locks keep them apart (a turn reads its person's row `FOR UPDATE`; reminder claims
skip rows locked by another instance). `Locks` holds session advisory locks (one poller
per database) on a connection of their own, and `try_lock` takes transaction-level ones
(the daily rounds: run by one instance at a time).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from state.store.dialect import POSTGRES, Connection, Dialect, StoreUnavailable, lock_key, redacted

__all__ = ["Locks", "PgConnection", "PgOpener", "translate"]

log = logging.getLogger("craftbot.store")
# Seconds the writer keeps trying to connect again after its connection was lost, and the
# pool waits for a connection: a PostgreSQL restart or failover takes a few seconds, and a
# person waiting longer for a reply is better told something went wrong (docs/operations.md).
RECONNECT_WAIT = 5.0
RETRY_EVERY = 0.25  # seconds between those tries (a refused connection fails in microseconds)

# a string literal (left as it is), or a placeholder: `?` or `?N`
TOKEN = re.compile(r"'(?:[^']|'')*'|\?(\d*)")
WRITES = ("INSERT", "UPDATE", "DELETE")


@lru_cache(maxsize=512)
def translate(sql: str) -> tuple[str, bool]:
    """A statement in psycopg's placeholders, and whether its values are numbered (`?1`)."""
    if sql.strip().upper() == "BEGIN IMMEDIATE":
        return "BEGIN", False
    if sql.lstrip().upper().startswith("PRAGMA"):
        raise ValueError("a PRAGMA is SQLite's own: the job must ask its dialect")
    kinds: set[bool] = set()

    def swap(match: re.Match[str]) -> str:
        text = match.group(0)
        if text.startswith("'"):
            return text
        kinds.add(bool(match.group(1)))
        return f"%(p{match.group(1)})s" if match.group(1) else "%s"

    out = TOKEN.sub(swap, sql.replace("%", "%%"))
    if len(kinds) > 1:
        raise ValueError("a statement uses `?` and `?N` both")
    return out, kinds == {True}


def bind(values: Any, numbered: bool) -> Any:
    """Values as psycopg takes them for a translated statement."""
    if numbered and not isinstance(values, dict):
        return {f"p{i}": value for i, value in enumerate(values, start=1)}
    return values


class PgConnection:
    """A psycopg connection with the surface of `sqlite3.Connection` that the store's jobs use."""

    dialect: Dialect = POSTGRES

    def __init__(self, conn: psycopg.Connection[Any], *, pooled: bool = True) -> None:
        conn.autocommit = True  # the jobs' BEGIN ... COMMIT make the transactions
        self.conn = conn
        self.pooled = pooled  # from the pool (handed back to it), or connected directly (closed)
        self._changes = 0

    @property
    def total_changes(self) -> int:
        """Rows inserted, updated or deleted through this connection."""
        return self._changes

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (or failed and not yet rolled back)."""
        return self.conn.info.transaction_status != TransactionStatus.IDLE

    @property
    def broken(self) -> bool:
        """Whether the connection is lost (the server restarted, the network failed)."""
        return self.conn.closed or self.conn.broken

    def execute(self, sql: str, parameters: Any = (), /) -> psycopg.Cursor[Any]:
        """Run one statement written with `?` placeholders."""
        query, numbered = translate(sql)
        cursor = self.conn.execute(query, bind(parameters, numbered))
        if cursor.rowcount > 0 and sql.lstrip()[:6].upper() in WRITES:
            self._changes += cursor.rowcount
        return cursor

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def executemany(self, sql: str, parameters: Any, /) -> psycopg.Cursor[Any]:
        """Run one statement for each set of values (pipelined by psycopg)."""
        query, numbered = translate(sql)
        cursor = self.conn.cursor()
        rows = [bind(values, numbered) for values in parameters]
        if rows:
            cursor.executemany(query, rows)
            self._changes += max(cursor.rowcount, 0)
        return cursor


def pool(url: str, size: int = 3, name: str = "craftbot") -> ConnectionPool[psycopg.Connection[Any]]:
    """A small pool: the writer's connection, the advisory-lock holder's, and one spare.

    `check` tests a connection before it is handed out, so one the server dropped while it
    sat in the pool is replaced rather than failing the next job.
    """
    return ConnectionPool(url, min_size=1, max_size=size, name=name, open=True, timeout=RECONNECT_WAIT,
                          check=ConnectionPool.check_connection,
                          kwargs={"autocommit": True, "application_name": name})


class PgOpener:
    """How the writer's thread gets its connection: from the pool, and a fresh one after a loss."""

    def __init__(self, url: str, name: str = "craftbot") -> None:
        self.url = url
        self.name = name
        self.down_since: float | None = None  # monotonic seconds: the server could not be reached
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._guard = threading.Lock()

    @property
    def pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        """The pool, opened on first use."""
        with self._guard:
            if self._pool is None:
                self._pool = pool(self.url, name=self.name)
            return self._pool

    def open(self) -> Connection:
        """A connection for the writer's thread; StoreUnavailable when the server is not there
        (at once the first time, and while it is known to be down; see the module's text)."""
        if self._pool is None:  # the first: a direct try says why at once (the pool would retry)
            try:
                psycopg.connect(self.url, connect_timeout=10).close()
            except psycopg.Error as exc:
                raise StoreUnavailable(f"{redacted(self.url)}: cannot connect: {_why(exc)}") from None
            return PgConnection(self.pool.getconn())
        return PgConnection(self._reconnect(), pooled=False)

    def _reconnect(self) -> psycopg.Connection[Any]:
        """A new connection after a loss: tried for RECONNECT_WAIT seconds, or once while down."""
        give_up = time.monotonic() + (0.0 if self.down_since is not None else RECONNECT_WAIT)
        while True:
            try:
                conn = psycopg.connect(self.url, connect_timeout=int(RECONNECT_WAIT), autocommit=True,
                                       application_name=self.name)
            except psycopg.Error as exc:
                if time.monotonic() + RETRY_EVERY < give_up:
                    time.sleep(RETRY_EVERY)  # the writer's own thread: nothing else waits on it
                    continue
                if self.down_since is None:
                    self.down_since = time.monotonic()
                    log.error("the database cannot be reached (%s); tried for %.0f s. Turns fail at once"
                              " until it is back; crisis help is answered without it", _why(exc),
                              RECONNECT_WAIT)
                raise StoreUnavailable(f"{redacted(self.url)}: cannot connect: {_why(exc)}") from None
            if self.down_since is not None:
                log.warning("the database is reachable again, after %.0f s",
                            time.monotonic() - self.down_since)
                self.down_since = None
            return conn

    def recover(self, db: Connection) -> Connection | None:
        """After a failed job: the same connection if it still works, else None (lost)."""
        assert isinstance(db, PgConnection)
        if not db.broken:
            return db
        self._release(db)
        return None

    def close(self, db: Connection | None) -> None:
        """Hand the connection back and close the pool."""
        if db is not None:
            assert isinstance(db, PgConnection)
            self._release(db)
        self.close_pool()

    def _release(self, db: PgConnection) -> None:
        """Hand a connection back to the pool, or close one connected directly."""
        if not db.pooled:
            db.close()
        elif self._pool is not None:
            self._pool.putconn(db.conn)

    def close_pool(self) -> None:
        """Close the pool and every connection in it."""
        with self._guard:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


def _why(exc: psycopg.Error) -> str:
    """psycopg's message on one line (it holds no password)."""
    return " ".join(str(exc).split())


def read_only(url: str) -> PgConnection:
    """A connection of its own for reports, in a read-only session (it can change nothing)."""
    conn = psycopg.connect(url, autocommit=True, application_name="craftbot-reports",
                           options="-c default_transaction_read_only=on")
    return PgConnection(conn)


class Locks:
    """Session advisory locks held for as long as the process wants them, on a connection of their own."""

    def __init__(self, opener: PgOpener) -> None:
        self.opener = opener
        self._conn: psycopg.Connection[Any] | None = None
        self._held: set[str] = set()
        self._guard = threading.Lock()

    def hold(self, name: str, *, shared: bool = False) -> bool:
        """Take the lock `name` if no other session holds it (`shared`: if none holds it exclusively,
        as webhook instances hold "poller" together); True when this process holds it now."""
        with self._guard:
            if name in self._held:
                return True
            if self._conn is None:
                self._conn = self.opener.pool.getconn()
            take = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
            row = self._conn.execute(f"SELECT {take}(%s)", (lock_key(name),)).fetchone()
            if row is not None and row[0]:
                self._held.add(name)
                return True
            return False

    def release_all(self) -> None:
        """Let every lock go (the connection goes back to the pool, its session's locks dropped)."""
        with self._guard:
            conn, self._conn = self._conn, None
            if conn is not None:
                if self._held and not conn.closed:
                    conn.execute("SELECT pg_advisory_unlock_all()")
                self._held.clear()
                self.opener.pool.putconn(conn)


class LockHeld(RuntimeError):
    """Another process holds the advisory lock asked for."""


HELD: list[Locks] = []  # locks held for the life of the process (as bot/ops/instance.py's file lock)


def hold_for_process(url: str, name: str, *, shared: bool = False) -> None:
    """Hold the advisory lock `name` on this database until the process ends; LockHeld if another has it
    (`shared`: held alongside others that hold it shared, refused while one holds it alone)."""
    locks = Locks(PgOpener(url))
    if not locks.hold(name, shared=shared):
        locks.release_all()
        locks.opener.close_pool()
        raise LockHeld(name)
    HELD.append(locks)
