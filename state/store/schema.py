"""How the store's connections are set up, and the numbered SQL migrations that build its schema.

Both run as the first job on the writer's thread (see `state.store.connection`). Each file in
`migrations/` (`NNN_name.sql`) runs once, in its own transaction, and is recorded in
`schema_migrations`.
"""

from __future__ import annotations

import sqlite3
from importlib import resources

MIGRATIONS = "migrations"
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA secure_delete=ON",  # erased rows are overwritten, not just unlinked
    "PRAGMA busy_timeout=5000",  # waits on the writer's thread, never on the event loop's
    "PRAGMA wal_autocheckpoint=0",  # the checkpointer's thread does it (state.store.checkpoint)
    "PRAGMA journal_size_limit=67108864",  # a restarted WAL shrinks to 64 MB
)
# The event loop's own connection (state.store.inline): the same, but it never waits for a
# lock (SQLITE_BUSY at once sends the turn to the writer's thread, which waits instead).
INLINE_PRAGMAS = (*(p for p in PRAGMAS if "busy_timeout" not in p), "PRAGMA busy_timeout=0")


def prepare(db: sqlite3.Connection) -> None:
    """Set the connection's pragmas and bring the schema up to date."""
    for pragma in PRAGMAS:
        db.execute(pragma).fetchall()
    migrate(db)


def migrate(db: sqlite3.Connection) -> None:
    """Apply every migration not yet recorded, in order of its number."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations"
               " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
    folder = resources.files("state.store").joinpath(MIGRATIONS)
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        if not item.name.endswith(".sql"):
            continue
        version = int(item.name.split("_", 1)[0])
        if version in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in item.read_text(encoding="utf-8").split(";\n"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))",
                       (version, item.name))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
