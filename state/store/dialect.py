"""Where the store keeps its data, and the little SQL that differs between SQLite and PostgreSQL.

The store's jobs (`state.store.progress`, `.reminders`, `.privacy` ...) are plain functions of
a DB-API connection (`Connection`), written in the SQL both engines speak: `?` placeholders
(`?1` when one value is used twice), `INSERT ... ON CONFLICT`, `RETURNING`. SQLite runs them
as they are; on PostgreSQL `state.store.postgres.PgConnection` rewrites the placeholders and
runs them through psycopg. What cannot be said the same way in both lives on a `Dialect`: a
handful of clauses and queries, so no SQL string is written twice.

`Location` says which engine a setting names: a path or `sqlite:///path` is a SQLite file
(the embedded default), `postgresql://...` a PostgreSQL database.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = ["POSTGRES", "SQLITE", "Connection", "Cursor", "Dialect", "Location", "StoreUnavailable",
           "dialect_of", "lock_key", "try_lock"]


class Cursor(Protocol):
    """What the store's jobs read from a statement they ran (`sqlite3.Cursor`, or psycopg's)."""

    @property
    def rowcount(self) -> int:
        """Rows the statement changed (-1 when unknown)."""

    @property
    def description(self) -> Any:
        """The result's columns; each one's name is its first item."""

    def fetchone(self) -> Any:
        """The next row, or None."""

    def fetchall(self) -> list[Any]:
        """Every row left."""

    def __iter__(self) -> Iterator[Any]:
        """The rows, one by one."""


class Connection(Protocol):
    """The connection a store job is handed: `sqlite3.Connection`, or `PgConnection` on PostgreSQL."""

    @property
    def total_changes(self) -> int:
        """Rows changed since the connection opened."""

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        """Run one statement."""

    def executemany(self, sql: str, parameters: Any, /) -> Cursor:
        """Run one statement once for each set of values."""

    def close(self) -> None:
        """Close the connection."""


@dataclass(frozen=True)
class Dialect:
    """What one engine says differently: the clauses and queries the store's jobs take from here."""

    name: str
    # appended to the SELECT that picks rows to claim: other instances' claims are passed over
    skip_locked: str
    # appended to a turn's read of the person's row: a second instance waits for the first
    for_update: str
    # every table with a `user_id` column, by name (where data about a person can be)
    user_tables: str
    # the folder (under state.store) of this engine's numbered migrations
    migrations: str
    now_text: str  # SQL for "now" as text, for schema_migrations.applied_at
    table_names: str  # every table's name (the reports look for the tables they need)
    column_names: str  # the columns of table `?`
    locale_of_data: str  # a progress blob's locale when it is JSON in clear, else NULL (reports)

    @property
    def shared(self) -> bool:
        """Whether several processes may use the database at once (and so need leases and locks)."""
        return self.name == "postgresql"


SQLITE = Dialect(
    name="sqlite", skip_locked="", for_update="",
    user_tables=("SELECT m.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS c"
                 " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND c.name = 'user_id'"
                 " ORDER BY m.name"),
    migrations="migrations", now_text="datetime('now')",
    table_names="SELECT name FROM sqlite_master WHERE type = 'table'",
    column_names="SELECT name FROM pragma_table_info(?)",
    locale_of_data=("CASE WHEN substr(data, 1, 1) = '{' AND json_valid(data)"
                    " THEN json_extract(data, '$.locale') END"))

POSTGRES = Dialect(
    name="postgresql", skip_locked=" FOR UPDATE SKIP LOCKED", for_update=" FOR UPDATE",
    user_tables=("SELECT c.table_name FROM information_schema.columns AS c"
                 " JOIN information_schema.tables AS t"
                 " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
                 " WHERE c.table_schema = current_schema() AND c.column_name = 'user_id'"
                 " AND t.table_type = 'BASE TABLE' ORDER BY c.table_name"),
    migrations="migrations/postgresql", now_text="now()::text",
    table_names="SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
    column_names=("SELECT column_name FROM information_schema.columns"
                  " WHERE table_schema = current_schema() AND table_name = ?"),
    locale_of_data="CASE WHEN substr(data, 1, 1) = '{' THEN data::json ->> 'locale' END")


def dialect_of(db: Connection) -> Dialect:
    """The dialect of a job's connection."""
    return getattr(db, "dialect", SQLITE)


class StoreUnavailable(RuntimeError):
    """The database server cannot be reached (or refused the connection); says which, without a password."""


@dataclass(frozen=True)
class Location:
    """Where a store is: a SQLite file (`path`), or a PostgreSQL database (`url`)."""

    path: Path | None = None
    url: str | None = None

    @classmethod
    def parse(cls, where: Path | str) -> Location:
        """A path, `sqlite:///path` or `postgresql://...` (also `postgres://`) as a location."""
        if isinstance(where, Path):
            return cls(path=where)
        if where.startswith(("postgresql://", "postgres://")):
            return cls(url=where)
        if where.startswith("sqlite:///"):  # as SQLAlchemy and yoyo: four slashes for an absolute path
            return cls(path=Path(where.removeprefix("sqlite:///")))
        return cls(path=Path(where))

    @property
    def dialect(self) -> Dialect:
        """The engine's dialect."""
        return SQLITE if self.url is None else POSTGRES

    def __str__(self) -> str:
        if self.url is None:
            return str(self.path)
        return redacted(self.url)


def redacted(url: str) -> str:
    """A database URL without its password (for logs and messages)."""
    head, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{head}{sep}{user}:***@{host}" if ":" in credentials else url



def lock_key(name: str) -> int:
    """The advisory-lock number for a name (stable across processes and versions)."""
    return zlib.crc32(f"craftbot:{name}".encode()) | (0x6372 << 32)


def try_lock(db: Connection, name: str) -> bool:
    """Take an advisory lock held until this transaction ends; False when another session holds it.

    On SQLite always True: one process writes (bot/ops/instance.py), and BEGIN IMMEDIATE
    already keeps transactions one at a time.
    """
    if not dialect_of(db).shared:
        return True
    row = db.execute("SELECT pg_try_advisory_xact_lock(?)", (lock_key(name),)).fetchone()
    return bool(row[0])
