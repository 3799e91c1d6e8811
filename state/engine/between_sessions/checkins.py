"""The short check-in and what it adds up to.

A check-in asks four things, one tap each: the person's stress (1-10); whether they
noticed sober time (daily: yes / no / didn't see them; weekly or monthly: on how many of
the last seven days); if so, whether they rewarded it (daily: yes / no; otherwise: how
many times); and the loved one's day (used / did not use / don't know). The answers go
to the `checkins` table (through the outbox, see
`state.engine.between_sessions.sideflow`) and the latest ones to the
person's answers as `checkin_*`, where a curriculum branch can use them.

`weekly` adds check-ins up by calendar week (Monday first) for the /progress chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from state.contracts import Button, CheckinRecord, KeepCheckin
from state.engine.between_sessions.review import rerated
from state.engine.between_sessions.sideflow import Aside
from state.engine.between_sessions.timezones import local_day
from state.engine.callbacks import SIDE_FLOW, callback
from state.engine.step_view import option_rows

HIGH_STRESS = 8


def _numbers(low: int, high: int) -> list[tuple[str, str]]:
    return [(str(n), str(n)) for n in range(low, high + 1)]


def options(aside: Aside, stage: str, period: int) -> list[tuple[str, str]]:
    """(label, value) of each answer to one question of the check-in."""
    ui = aside.turn.ui
    if stage in ("stress", "happy"):
        return _numbers(1, 10)
    if stage == "sober":
        if period == 1:
            return [(ui["checkin_yes_button"], "1"), (ui["checkin_no_button"], "0"),
                    (ui["checkin_not_seen_button"], "x")]
        return _numbers(0, 7)
    if stage == "reward":
        if period == 1:
            return [(ui["checkin_yes_button"], "1"), (ui["checkin_not_this_time_button"], "0")]
        return _numbers(0, 7)
    return [(ui["checkin_used_button"], "used"), (ui["checkin_not_used_button"], "not_used"),
            (ui["checkin_unknown_button"], "unknown")]


def question_key(stage: str, period: int) -> str:
    """The ui text asking one question of the check-in."""
    if stage in ("sober", "reward"):
        return f"checkin_{stage}_{'daily' if period == 1 else 'weekly'}"
    if stage == "happy":
        return "happiness_rerate"
    return f"checkin_{stage}"


def stress_rows(prefix: str) -> tuple[tuple[Button, ...], ...]:
    """The 1-10 stress buttons in two rows of five, with callback data `prefix` + number."""
    return option_rows([str(n) for n in range(1, 11)], [f"{prefix}{n}" for n in range(1, 11)], 5)


def start(aside: Aside, period: int, stress: int | None = None) -> None:
    """Begin a check-in (at the stress question, or after it when a reminder's button gave it)."""
    flow = aside.start_flow("checkin", period=period, stage="stress")
    if stress is not None:
        flow["stress"] = stress
        flow["stage"] = "sober"
    ask(aside)


def ask(aside: Aside) -> None:
    """Show the check-in's current question with its buttons."""
    flow = aside.flow
    assert flow is not None
    stage, period = str(flow["stage"]), int(flow["period"])
    pairs = options(aside, stage, period)
    token = flow["token"]
    per_row = 5 if stage in ("stress", "happy") else (4 if len(pairs) > 3 else len(pairs))
    datas = [callback(SIDE_FLOW, token, value) for _, value in pairs]
    rows = option_rows([label for label, _ in pairs], datas,
                       per_row)
    aside.say(question_key(stage, period), rows)


def typed(aside: Aside, text: str) -> str | None:
    """The answer a typed text gives to the current question: a label or a number."""
    flow = aside.flow
    assert flow is not None
    pairs = options(aside, str(flow["stage"]), int(flow["period"]))
    wanted = text.strip().casefold()
    for label, value in pairs:
        if label.strip().casefold() == wanted:
            return value
    if wanted.isdigit() and not pairs[0][0].isdigit() and 1 <= int(wanted) <= len(pairs):
        return pairs[int(wanted) - 1][1]
    return None


def answer(aside: Aside, value: str) -> bool:
    """Take one answer; ask the next question or finish. False if the value does not fit."""
    flow = aside.flow
    assert flow is not None
    stage, period = str(flow["stage"]), int(flow["period"])
    if value not in {v for _, v in options(aside, stage, period)}:
        return False
    if stage == "day" and aside.prefs.checkins == "monthly" and not flow.get("happy"):
        flow["day"] = value
        flow["stage"] = "happy"  # once a month: the happiness scale again (self-care, CRAFT 9)
        ask(aside)
        return True
    if stage in ("day", "happy"):
        flow[stage] = value
        finish(aside)
        return True
    flow[stage] = None if value == "x" else int(value)
    if stage == "stress":
        flow["stage"] = "sober"
    elif stage == "sober":
        flow["stage"] = "reward" if flow["sober"] else "day"
    else:
        flow["stage"] = "day"
    ask(aside)
    return True


def finish(aside: Aside) -> None:
    """Keep the check-in, thank the person, and say one word that fits their answers."""
    flow = aside.flow
    assert flow is not None
    sober = flow.get("sober")
    record = CheckinRecord(
        at=aside.now, day=local_day(aside.now, aside.prefs.zone).isoformat(),
        period_days=int(flow["period"]), stress=flow.get("stress"), sober_days=sober,
        rewards=flow.get("reward") if sober else None, loved_one_day=flow.get("day"))
    aside.end_flow()
    answers = aside.p.answers
    answers.update({"checkin_at": record.at, "checkin_stress": record.stress,
                    "checkin_sober_days": record.sober_days, "checkin_rewards": record.rewards,
                    "checkin_loved_one_day": record.loved_one_day})
    aside.order(KeepCheckin(record))
    aside.event("checkin_done")
    if flow.get("happy"):
        rerated(aside, int(flow["happy"]))
    if record.sober_days and record.rewards:
        aside.say("checkin_praise")
    if record.stress is not None and record.stress >= HIGH_STRESS:
        aside.say("checkin_high_stress")
    aside.turn.say_ui("checkin_done", here_button=True)


# -- adding up ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """The check-ins of one calendar week, added up."""

    start: date
    checkins: int
    stress: float | None  # the average, None without a stress answer
    sober_days: int
    rewards: int


def weekly(records: list[CheckinRecord], today: date, weeks: int = 8) -> list[Week]:
    """The last `weeks` calendar weeks up to `today`, oldest first, empty weeks included."""
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    out: list[Week] = []
    for i in range(weeks):
        start = first + timedelta(weeks=i)
        inside = [r for r in records if start <= date.fromisoformat(r.day) < start + timedelta(days=7)]
        stresses = [r.stress for r in inside if r.stress is not None]
        out.append(Week(
            start=start, checkins=len(inside),
            stress=round(sum(stresses) / len(stresses), 1) if stresses else None,
            sober_days=min(7, sum(r.sober_days or 0 for r in inside)),
            rewards=sum(r.rewards or 0 for r in inside)))
    return out
