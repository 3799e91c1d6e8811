"""The /progress chart: a real PNG with the expected series, sent as a photo, saved by the terminal chat."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from state.contracts import Command
from state.engine.between_sessions.checkins import weekly
from state.reports.chart import REWARDS_COLOR, SOBER_COLOR, STRESS_COLOR, ChartLabels, render_chart
from state.service.clock import FileClock
from tests.kit.curricula import REPO, SAMPLE
from tests.kit.world import NY, World, at, make_world, record, said


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path)
    yield w
    await w.close()

LABELS = ChartLabels("Your check-ins", "Stress", "Days sober time was noticed", "Rewards given")


def colour_pixels(png: bytes, hex_colour: str) -> int:
    wanted = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = image.tobytes()
    return sum(1 for i in range(0, len(pixels), 3)
               if all(abs(pixels[i + k] - wanted[k]) <= 8 for k in range(3)))


def test_the_chart_is_a_png_drawing_the_expected_series() -> None:
    records = [record("2024-05-06", 8, 1, 1), record("2024-05-07", 6, 1, 0), record("2024-05-14", 4, 0, None),
               record("2024-05-21", 2, 5, 4, period=7)]
    png = render_chart(weekly(records, date(2024, 5, 23), weeks=4), LABELS)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.verify()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (800, 450)
    series = json.loads(image.info["Description"])
    assert series == {"weeks": ["2024-04-29", "2024-05-06", "2024-05-13", "2024-05-20"],
                      "stress": [None, 7.0, 4.0, 2.0], "sober_days": [0, 2, 0, 5], "rewards": [0, 1, 0, 4]}
    for colour in (STRESS_COLOR, SOBER_COLOR, REWARDS_COLOR):
        assert colour_pixels(png, colour) > 200, colour


def test_no_rewards_means_no_reward_bars() -> None:
    png = render_chart(weekly([record("2024-05-06", 5, 1, 0)], date(2024, 5, 8), weeks=2), LABELS)
    assert colour_pixels(png, SOBER_COLOR) > 200
    assert colour_pixels(png, REWARDS_COLOR) < 200  # only the legend's swatch


async def test_progress_shows_the_chart_once_there_are_check_ins(world: World) -> None:
    await world.onboard(40)
    reply = await world.say(40, Command("progress"))
    assert "finished 0 of 2" in said(reply) and reply.photos == []
    for day, stress in (("2024-03-09", 7), ("2024-03-12", 5), ("2024-03-20", 3)):
        world.move(at(NY, f"{day} 20:00"))
        await world.say(40, Command("checkin"))
        await world.press(40, str(stress))
        await world.press(40, "Yes")
        await world.press(40, "Yes")
        await world.press(40, "Did not use")
    reply = await world.say(40, Command("progress"))
    assert "Your check-ins over the last 8 weeks (3 in all)" in said(reply)
    (photo,) = reply.photos
    series = json.loads(Image.open(io.BytesIO(photo.data)).info["Description"])
    assert series["weeks"][-3:] == ["2024-03-04", "2024-03-11", "2024-03-18"]
    assert series["stress"] == [None] * 5 + [7.0, 5.0, 3.0] and series["sober_days"][-3:] == [1, 1, 1]


def test_the_terminal_chat_saves_the_chart_and_shows_due_reminders(tmp_path: Path) -> None:
    clock = FileClock(tmp_path / "clock")
    clock.set(at(NY, "2024-03-09 10:00"))
    env = {**os.environ, "CRAFTBOT_FAKE_CLOCK_FILE": str(clock.path)}
    db = tmp_path / "chat.sqlite3"
    command = [sys.executable, "-m", "bot.cli", "chat", "--curriculum", str(SAMPLE), "--db", str(db),
               "--user", "5"]

    def chat(script: str) -> str:
        result = subprocess.run(command, input=script, capture_output=True, text=True, cwd=REPO,
                                timeout=120, check=True, env=env)
        return result.stdout

    # onboarding, then Basics to its homework, then a check-in and /progress; input stays
    # open, so the chart is read while the chat is still running
    onboarding = "1\nRobin\n2\n1\n3\n3\n2\n"
    basics = "1\n1\n7\n2\nevenings\n2\n1\n4\n"
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                          cwd=REPO, env=env) as running:
        assert running.stdin is not None and running.stdout is not None
        running.stdin.write(onboarding + basics + "/checkin\n6\n1\n1\n2\n/progress\n")
        running.stdin.flush()
        seen = []
        for line in running.stdout:
            seen.append(line)
            if line.startswith("[chart saved: "):
                break
        assert "This week, notice one sober moment." in "".join(seen)
        path = Path(seen[-1].strip().removeprefix("[chart saved: ").removesuffix("]"))
        assert path.read_bytes().startswith(b"\x89PNG")
        assert path.parent.stat().st_mode & 0o777 == 0o700  # a private folder
        assert json.loads(Image.open(path).info["Description"])["stress"][-1] == 6.0
        running.stdin.close()
        assert running.wait(timeout=60) == 0
    assert not path.exists() and not path.parent.exists()  # removed when the chat ended

    clock.set(at(NY, "2024-03-11 19:00"))  # the homework check-in is due
    out = chat("1\n")
    assert "Your practice was: This week, notice one sober moment." in out
    assert "How did it go?" in out
    assert out.count("Your practice was") == 1
