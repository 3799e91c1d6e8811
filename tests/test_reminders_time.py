"""Local time for reminders: time zones from cities, times people type, quiet hours, summer time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from state.engine.between_sessions.schedule import ReminderPrefs, checkin_next, homework_due, snooze_until
from state.engine.between_sessions.timezones import (
    in_quiet,
    next_at,
    out_of_quiet,
    parse_range,
    parse_time,
    resolve_zone,
)
from state.service.clock import FileClock, clock_from_env

NY, LA, LONDON = "America/New_York", "America/Los_Angeles", "Europe/London"


def at(zone: str, text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def wall(zone: str, epoch: float) -> str:
    return datetime.fromtimestamp(epoch, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(("typed", "zone"), [
    ("Manila", "Asia/Manila"), ("los angelas", LA), ("Austin, Texas", "America/Chicago"),
    ("São Paulo", "America/Sao_Paulo"), ("Europe/Berlin", "Europe/Berlin"), ("PST", LA),
    ("  new york ", NY), ("Seattle", LA), ("Mumbai", "Asia/Kolkata"), ("Zürich", "Europe/Zurich"),
])
def test_cities_and_zone_names_resolve(typed: str, zone: str) -> None:
    assert resolve_zone(typed) == zone


@pytest.mark.parametrize("typed", ["Nowhereville", "", "../../etc/passwd", "🙂"])
def test_unknown_places_do_not_resolve(typed: str) -> None:
    assert resolve_zone(typed) is None


@pytest.mark.parametrize(("typed", "minutes"), [
    ("19:30", 19 * 60 + 30), ("7:30 pm", 19 * 60 + 30), ("7pm", 19 * 60), ("7.15", 7 * 60 + 15),
    ("12am", 0), ("12 pm", 12 * 60), ("9", 9 * 60),
])
def test_times_people_type(typed: str, minutes: int) -> None:
    assert parse_time(typed) == minutes


@pytest.mark.parametrize("typed", ["25", "7:70", "noon", "13pm", ""])
def test_not_times(typed: str) -> None:
    assert parse_time(typed) is None


def test_quiet_hours_typed_and_wrapping_midnight() -> None:
    assert parse_range("22-7") == (22 * 60, 7 * 60)
    assert parse_range("10pm to 7am") == (22 * 60, 7 * 60)
    assert parse_range("9-9") is None
    quiet = (21 * 60, 9 * 60)
    assert in_quiet(at(NY, "2024-06-01 23:30"), NY, quiet)
    assert in_quiet(at(NY, "2024-06-01 08:59"), NY, quiet)
    assert not in_quiet(at(NY, "2024-06-01 09:00"), NY, quiet)
    assert not in_quiet(at(NY, "2024-06-01 20:59"), NY, quiet)
    assert wall(NY, out_of_quiet(at(NY, "2024-06-01 23:30"), NY, quiet)) == "2024-06-02 09:00"
    assert wall(NY, out_of_quiet(at(NY, "2024-06-02 03:00"), NY, quiet)) == "2024-06-02 09:00"


def test_the_same_evening_across_summer_time_changes() -> None:
    # US spring forward 2024-03-10, fall back 2024-11-03; the UK springs forward 2024-03-31.
    assert wall(NY, next_at(at(NY, "2024-03-09 20:00"), 19 * 60, NY)) == "2024-03-10 19:00"
    assert wall(NY, next_at(at(NY, "2024-11-02 20:00"), 19 * 60, NY)) == "2024-11-03 19:00"
    spring = next_at(at(LONDON, "2024-03-30 08:00"), 19 * 60, LONDON, days=1)
    assert wall(LONDON, spring) == "2024-03-31 19:00"
    # 02:30 does not exist on the spring-forward night: it comes an hour later, not never.
    assert wall(NY, next_at(at(NY, "2024-03-10 00:00"), 2 * 60 + 30, NY)) == "2024-03-10 03:30"


def test_preferences_from_answers_and_locale_defaults() -> None:
    defaults = {"timezone": NY, "reminder_time": "19:00", "quiet_hours": "21:00-09:00"}
    prefs = ReminderPrefs.of({"timezone": LA, "reminder_time": "07:30"}, defaults)
    assert (prefs.zone, prefs.time, prefs.slot, prefs.on) == (LA, 7 * 60 + 30, 9 * 60, True)
    broken = ReminderPrefs.of({"timezone": "other", "reminder_time": "soon", "reminders": "off"}, defaults)
    assert (broken.zone, broken.time, broken.on) == (NY, 19 * 60, False)


def test_planned_times() -> None:
    prefs = ReminderPrefs.of({"timezone": LA, "checkin_every": "weekly"}, {"reminder_time": "19:00"})
    set_at = at(LA, "2024-05-06 23:50")  # late on a Monday
    answers = {"homework": "x", "homework_set_at": set_at, "homework_check_in_days": 2}
    assert wall(LA, homework_due(answers, prefs, set_at)) == "2024-05-08 19:00"
    now = at(LA, "2024-05-10 12:00")
    assert wall(LA, homework_due(answers, prefs, now)) == "2024-05-10 19:00"  # overdue: next slot
    assert wall(LA, checkin_next(prefs, now) or 0) == "2024-05-10 19:00"
    assert wall(LA, checkin_next(prefs, now, after_due=at(LA, "2024-05-10 19:00")) or 0) == "2024-05-17 19:00"
    assert wall(LA, snooze_until(prefs, at(LA, "2024-05-10 19:00"), "later")) == "2024-05-11 09:00"
    assert wall(LA, snooze_until(prefs, at(LA, "2024-05-10 13:00"), "later")) == "2024-05-10 16:00"
    assert wall(LA, snooze_until(prefs, at(LA, "2024-05-10 13:00"), "tomorrow")) == "2024-05-11 19:00"


def test_the_file_clock_is_the_test_hook(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "clock"
    clock = clock_from_env({"CRAFTBOT_FAKE_CLOCK_FILE": str(path)})
    assert isinstance(clock, FileClock)
    clock.set(1_700_000_000.5)
    assert clock() == 1_700_000_000.5
    clock.set(1_700_000_100)
    assert clock() == 1_700_000_100.0
    path.write_text("soon")
    with pytest.raises(ValueError, match="epoch seconds"):
        clock()
    assert clock_from_env({}) is not clock
