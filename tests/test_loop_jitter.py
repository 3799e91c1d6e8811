"""Reminder jitter: stable per person, within ten minutes, never into quiet hours nor another day."""

from __future__ import annotations

from pathlib import Path

from state.engine.between_sessions.schedule import JITTER_SECONDS, ReminderPrefs, jitter, jittered
from state.service.conversations import Conversations
from state.service.orders import FollowUpOptions
from tests.kit.world import NY, at, make_world

PREFS = ReminderPrefs.of({"timezone": "UTC", "quiet_hours": "21:00-09:00"}, {})
DAY = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def test_jitter_is_stable_small_and_spread() -> None:
    offsets = [jitter(user) for user in range(1000)]
    assert offsets == [jitter(user) for user in range(1000)]
    assert all(-JITTER_SECONDS <= o <= JITTER_SECONDS for o in offsets)
    assert len(set(offsets)) > 500  # a wave at 19:00 becomes a spread
    assert {jitter(user, 0) for user in range(100)} == {0}


def test_jitter_never_enters_quiet_hours_but_still_spreads_their_end() -> None:
    at_nine = DAY + 9 * 3600  # quiet hours end at 09:00: an earlier minute is quiet
    early = next(user for user in range(1000) if jitter(user) < 0)
    late = next(user for user in range(1000) if jitter(user) > 0)
    assert jittered(PREFS, early, at_nine) == at_nine - jitter(early)  # taken the other way
    assert jittered(PREFS, late, at_nine) == at_nine + jitter(late)
    at_noon = DAY + 12.5 * 3600
    assert jittered(PREFS, early, at_noon) == at_noon + jitter(early)


def test_jitter_never_moves_a_reminder_to_another_day() -> None:
    night = ReminderPrefs.of({"timezone": "UTC", "quiet_hours": "03:00-06:00"}, {})
    before_midnight = DAY + 86400 - 60  # 23:59: a later minute is tomorrow
    late = next(user for user in range(1000) if jitter(user) > 60)
    assert jittered(night, late, before_midnight) == before_midnight - jitter(late)
    early_quiet = ReminderPrefs.of({"timezone": "UTC", "quiet_hours": "00:01-06:00"}, {})
    assert jittered(early_quiet, late, DAY + 30) == DAY + 30  # quiet one way, yesterday the other


async def test_a_persons_reminders_come_at_their_own_few_minutes_off(tmp_path: Path) -> None:
    world = await make_world(tmp_path)
    try:
        world.conversations = Conversations(world.engine, world.store, world.time.now,
                                            FollowUpOptions(jitter_seconds=600))
        anna = 101
        await world.onboard(anna, zone="Eastern")
        await world.basics(anna)
        (homework,) = [r for r in await world.waiting(anna) if r.kind == "homework"]
        assert homework.due_at == at(NY, "2024-03-11 19:00") + jitter(anna, 600) != at(NY, "2024-03-11 19:00")
    finally:
        await world.close()
