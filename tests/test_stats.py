"""`craftbot stats`: anonymous figures through the real CLI, small counts suppressed.

The database is written by the real `Conversations` (real engine, real SQLite) with a
clock set a month back, so "idle for over 7 days" and ISO weeks are known without waiting;
the statistics are read by the real `craftbot stats` in a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from bot.config import BUNDLED_CURRICULUM
from state.contracts import Command, Input, Press, Reply, TextIn
from state.curriculum.loader import load_curriculum
from state.engine.engine import Engine
from state.reports.stats import shown, suppress
from state.service.conversations import Conversations
from state.store.progress import SqliteProgressStore, iso_week
from tests.kit.cli import craftbot
from tests.kit.curricula import SAMPLE
from tests.kit.walk import actions, first_answer

DAY = 86400.0
IDS = range(880001, 880011)  # ten people; their ids must never show in any output
MONTH_AGO = time.time() - 30 * DAY


class Clock:
    """A clock that starts a month ago and moves a minute per reading."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 60
        return self.now


class Family:
    """One person writing to the service."""

    def __init__(self, service: Conversations, user_id: int) -> None:
        self.service, self.user_id = service, user_id
        self.last: Reply | None = None

    async def send(self, message: Input) -> None:
        self.last = await self.service.handle(self.user_id, message)

    async def press(self, label: str) -> None:
        """Tap the first button of the last reply whose label contains `label`."""
        assert self.last is not None
        found = [b for m in self.last.messages for row in m.buttons for b in row if label in b.label]
        assert found, (label, self.last.messages)
        await self.send(Press(found[0].data))

    async def type(self, text: str) -> None:
        await self.send(TextIn(text))


async def sample_population(db: Path, clock: Clock) -> None:
    """Ten people on the sample curriculum, a month ago and two weeks later."""
    store = await SqliteProgressStore(db).open()
    service = Conversations(Engine(load_curriculum(SAMPLE)), store, clock=clock)
    people = [Family(service, user_id) for user_id in IDS]
    for person in people:  # everyone finishes onboarding
        await person.send(Command("start"))
        await person.press("Yes, let's start")
        await person.type("Sam")
        for label in ("My partner", "Alcohol", "No", "No", "No"):
            await person.press(label)
    for person in people[:9]:  # nine open the basics; six of them stop at the first question
        await person.press("Next: Basics")
        await person.press("Ready")
    await people[8].press("5")  # one stops at the second
    for person in people[:2]:  # two finish the basics and the next module
        await person.press("3")
        await person.press("I'd love your help")
        await person.type("evenings")
        await person.press("sober and calm")
        await person.press("Paid a bill")
        await person.press("Done")
        await person.press("Next: Next steps")
        await person.press("Yes")
    for person in people[2:5]:  # three crisis interrupts
        await person.type("I want to die")
    clock.now += 14 * DAY
    for person in people[:2]:  # two come back two weeks later
        await person.send(Command("menu"))
    await store.close()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("stats") / "craftbot.sqlite3"
    asyncio.run(sample_population(db, Clock(MONTH_AGO)))
    return db


def stats_json(*args: object) -> dict[str, Any]:
    done = craftbot("stats", "--json", *args)
    assert done.returncode == 0, done.stderr
    assert not any(str(user_id) in done.stdout for user_id in IDS)
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_figures_per_module_with_small_counts_suppressed(sample_db: Path) -> None:
    data = stats_json("--db", sample_db, "--curriculum", SAMPLE)
    assert data["people"] == 10 and data["crisis_interrupts"] == "<5"
    assert data["crisis_interrupts_by_pathway"] and all(
        count == "<5" for count in data["crisis_interrupts_by_pathway"].values())
    modules = {m["module"]: m for m in data["modules"]}
    assert list(modules) == ["onboarding", "basics", "next"]
    onboarding = modules["onboarding"]
    assert (onboarding["started"], onboarding["completed"], onboarding["completion_rate"]) == (10, 10, 1.0)
    assert 60 <= onboarding["median_seconds_to_complete"] <= 20 * 60
    basics = modules["basics"]
    assert (basics["started"], basics["completed"]) == (9, "<5")
    assert basics["completion_rate"] is None and basics["median_seconds_to_complete"] is None
    assert basics["stopped"] == [{"step": "mood", "people": 6}, {"step": "pick", "people": "<5"}]
    assert (modules["next"]["started"], modules["next"]["completed"]) == ("<5", "<5")


