"""Reminder jitter: stable per person, within ten minutes, never into quiet hours."""

from __future__ import annotations

from state.engine.between_sessions.schedule import JITTER_SECONDS, ReminderPrefs, jitter, jittered

PREFS = ReminderPrefs.of({"timezone": "UTC", "quiet_hours": "21:00-09:00"}, {})
DAY = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def test_jitter_is_stable_small_and_spread() -> None:
    offsets = [jitter(user) for user in range(1000)]
    assert offsets == [jitter(user) for user in range(1000)]
    assert all(-JITTER_SECONDS <= o <= JITTER_SECONDS for o in offsets)
    assert len(set(offsets)) > 500  # a wave at 19:00 becomes a spread


def test_jitter_never_enters_quiet_hours() -> None:
    at_nine = DAY + 9 * 3600  # quiet hours end at 09:00: an earlier minute is quiet
    early = next(user for user in range(1000) if jitter(user) < 0)
    late = next(user for user in range(1000) if jitter(user) > 0)
    assert jittered(PREFS, early, at_nine) == at_nine
    assert jittered(PREFS, late, at_nine) == at_nine + jitter(late)
    at_noon = DAY + 12.5 * 3600
    assert jittered(PREFS, early, at_noon) == at_noon + jitter(early)
