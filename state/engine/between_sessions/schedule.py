"""When the bot writes first: a person's reminder settings and the times they lead to.

Settings live in the person's saved answers, so the engine, `/mydata` and `/delete` treat
them like any other answer, and counselors can set them from onboarding:

    reminders      "on" (default) or "off": the master switch
    reminder_time  "HH:MM", the preferred local time of day
    timezone       an IANA zone name; "other" with `timezone_city` while a city is resolved
    quiet_hours    "HH:MM-HH:MM", local; nothing is sent in them (a wrap past midnight is fine)
    checkin_every  "daily", "weekly", "monthly" or "off"; unset means never chosen

Missing settings fall back to the locale's `defaults:` (curriculum/<locale>/locale.yaml),
then to the constants below. Every planned time is in UTC epoch seconds and already moved
out of quiet hours; the kinds of reminder are in `state.contracts`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from state.engine.between_sessions.timezones import (
    at_local,
    in_quiet,
    local_day,
    next_at,
    out_of_quiet,
    parse_range,
    parse_time,
    valid_zone,
)

ON_KEY, TIME_KEY, ZONE_KEY, CITY_KEY = "reminders", "reminder_time", "timezone", "timezone_city"
QUIET_KEY, CHECKINS_KEY = "quiet_hours", "checkin_every"
CHECKIN_PERIODS = {"daily": 1, "weekly": 7, "monthly": 30}

DEFAULT_ZONE = "America/New_York"
DEFAULT_TIME = 19 * 60
DEFAULT_QUIET = (21 * 60, 9 * 60)
DEFAULT_CHECK_IN_DAYS = 3  # for a homework step without `check_in_days`
SNOOZE_HOURS = 3.0
JITTER_SECONDS = 600  # reminders come up to this much before or after the chosen time


def _setting(answers: Mapping[str, Any], defaults: Mapping[str, str], key: str) -> str:
    value = answers.get(key)
    return str(value) if value not in (None, "") else str(defaults.get(key, ""))


@dataclass(frozen=True)
class ReminderPrefs:
    """One person's reminder settings, read from answers with the locale's defaults."""

    on: bool
    zone: str
    time: int  # minutes after midnight, local
    quiet: tuple[int, int]
    checkins: str  # daily | weekly | monthly | off
    checkins_chosen: bool

    @classmethod
    def of(cls, answers: Mapping[str, Any], defaults: Mapping[str, str]) -> ReminderPrefs:
        """The settings in force for these answers (anything unreadable falls back to a default)."""
        return _read_prefs(str(answers.get(ON_KEY, "on")), _setting(answers, defaults, ZONE_KEY),
                           _setting(answers, defaults, TIME_KEY), _setting(answers, defaults, QUIET_KEY),
                           str(answers.get(CHECKINS_KEY) or "off"), CHECKINS_KEY in answers)

    @property
    def slot(self) -> int:
        """The local time reminders come at: the preferred time, or the end of quiet hours."""
        start, end = self.quiet
        inside = start <= self.time < end if start < end else (self.time >= start or self.time < end)
        return end if inside else self.time

    def quiet_now(self, now: float) -> bool:
        """Whether it is quiet hours for this person at `now`."""
        return in_quiet(now, self.zone, self.quiet)

    def place(self, when: float) -> float:
        """A time moved out of quiet hours."""
        return out_of_quiet(when, self.zone, self.quiet)

    def next_slot(self, after: float, days: int = 0) -> float:
        """The reminder time on the local day `days` after `after` (or the first one later)."""
        return self.place(next_at(after, self.slot, self.zone, days=days))

    def same_day_slot(self, when: float, now: float) -> float:
        """The reminder time on the local day of `when`; the next one if that has passed."""
        moved = self.place(at_local(local_day(when, self.zone), self.slot, self.zone))
        return moved if moved > now else self.next_slot(now)


@lru_cache(maxsize=1 << 12)  # most people keep the defaults or one of a few choices
def _read_prefs(on: str, zone: str, time_text: str, quiet_text: str, checkins: str,
                checkins_chosen: bool) -> ReminderPrefs:
    time, quiet = parse_time(time_text), parse_range(quiet_text)
    return ReminderPrefs(
        on=on != "off",
        zone=zone if valid_zone(zone) else DEFAULT_ZONE,
        time=DEFAULT_TIME if time is None else time,
        quiet=quiet or DEFAULT_QUIET,
        checkins=checkins if checkins in CHECKIN_PERIODS else "off",
        checkins_chosen=checkins_chosen,
    )


def homework_pending(answers: Mapping[str, Any]) -> bool:
    """Whether there is homework that has not been looked back on yet."""
    return answers.get("homework") not in (None, "", []) and not answers.get("homework_reviewed")


def homework_ref(answers: Mapping[str, Any]) -> str:
    """Which homework a reminder is about: its module and when it was set (ids, never text)."""
    return f"{answers.get('homework_module', '')}@{int(float(answers.get('homework_set_at') or 0))}"


def homework_due(answers: Mapping[str, Any], prefs: ReminderPrefs, now: float) -> float:
    """When to ask about the current homework: `check_in_days` after it was set, at the slot."""
    set_at = float(answers.get("homework_set_at") or now)
    days = int(answers.get("homework_check_in_days") or DEFAULT_CHECK_IN_DAYS)
    due = prefs.next_slot(set_at, days=days)
    return due if due > now else prefs.next_slot(now)


def checkin_next(prefs: ReminderPrefs, now: float, after_due: float | None = None) -> float | None:
    """The next check-in: the first slot from now, or one period after the one just sent."""
    period = CHECKIN_PERIODS.get(prefs.checkins)
    if period is None:
        return None
    if after_due is None:
        return prefs.next_slot(now)
    due = prefs.next_slot(after_due, days=period)
    return due if due > now else prefs.next_slot(now)


def snooze_until(prefs: ReminderPrefs, now: float, choice: str) -> float:
    """When a snoozed reminder comes back: "later" (a few hours) or "tomorrow" (at the slot)."""
    if choice == "later":
        return prefs.place(now + SNOOZE_HOURS * 3600)
    return prefs.next_slot(now, days=1)


def nudge_due(prefs: ReminderPrefs, now: float, days: float) -> float:
    """The one gentle nudge for someone who stopped mid-module: `days` later, at the slot."""
    return prefs.next_slot(now, days=max(1, round(days)))


def jitter(user_id: int, spread: int = JITTER_SECONDS) -> int:
    """A small offset in seconds, stable for one person, in [-spread, spread] (0 if spread is 0).

    Most people keep one of a few reminder times (09:00, 12:30, 19:00) or get their
    reminders when quiet hours end; spreading each person's by a few minutes turns a wave
    falling due at once into a trickle.
    """
    if spread <= 0:
        return 0
    digest = hashlib.sha256(f"craftbot:jitter:{user_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2 * spread + 1) - spread


def jittered(prefs: ReminderPrefs, user_id: int, when: float, spread: int = JITTER_SECONDS) -> float:
    """`when` moved by the person's jitter, never into their quiet hours nor to another day.

    Where the jitter would land in quiet hours (just before they end, say) it is taken the
    other way; where both ways would, or either crosses local midnight, `when` stays. The
    local day is kept so that planning from a jittered time ("the same day", "a week after
    the last one") finds the same day as from the unjittered one: the jitter never adds up.
    """
    offset = jitter(user_id, spread)
    day = local_day(when, prefs.zone)
    for moved in (when + offset, when - offset):
        if not prefs.quiet_now(moved) and local_day(moved, prefs.zone) == day:
            return moved
    return when
