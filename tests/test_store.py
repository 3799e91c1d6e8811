"""Progress in a real SQLite file: migrations, transactions, privacy of the file."""

from __future__ import annotations

import sqlite3
import stat
from importlib import resources
from pathlib import Path

import pytest

from state.contracts import Event, Progress
from state.store.progress import SqliteProgressStore
from state.store.reminders import ReminderStore


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows read from the database file with a connection of the test's own."""
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


async def test_progress_round_trips_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "private" / "bot.sqlite3"
    store = await SqliteProgressStore(path).open()
    progress = Progress(user_id=5, module="basics", step="pick", answers={"loved_one": "Ana"})
    await store.save(progress, [Event("module_started", "basics")])
    await store.close()
    store = await SqliteProgressStore(path).open()
    loaded = await store.load(5)
    assert loaded == progress
    assert query(path, "SELECT kind, module FROM events") == [("module_started", "basics")]
    assert query(path, "SELECT count(*) FROM schema_migrations")[0][0] >= 1
    await store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_a_failed_update_writes_nothing(tmp_path: Path) -> None:
    store = await SqliteProgressStore(tmp_path / "bot.sqlite3").open()
    await store.save(Progress(user_id=1, step="a"), [])
    with pytest.raises(RuntimeError):
        async with store.session(1) as session:
            assert session.progress is not None
            session.progress.step = "b"
            session.save(session.progress, [Event("x")])
            raise RuntimeError("the engine failed mid-update")
    loaded = await store.load(1)
    assert loaded is not None and loaded.step == "a"
    await store.close()


async def test_waiting_nudges_move_onto_their_people_when_the_database_is_upgraded(tmp_path: Path) -> None:
    """Migration 006: a nudge planned by an older version keeps its time and its stop."""
    path = tmp_path / "bot.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
               " applied_at TEXT NOT NULL)")
    for item in sorted(resources.files("state.store").joinpath("migrations").iterdir(), key=lambda f: f.name):
        if item.name.endswith(".sql") and int(item.name.split("_", 1)[0]) <= 5:
            for statement in item.read_text(encoding="utf-8").split(";\n"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?, '')", (int(item.name[:3]), item.name))
    db.executemany("INSERT INTO users (user_id, data, created_at, updated_at) VALUES (?, ?, 0, 0)",
                   [(1, '{"user_id": 1}'), (2, '{"user_id": 2}')])
    db.execute("INSERT INTO reminders (user_id, kind, due_at, ref, status, created_at) VALUES"
               " (1, 'nudge', 500.0, 'basics:pick', 'pending', 0), (1, 'nudge', 90.0, 'basics:a', 'sent', 0),"
               " (2, 'homework', 700.0, 'hw', 'pending', 0)")
    db.close()
    store = await SqliteProgressStore(path).open()
    reminders = ReminderStore(store)
    assert await reminders.planned_nudge(1) == (500.0, "basics:pick")
    assert await reminders.planned_nudge(2) is None
    rows = query(path, "SELECT user_id, kind, status FROM reminders ORDER BY id")
    assert rows == [(1, "nudge", "superseded"), (1, "nudge", "sent"), (2, "homework", "pending")]
    assert await reminders.release_nudges(499.0) == 0
    assert await reminders.release_nudges(500.0) == 1
    assert await reminders.planned_nudge(1) is None
    assert [(r.kind, r.due_at, r.ref) for r in await reminders.claim_due(500.0, 10)] == \
        [("nudge", 500.0, "basics:pick")]
    await store.close()
