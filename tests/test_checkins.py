"""The one-minute check-in: asked, answered by tap or by typing, kept per person, added up by week."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from state.contracts import Command
from state.engine.between_sessions.checkins import weekly
from tests.kit.world import World, make_world, record, said


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path)
    yield w
    await w.close()


async def test_a_check_in_by_hand_is_kept(world: World) -> None:
    await world.onboard(30)
    reply = await world.say(30, Command("checkin"))
    assert "How stressed" in said(reply)
    await world.press(30, "9")
    reply = await world.press(30, "Yes")
    assert "Did you reward it?" in said(reply)
    await world.press(30, "Not this time")
    reply = await world.press(30, "I don't know")
    assert "That's a lot of stress" in said(reply) and "That's CRAFT at work" not in said(reply)
    (record,) = await world.reminders.checkins(30, 0)
    assert (record.stress, record.sober_days, record.rewards, record.loved_one_day) == (9, 1, 0, "unknown")
    answers = (await world.progress(30)).answers
    assert answers["checkin_stress"] == 9 and answers["checkin_loved_one_day"] == "unknown"


async def test_typed_answers_and_weekly_counts(world: World) -> None:
    await world.onboard(31)
    await world.say(31, Command("reminders"))
    await world.press(31, "Check-ins")
    await world.press(31, "Every week")
    await world.say(31, Command("checkin"))
    await world.text(31, "4")
    reply = await world.text(31, "5")
    assert "How many times did you reward" in said(reply)
    await world.text(31, "3")
    reply = await world.text(31, "did not use")
    assert "That's CRAFT at work" in said(reply)
    (record,) = await world.reminders.checkins(31, 0)
    assert (record.period_days, record.stress, record.sober_days, record.rewards) == (7, 4, 5, 3)
    assert record.loved_one_day == "not_used"


async def test_words_not_meant_for_the_check_in_go_to_the_lesson(world: World) -> None:
    await world.onboard(32)
    await world.press(32, "Basics", await world.say(32, Command("menu")))
    await world.press(32, "Ready")
    await world.press(32, "7")
    reply = await world.press(32, "I'd love your help")
    assert "When does Sam usually use?" in said(reply)
    await world.say(32, Command("checkin"))
    sober_question = await world.press(32, "5")
    reply = await world.text(32, "after work")  # not yes, no or "didn't see them"
    assert "When is the best time to talk?" in said(reply)
    assert (await world.progress(32)).answers["trigger_time"] == "after work"
    assert await world.reminders.checkins(32, 0) == []
    reply = await world.press(32, "Yes", sober_question)  # the check-in was left
    assert "earlier step" in said(reply)


async def test_an_old_check_in_button_moves_nothing(world: World) -> None:
    await world.onboard(33)
    first = await world.say(33, Command("checkin"))
    await world.say(33, Command("menu"))  # leaves the check-in
    reply = await world.press(33, "3", first)
    assert "earlier step" in said(reply)
    assert await world.reminders.checkins(33, 0) == []


def test_weeks_add_up_from_monday() -> None:
    records = [
        record("2024-05-06", 8, 1, 1), record("2024-05-07", 6, 0, None), record("2024-05-12", 4, 1, 0),
        record("2024-05-20", None, None, None), record("2024-05-22", 3, 5, 4, period=7),
    ]
    weeks = weekly(records, date(2024, 5, 23), weeks=4)
    assert [w.start.isoformat() for w in weeks] == ["2024-04-29", "2024-05-06", "2024-05-13", "2024-05-20"]
    assert [w.checkins for w in weeks] == [0, 3, 0, 2]
    assert [w.stress for w in weeks] == [None, 6.0, None, 3.0]
    assert [w.sober_days for w in weeks] == [0, 2, 0, 5]
    assert [w.rewards for w in weeks] == [0, 1, 0, 4]
