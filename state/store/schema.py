"""How the store's connections are set up, and the numbered SQL migrations that build its schema.

Both run as the first job on the writer's thread (see `state.store.connection`). Each file in
the dialect's folder (`migrations/` for SQLite, `migrations/postgresql/` for PostgreSQL, the
same numbers in both: `NNN_name.sql`) runs once, in its own transaction, and is recorded in
`schema_migrations`. On PostgreSQL each migration first takes an advisory lock, so instances
starting together apply it once: the others wait, then find it recorded.
"""

from __future__ import annotations

from importlib import resources

from state.store.dialect import Connection, dialect_of, lock_key

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


def prepare(db: Connection) -> None:
    """Set the connection's pragmas (SQLite) and bring the schema up to date."""
    if not dialect_of(db).shared:
        for pragma in PRAGMAS:
            db.execute(pragma).fetchall()
    migrate(db)


def migrations(folder: str) -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of each migration in a folder under `state.store`, in order."""
    found = []
    for item in resources.files("state.store").joinpath(folder).iterdir():
        if item.name.endswith(".sql"):
            found.append((int(item.name.split("_", 1)[0]), item.name, item.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(db: Connection) -> None:
    """Apply every migration not yet recorded, in order of its number."""
    dialect = dialect_of(db)
    db.execute("BEGIN IMMEDIATE")
    if dialect.shared:  # two instances starting together must not both create the table
        db.execute("SELECT pg_advisory_xact_lock(?)", (lock_key("migrations"),)).fetchall()
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations"
               " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    db.execute("COMMIT")
    done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
    for version, name, sql in migrations(dialect.migrations):
        if version in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            if dialect.shared:  # another instance may be applying it: wait, then look again
                db.execute("SELECT pg_advisory_xact_lock(?)", (lock_key("migrations"),)).fetchall()
                if db.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)).fetchone():
                    db.execute("COMMIT")
                    continue
            for statement in sql.split(";\n"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"INSERT INTO schema_migrations VALUES (?, ?, {dialect.now_text})", (version, name))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
