"""`/reminders`: see and change when the bot may write first, or turn it off.

The menu shows the settings (on or off, time of day, time zone with its local time now,
quiet hours, how often to check in) with one button each. Each setting offers a few taps
and also takes typed text: a time ("7:30 pm"), a city ("Toronto"), quiet hours ("22-7").
Buttons carry ``w:<what>[:<value>]``; they hold no state, so an older menu still works.
Every change asks the conversation service to plan the person's reminders again.
"""

from __future__ import annotations

from state.contracts import CHECKIN, Button, PlanReminder, Press, ReplanReminders
from state.engine.between_sessions.schedule import (
    CHECKIN_PERIODS,
    CHECKINS_KEY,
    ON_KEY,
    QUIET_KEY,
    TIME_KEY,
    ZONE_KEY,
    checkin_next,
)
from state.engine.between_sessions.sideflow import Aside
from state.engine.between_sessions.timezones import (
    hhmm,
    local,
    parse_range,
    parse_time,
    range_text,
    resolve_zone,
    valid_zone,
    zone_label,
)
from state.engine.callbacks import SETTINGS, callback
from state.engine.step_view import option_rows, with_choice_mark

TIMES = (8 * 60, 9 * 60, 12 * 60 + 30, 17 * 60 + 30, 19 * 60, 20 * 60)
QUIETS = ((21 * 60, 9 * 60), (22 * 60, 8 * 60), (20 * 60, 10 * 60), (23 * 60, 7 * 60))
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
         "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu")
CHECKIN_CHOICES = (*CHECKIN_PERIODS, "off")


def show(aside: Aside) -> None:
    """The settings and a button for each."""
    prefs = aside.prefs
    wall = local(aside.now, prefs.zone)
    rows: tuple[tuple[Button, ...], ...] = (
        (aside.button("reminders_time_button", callback(SETTINGS, "ask", "time")),
         aside.button("reminders_zone_button", callback(SETTINGS, "ask", "zone"))),
        (aside.button("reminders_quiet_button", callback(SETTINGS, "ask", "quiet")),
         aside.button("reminders_checkins_button", callback(SETTINGS, "ask", "checkins"))),
        (aside.button("reminders_off_button", callback(SETTINGS, "off")) if prefs.on
         else aside.button("reminders_on_button", callback(SETTINGS, "on")),),
    )
    aside.say("reminders_menu", rows,
              state=aside.turn.ui["reminders_on_word" if prefs.on else "reminders_off_word"],
              time=hhmm(prefs.time), zone=zone_label(prefs.zone, aside.turn.content.code),
              local=f"{wall.hour:02d}:{wall.minute:02d}",
              quiet=range_text(prefs.quiet), checkins=aside.turn.ui[f"checkins_{prefs.checkins}_word"])


def ask(aside: Aside, what: str) -> None:
    """Offer the choices for one setting (and wait for typed text for the first three)."""
    if what == "time":
        datas = [callback(SETTINGS, "time", _digits(t)) for t in TIMES]
        rows = option_rows([hhmm(t) for t in TIMES], datas, 3)
    elif what == "zone":
        labels = [z.rsplit("/", 1)[1].replace("_", " ") for z in ZONES]
        rows = option_rows(labels, [callback(SETTINGS, "zone", z) for z in ZONES], 2)
    elif what == "quiet":
        datas = [callback(SETTINGS, "quiet", f"{_digits(a)}-{_digits(b)}") for a, b in QUIETS]
        rows = option_rows([range_text(q) for q in QUIETS], datas, 2)
    else:
        labels = [aside.turn.ui[f"checkins_{c}_button"] for c in CHECKIN_CHOICES]
        rows = option_rows(labels, [callback(SETTINGS, "checkins", c) for c in CHECKIN_CHOICES], 2)
    if what in ("time", "zone", "quiet"):
        aside.start_flow("set", field=what)
    aside.say(f"ask_{what}", rows)


def on_press(aside: Aside, rest: str, press: Press) -> None:
    """A press on the menu or on one of its choices."""
    what, _, value = rest.partition(":")
    aside.end_flow()
    if what == "ask" and value in ("time", "zone", "quiet", "checkins"):
        ask(aside, value)
        return
    applied = _apply(aside, what, value)
    if not applied:
        aside.turn.old_button()
        return
    if what not in ("on", "off"):
        aside.turn.reply.edit = with_choice_mark(press.message_html, applied)
    _changed(aside)


def on_text(aside: Aside, text: str) -> bool:
    """Typed text for the setting being asked: set it, or say how to write it."""
    flow = aside.flow
    assert flow is not None
    what = str(flow.get("field"))
    if what == "time":
        minutes = parse_time(text)
        value = None if minutes is None else _digits(minutes)
    elif what == "zone":
        value = resolve_zone(text)
    else:
        quiet = parse_range(text)
        value = None if quiet is None else "-".join(_digits(q) for q in quiet)
    if value is None or not _apply(aside, what, value):
        aside.say(f"{what}_not_understood", text=text)
        return True
    aside.end_flow()
    _changed(aside)
    return True


def _apply(aside: Aside, what: str, value: str) -> str | None:
    """Save one setting; what to show as chosen, or None if the value is not valid."""
    answers = aside.p.answers
    if what == "time" and (minutes := _hhmm(value)) is not None:
        answers[TIME_KEY] = hhmm(minutes)
        return hhmm(minutes)
    if what == "zone" and valid_zone(value):
        answers[ZONE_KEY] = value
        return value
    if what == "quiet":
        start, _, end = value.partition("-")
        quiet = (_hhmm(start), _hhmm(end))
        if quiet[0] is not None and quiet[1] is not None and quiet[0] != quiet[1]:
            answers[QUIET_KEY] = f"{hhmm(quiet[0])}-{hhmm(quiet[1])}"
            return range_text((quiet[0], quiet[1]))
    if what == "checkins" and value in CHECKIN_CHOICES:
        answers[CHECKINS_KEY] = value
        first = checkin_next(aside.prefs, aside.now)
        if first is not None and aside.prefs.on:  # a new rhythm starts at the next slot
            aside.order(PlanReminder(CHECKIN, first))
        return aside.turn.ui[f"checkins_{value}_button"]
    if what in ("on", "off"):
        answers[ON_KEY] = what
        return what
    return None


def _digits(minutes: int) -> str:
    """Minutes as the 4-digit "1930" form buttons carry."""
    return hhmm(minutes).replace(":", "")


def _hhmm(value: str) -> int | None:
    """Minutes from the 4-digit "1930" form buttons carry."""
    if len(value) != 4 or not value.isdigit() or int(value[:2]) > 23 or int(value[2:]) > 59:
        return None
    return int(value[:2]) * 60 + int(value[2:])


def _changed(aside: Aside) -> None:
    """After a change: plan again, confirm, show the menu."""
    aside.order(ReplanReminders())
    aside.event("reminder_settings")
    if not aside.prefs.on:
        aside.say("reminders_turned_off")
        return
    show(aside)