@pytest.mark.parametrize(("count", "cell", "text"),
                         [(0, 0, "0"), (1, None, "<5"), (4, None, "<5"), (5, 5, "5"), (12, 12, "12")])
def test_zero_is_shown_and_only_one_to_four_are_suppressed(count: int, cell: int | None, text: str) -> None:
    assert suppress(count) == cell and shown(suppress(count)) == text


def test_weeks_with_nobody_show_zero(sample_db: Path) -> None:
    weeks = stats_json("--db", sample_db, "--weeks", 8)["weeks"]
    quiet = [w for w in weeks if w["week"] > iso_week(time.time() - 7 * DAY)]  # after the population
    assert quiet and all(w["active_users"] == 0 and w["crisis_interrupts"] == 0 for w in quiet)
    assert "<5" not in json.dumps(quiet)


def test_weekly_activity_and_crises(sample_db: Path) -> None:
    weeks = {w["week"]: w for w in stats_json("--db", sample_db, "--weeks", 8)["weeks"]}
    assert len(weeks) == 8
    first, later = iso_week(MONTH_AGO + 3600), iso_week(MONTH_AGO + 14 * DAY + 3600)
    assert weeks[first]["active_users"] == 10 and weeks[first]["crisis_interrupts"] == "<5"
    assert weeks[later]["active_users"] == "<5"


def test_the_table_shows_the_same_figures_and_no_one(sample_db: Path) -> None:
    done = craftbot("stats", "--db", sample_db, "--curriculum", SAMPLE)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():  # the first table's row of each module
        rows.setdefault(line.split("  ")[0], line.split())
    assert rows["Getting started"][2:5] == ["10", "10", "100%"]
    assert rows["Basics"][1:5] == ["9", "<5", "-", "-"]
    assert rows["Next steps"][2:4] == ["<5", "<5"]
    assert re.search(r"^Basics +mood +6$", out, re.M) and re.search(r"^Basics +pick +<5$", out, re.M)
    assert "Sam" not in out and not any(str(user_id) in out for user_id in IDS)


def test_the_database_can_come_from_the_config_and_a_chart_is_drawn(
        sample_db: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  database: {sample_db}\ncurriculum:\n  path: {SAMPLE}\n",
                      encoding="utf-8")
    chart = tmp_path / "charts" / "stats.png"
    done = craftbot("stats", "--config", config, "--png", chart)
    assert done.returncode == 0, done.stderr
    assert "Basics" in done.stdout
    data = chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    one, two = stats_json("--config", config), stats_json("--db", sample_db, "--curriculum", SAMPLE)
    assert one["modules"] == two["modules"] and one["weeks"] == two["weeks"]


def test_a_missing_database_is_an_error(tmp_path: Path) -> None:
    done = craftbot("stats", "--db", tmp_path / "none.sqlite3")
    assert done.returncode == 2 and "no such database file" in done.stderr
    assert not (tmp_path / "none.sqlite3").exists()


async def bundled_population(db: Path, count: int) -> str:
    """`count` people finish the bundled onboarding; return its title."""
    store = await SqliteProgressStore(db).open()
    engine = Engine(load_curriculum(BUNDLED_CURRICULUM))
    service = Conversations(engine, store, clock=Clock(MONTH_AGO))
    onboarding = engine.curriculum.content(None).onboarding
    for user_id in IDS[:count]:
        await service.handle(user_id, Command("start"))
        for _ in range(200):
            progress = await store.load(user_id)
            assert progress is not None
            if onboarding.id in progress.completed:
                break
            step = engine.content(progress).step(progress.module or "", progress.step or "")
            assert step is not None
            for message in first_answer(step, actions(step, progress.seq)).inputs:
                await service.handle(user_id, message)
    await store.close()
    return onboarding.title


def test_stats_on_the_bundled_curriculum(tmp_path: Path) -> None:
    db = tmp_path / "bundled.sqlite3"
    title = asyncio.run(bundled_population(db, 5))
    data = stats_json("--db", db)
    first = data["modules"][0]
    assert (first["title"], first["started"], first["completed"]) == (title, 5, 5)
    assert all(m["started"] == 0 for m in data["modules"][1:])  # nobody: 0, not "<5"
    assert len(data["modules"]) == len(load_curriculum(BUNDLED_CURRICULUM).content(None).modules)
