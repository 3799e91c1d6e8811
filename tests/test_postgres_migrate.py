"""`craftbot migrate`: a SQLite deployment moved into PostgreSQL, run as an operator runs it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import state.store.transfer as transfer_module
from state.contracts import CheckinRecord, Event, Progress
from state.store.crypto import KEY_ENV, DataCipher, new_key
from state.store.progress import ProgressStore
from tests.kit.cli import craftbot
from tests.kit.postgres import query

PEOPLE = 5


async def a_sqlite_deployment(path: Path, key: str) -> dict[int, Progress]:
    store = await ProgressStore(path, DataCipher([key])).open()
    kept = {}
    for user_id in range(1, PEOPLE + 1):
        progress = Progress(user_id=user_id, module="basics", step="pick",
                            answers={"loved_one": f"Quixotic-{user_id}"}, updated_at=1000.0 + user_id)
        async with store.session(user_id) as session:
            await store.reminders.plan(user_id, "checkin", 5000.0 + user_id, 1.0)
            record = CheckinRecord(10.0, "2026-01-05", 7, user_id, 2, 1, "ok")
            await store.reminders.add_checkin(user_id, record)
            session.save(progress, [Event("crisis", "basics", "pick", detail="safe")])
        kept[user_id] = progress
    await store.privacy.erase(PEOPLE)  # someone who left before the move
    del kept[PEOPLE]
    await store.curricula.record("v1", {("en", "basics", "pick"): "aa"})
    await store.close()
    return kept


def env_with(key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRAFTBOT_")}
    env[KEY_ENV] = key
    return env


async def test_a_deployment_moves_to_postgresql_verified_and_keeps_working(
        tmp_path: Path, pg_url: str, pg_keys_url: str) -> None:
    key = new_key()
    database = tmp_path / "data" / "bot.sqlite3"
    kept = await a_sqlite_deployment(database, key)

    moved = craftbot("migrate", "--from", f"sqlite:///{database}", "--to", pg_url, "--to-keys", pg_keys_url,
                     env=env_with(key))
    assert moved.returncode == 0, moved.stderr
    assert "users: 4 -> 4" in moved.stdout and "person keys: 4 -> 4" in moved.stdout
    assert "sealed values opened: 12 -> 12" in moved.stdout  # progress, check-ins, event details
    assert "verified" in moved.stdout

    store = await ProgressStore(pg_url, DataCipher([key]), keys_url=pg_keys_url).open()
    for user_id, progress in kept.items():
        assert await store.load(user_id) == progress
        assert [c.stress for c in await store.reminders.checkins(user_id, 0.0)] == [user_id]
    assert await store.load(PEOPLE) is None
    async with store.session(1) as session:  # new rows get new ids after the copied ones
        await store.reminders.add_checkin(1, CheckinRecord(20.0, "2026-01-06", 7, 9, 2, 1, None))
        assert session.progress is not None
        session.save(session.progress, [Event("module_started", "basics")])
    assert await store.reminders.count_by_status() == {"pending": 4}
    assert set(await store.curricula.recorded()) == {"v1"}
    await store.close()
    assert not query(pg_url, "SELECT 1 FROM users WHERE data LIKE '%Quixotic%'")  # sealed, as before

    again = craftbot("migrate", "--from", f"sqlite:///{database}", "--to", pg_url, "--to-keys", pg_keys_url,
                     env=env_with(key))
    assert again.returncode == 2 and "already holds people" in again.stderr


async def test_migrate_says_what_it_needs(tmp_path: Path) -> None:
    done = craftbot("migrate", "--from", f"sqlite:///{tmp_path}/missing.sqlite3", "--to", "postgresql://x@h/db",
                    env=env_with(new_key()))
    assert done.returncode == 2 and "no such database" in done.stderr
    done = craftbot("migrate", "--to", "sqlite:///elsewhere.sqlite3", env=env_with(new_key()))
    assert done.returncode == 2 and "into PostgreSQL" in done.stderr


def test_a_database_that_is_not_there_or_a_key_without_a_key_database_is_one_line(tmp_path: Path) -> None:
    env = env_with(new_key())
    env["CRAFTBOT_STORAGE__URL"] = "postgresql://craftbot:hunter2@127.0.0.1:9/craftbot"  # nobody listens
    done = craftbot("purge", "--dry-run", env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "cannot connect" in done.stderr and "hunter2" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    done = craftbot("keys", "status", env=env, cwd=tmp_path)
    assert done.returncode == 2 and "storage.keys_url" in done.stderr


async def test_a_move_reads_and_writes_a_page_at_a_time_and_misses_no_row(
        tmp_path: Path, pg_url: str, pg_keys_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transfer_module, "BATCH", 2)  # pages of two rows: every table spans several
    key = new_key()
    kept = await a_sqlite_deployment(tmp_path / "bot.sqlite3", key)
    source = await ProgressStore(tmp_path / "bot.sqlite3", DataCipher([key])).open()
    target = await ProgressStore(pg_url, DataCipher([key]), keys_url=pg_keys_url).open()
    copied = await transfer_module.transfer(source, target)
    before, after = await transfer_module.tally(source), await transfer_module.tally(target)
    assert before == after and copied == before.rows and copied["users"] == len(kept)
    assert after.opened == 3 * len(kept) and after.unreadable == 0
    await source.close()
    await target.close()
