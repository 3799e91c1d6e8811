"""A broken curriculum stops `craftbot run` before it talks to Telegram, saying what is wrong.

Every broken curriculum the validation tests build (`tests/test_validation.py`: the sample
with one mistake each), and every folder under `tests/fixtures/broken/`, is given to the
real `craftbot run` with a token set and the fake Bot API's address, so that only the
curriculum can stop it. It must exit with an error, print each error at its place
(`file:line:col: error: ...`), say it is not starting, and never call Telegram.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.kit.botapi_serve import WatchedBotApi
from tests.test_validation import CASES, build, place

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "broken"
WITH_ERRORS = sorted(name for name, (_, expected) in CASES.items()
                     if any(e.severity == "error" for e in expected))
FOLDERS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) if FIXTURES.is_dir() else []


@dataclass(frozen=True)
class Run:
    """How `craftbot run` ended on one curriculum."""

    root: Path
    code: int
    stderr: str


def run_bot(server: WatchedBotApi, root: Path, workdir: Path) -> Run:
    """`craftbot run` on a curriculum, as an operator would start it."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "config.yaml"
    config.write_text(f"telegram:\n  base_url: {server.base_url}\n  base_file_url: {server.base_file_url}\n"
                      f"storage:\n  database: {workdir / 'bot.sqlite3'}\n"
                      f"curriculum:\n  path: {root}\n", encoding="utf-8")
    env = {**os.environ, "CRAFTBOT_TELEGRAM_TOKEN": server.token}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--config", str(config)], cwd=REPO,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    return Run(root, done.returncode, done.stderr)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """Every broken curriculum run once, a few at a time; then the server's record is checked."""
    base = tmp_path_factory.mktemp("broken")
    roots = {name: build(name, base / "cases") for name in WITH_ERRORS}
    roots |= {f"fixtures/{name}": FIXTURES / name for name in FOLDERS}
    with WatchedBotApi() as server, ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_bot, server, root, base / "work" / name.replace("/", "_"))
                   for name, root in roots.items()}
        yield {name: future.result() for name, future in futures.items()}
        assert server.calls == [], "a bot with a broken curriculum talked to Telegram"


def test_there_are_broken_curricula_to_try() -> None:
    assert len(WITH_ERRORS) + len(FOLDERS) >= 20


@pytest.mark.parametrize("case", [*WITH_ERRORS, *(f"fixtures/{name}" for name in FOLDERS)])
@pytest.mark.e2e
def test_run_refuses_a_broken_curriculum_and_says_where(case: str, runs: dict[str, Run]) -> None:
    result = runs[case]
    assert result.code == 1, result.stderr
    assert "has errors; not starting" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert ": error: " in result.stderr, result.stderr
    for expect in CASES[case][1] if case in CASES else []:
        if expect.severity == "error":
            file, line, col = place(expect, result.root)
            assert f"{result.root / file}:{line}:{col}: error: " in result.stderr, result.stderr
            assert expect.wrong in result.stderr
