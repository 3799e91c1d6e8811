"""One `craftbot run` per database: a second one on the same database refuses at start.

Two real processes against the fake Bot API server: the first runs, the second is told in
one line that another bot is using the database and exits with 2. A lock dies with its
process, however it ends, so a bot killed outright leaves nothing in the next one's way.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ops.instance import lock_path
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import BotProcess
from tests.kit.curricula import REPO


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


def second_run(bot: BotProcess, server: FakeBotApi) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRAFTBOT_TELEGRAM_TOKEN": server.token}
    return subprocess.run([sys.executable, "-m", "bot.cli", "run", "--config", str(bot.config)],
                          cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.e2e
def test_a_second_bot_on_the_same_database_refuses_to_start(server: FakeBotApi, tmp_path: Path) -> None:
    first = BotProcess(server, tmp_path).start()
    try:
        done = second_run(first, server)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "another craftbot run" in lines[0] and str(first.database) in lines[0]
        assert first.proc is not None and f"(process {first.proc.pid})" in lines[0]
        assert first.alive  # the first one is untouched
        lock = lock_path(first.database)
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    finally:
        assert first.stop() == 0


@pytest.mark.e2e
def test_a_killed_bot_leaves_no_lock_behind(server: FakeBotApi, tmp_path: Path) -> None:
    first = BotProcess(server, tmp_path).start()
    first.stop(signal.SIGKILL)
    again = BotProcess(server, tmp_path).start()  # same config, same database
    assert again.alive
    assert again.stop() == 0


def test_the_lock_is_per_database(tmp_path: Path) -> None:
    """Two databases, two locks: both taken; the same one twice: refused (in two processes)."""
    script = ("import sys, time; from pathlib import Path; from bot.ops.instance import hold_instance_lock;"
              " hold_instance_lock(Path(sys.argv[1])); print('held', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "a.sqlite3")], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        probe = ("import sys; from pathlib import Path; from bot.ops.instance import AlreadyRunning,"
                 " hold_instance_lock\ntry:\n    hold_instance_lock(Path(sys.argv[1]))\n"
                 "except AlreadyRunning as exc:\n    print(exc); sys.exit(2)\n")
        same = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "a.sqlite3")], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        other = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "b.sqlite3")], cwd=REPO,
                               capture_output=True, text=True, timeout=60)
        assert same.returncode == 2 and f"(process {holder.pid})" in same.stdout
        assert other.returncode == 0
    finally:
        holder.kill()
        holder.wait()
