"""Progress in a real SQLite file: migrations, transactions, privacy of the file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from state.progress import Event, Progress
from state.store import SqliteProgressStore


async def test_progress_round_trips_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "private" / "bot.sqlite3"
    store = await SqliteProgressStore(path).open()
    progress = Progress(user_id=5, module="basics", step="pick", answers={"loved_one": "Ana"})
    await store.save(progress, [Event("module_started", "basics")])
    await store.close()
    store = await SqliteProgressStore(path).open()
    loaded = await store.load(5)
    assert loaded == progress
    async with store.db.execute("SELECT kind, module FROM events") as cursor:
        assert await cursor.fetchall() == [("module_started", "basics")]
    async with store.db.execute("SELECT count(*) FROM schema_migrations") as cursor:
        assert (await cursor.fetchone())[0] >= 1  # type: ignore[index]
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
