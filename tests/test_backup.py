"""`craftbot backup`: a consistent, private copy while the bot's store is open; journals made private."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from state.contracts import Progress
from state.store.progress import SqliteProgressStore
from tests.kit.cli import craftbot


def config_for(tmp_path: Path, database: Path) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  database: {database}\n", encoding="utf-8")
    return config


async def test_a_backup_while_the_store_is_open_is_whole_and_private(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bot.sqlite3"
    store = await SqliteProgressStore(database).open()
    try:
        for user_id in range(1, 51):
            await store.save(Progress(user_id=user_id, answers={"loved_one": "Sam"}), [])
        target = tmp_path / "backups" / "copy.sqlite3"
        done = craftbot("backup", str(target), "--config", config_for(tmp_path, database), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "backup written" in done.stdout
        await store.save(Progress(user_id=99), [])  # the bot went on writing meanwhile
    finally:
        await store.close()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM users").fetchone()[0] == 50
    copy.close()
    again = craftbot("backup", str(target), "--config", config_for(tmp_path, database), cwd=tmp_path)
    assert again.returncode == 1 and "exists" in again.stderr  # never written over


async def test_journals_left_readable_are_made_private_at_open(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    store = await SqliteProgressStore(database).open()
    await store.close()
    for suffix in ("-wal", "-shm"):  # as a `cp` under umask 022 would leave them
        os.close(os.open(f"{database}{suffix}", os.O_CREAT | os.O_WRONLY, 0o644))
        os.chmod(f"{database}{suffix}", 0o644)
    store = await SqliteProgressStore(database).open()
    try:
        for suffix in ("", "-wal", "-shm"):
            assert stat.S_IMODE(os.stat(f"{database}{suffix}").st_mode) == 0o600, suffix
    finally:
        await store.close()
