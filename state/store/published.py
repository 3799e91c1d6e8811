"""Which curriculum version is published, for every instance on one database to serve.

A publication is a row of `curriculum_published` (migration 010): the version (the
curriculum's content hash), when, by which instance (`Database.owner`) and how (`reload`,
`hangup`, `start`). The newest row is the published version; `seq` orders them, so an
instance can tell whether a version it meets (on a person's progress) was published after
the one it serves. On PostgreSQL the row's transaction also sends `NOTIFY craftbot_curriculum`
with the version, and `state.store.pglisten.Listener` hears it on a connection of its own;
`state.service.reload` decides what to do with either.
"""

from __future__ import annotations

from dataclasses import dataclass

from state.store.core import Database
from state.store.dialect import Connection, dialect_of

CHANNEL = "craftbot_curriculum"


@dataclass(frozen=True)
class Publication:
    """One publication: its place in the order, the version, when, by whom and how."""

    seq: int
    version: str
    published_at: float
    instance: str
    how: str


COLUMNS = "seq, version, published_at, instance, how"


def publish(db: Connection, version: str, now: float, instance: str, how: str) -> Publication:
    """Record `version` as published (and announce it on PostgreSQL when this commits)."""
    row = db.execute(f"INSERT INTO curriculum_published (version, published_at, instance, how)"
                     f" VALUES (?, ?, ?, ?) RETURNING {COLUMNS}", (version, now, instance, how)).fetchone()
    if dialect_of(db).shared:  # NOTIFY is transactional: the others hear it once the row is there
        db.execute("SELECT pg_notify(?, ?)", (CHANNEL, version))
    return Publication(*row)


def latest(db: Connection) -> Publication | None:
    """The published version's row, or None before anything was published."""
    row = db.execute(f"SELECT {COLUMNS} FROM curriculum_published ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else Publication(*row)


def order(db: Connection) -> dict[str, int]:
    """Each version ever published, with the seq of its latest publication."""
    return {version: int(seq) for version, seq in db.execute(
        "SELECT version, max(seq) FROM curriculum_published GROUP BY version")}


class Publications:
    """Publications on one open store (`Database.read` between transactions, `run` inside one)."""

    def __init__(self, store: Database) -> None:
        self.store = store

    async def publish(self, version: str, now: float, how: str) -> Publication:
        """Record `version` as published by this instance, in a transaction of its own."""
        owner = self.store.owner
        return await self.store.write(lambda db: publish(db, version, now, owner, how))

    async def latest(self, *, inside: bool = False) -> Publication | None:
        """The published version; `inside` a transaction this task holds (a turn's)."""
        return await (self.store.run(latest) if inside else self.store.read(latest))

    async def order(self, *, inside: bool = False) -> dict[str, int]:
        """Each published version's latest seq; `inside` as for `latest`."""
        return await (self.store.run(order) if inside else self.store.read(order))
