"""Reminders end to end below Telegram: real engine, SQLite, conversation service and dispatcher.

The clock is simulated (`SimulatedTime`): tests move it and call `Scheduler.run_due`
themselves; the pacer sleeps in the same simulated time. Messages go to a recording
sender that can also refuse (blocked) or ask to wait (retry after), as Telegram does.
The curriculum is the sample one with the real onboarding's reminder questions added and
a `next` module that skips its homework review once the reminder's review has happened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from state.contracts import Command, Message
from tests.kit.postgres import Backend
from tests.kit.world import LA, NY, World, at, local, make_world, said


@pytest.fixture
async def world(tmp_path: Path, backend: Backend) -> AsyncIterator[World]:
    """The world on a SQLite file and on PostgreSQL (`backend`)."""
    w = await make_world(tmp_path, where=backend.url if backend.shared else None, keys_url=backend.keys_url)
    yield w
    await w.close()


# -- homework check-ins in two time zones ------------------------------------------------


async def test_homework_check_in_at_each_persons_evening_then_reviewed_once(world: World) -> None:
    anna, ben = 101, 102
    await world.onboard(anna, zone="Eastern")
    await world.onboard(ben, city="Los Angeles")
    assert "Los Angeles" in said(world.last[ben])  # the typed city became a time zone
    await world.basics(anna)
    await world.basics(ben)

    # Two days later at 19:00 on each person's clock, across the change to summer time.
    anna_due, ben_due = at(NY, "2024-03-11 19:00"), at(LA, "2024-03-11 19:00")
    assert ben_due - anna_due == 3 * 3600
    world.move(anna_due - 60)
    assert (await world.run()).sent == 0
    world.move(anna_due)
    report = await world.run()
    assert report.sent == 1 and world.sender.to(ben) == []
    (anna_sent,) = world.sender.to(anna)
    assert local(NY, anna_sent.at) == "2024-03-11 19:00"
    assert "notice one sober moment" in anna_sent.text and "Did you try it?" in anna_sent.text
    world.move(ben_due - 60)
    assert (await world.run()).sent == 0
    world.move(ben_due)
    assert (await world.run()).sent == 1
    (ben_sent,) = world.sender.to(ben)
    assert local(LA, ben_sent.at) == "2024-03-11 19:00"

    # Anna answers the review; Ben does not.
    reply = await world.press_sent(anna, "I tried it")
    assert "How did it go?" in said(reply)
    reply = await world.text(anna, "He smiled when I said it.")
    assert "What got in the way" in said(reply)
    reply = await world.press(anna, "Nothing did")
    assert "Thank you" in said(reply)
    answers = (await world.progress(anna)).answers
    assert answers["homework_tried"] == "tried" and answers["homework_how"] == "He smiled when I said it."
    assert answers["homework_reviewed"] is True

    # At the next module, Anna is not asked again; Ben gets the module's own review.
    reply = await world.press(anna, "Next steps", await world.say(anna, Command("menu")))
    assert "You already told me" in said(reply) and "Last time your homework" not in said(reply)
    reply = await world.press(ben, "Next steps", await world.say(ben, Command("menu")))
    assert "Last time your homework was: This week, notice one sober moment." in said(reply)
    # Nothing more is sent to either of them about this homework (each gets one nudge,
    # as both stopped in the middle of "Next steps").
    world.move(at(LA, "2024-03-20 12:00"))
    await world.run()
    for person in (anna, ben):
        texts = [s.text for s in world.sender.to(person)]
        assert sum("Your practice was" in t for t in texts) == 1
        assert sum("“Next steps” is waiting" in t for t in texts) == 1 and len(texts) == 2


async def test_a_module_that_reviews_the_homework_cancels_the_reminder(world: World) -> None:
    await world.onboard(7)
    await world.basics(7)
    assert [r.kind for r in await world.waiting(7)] == ["homework"]
    world.move(at(NY, "2024-03-10 20:00"))  # a day later, before the check-in was due
    reply = await world.press(7, "Next: Next steps")
    assert "Last time your homework was" in said(reply)
    assert await world.waiting(7) == []  # only the nudge, kept on their row until it is due
    planned = await world.reminders.planned_nudge(7)
    assert planned is not None and local(NY, planned[0]) == "2024-03-13 19:00"
    assert (await world.progress(7)).answers["homework_reviewed"] is True
    world.move(at(NY, "2024-03-13 12:00"))
    await world.run()
    assert world.sender.to(7) == []  # the nudge comes three days after they stopped, not before


# -- quiet hours ---------------------------------------------------------------------------


async def test_a_time_in_quiet_hours_moves_to_their_end(world: World) -> None:
    await world.onboard(8)
    await world.say(8, Command("reminders"))
    await world.press(8, "Time")
    reply = await world.text(8, "10:30 pm")
    assert "Time: 22:30" in said(reply) and "Quiet hours: 21:00–09:00" in said(reply)
    await world.basics(8)
    world.move(at(NY, "2024-03-11 22:30"))
    assert (await world.run()).sent == 0
    world.move(at(NY, "2024-03-12 08:59"))
    assert (await world.run()).sent == 0
    world.move(at(NY, "2024-03-12 09:00"))
    assert (await world.run()).sent == 1


async def test_a_reminder_found_late_at_night_waits_for_morning(world: World) -> None:
    await world.onboard(9)
    await world.basics(9)
    world.move(at(NY, "2024-03-11 23:40"))  # the bot was down at 19:00
    report = await world.run()
    assert report.sent == 0 and report.deferred == 1
    assert [local(NY, r.due_at) for r in await world.waiting(9)] == ["2024-03-12 09:00"]
    world.move(at(NY, "2024-03-12 09:00"))
    assert (await world.run()).sent == 1


async def test_own_quiet_hours_are_honoured(world: World) -> None:
    await world.onboard(10, time="Morning (9:00)")
    await world.say(10, Command("reminders"))
    await world.press(10, "Quiet hours")
    reply = await world.text(10, "8pm-10am")
    assert "Quiet hours: 20:00–10:00" in said(reply)
    await world.basics(10)
    assert [local(NY, r.due_at) for r in await world.waiting(10)] == ["2024-03-11 10:00"]


# -- snooze, off ---------------------------------------------------------------------------


async def test_snoozing_from_the_reminder_itself(world: World) -> None:
    await world.onboard(11, time="Midday (12:30)")
    await world.basics(11)
    world.move(at(NY, "2024-03-11 12:30"))
    assert (await world.run()).sent == 1
    reply = await world.press_sent(11, "Later today")
    assert "again at 15:30" in said(reply)
    again = await world.press_sent(11, "Tomorrow")  # the same reminder's buttons work once
    assert "earlier step" in said(again)
    world.move(at(NY, "2024-03-11 15:29"))
    assert (await world.run()).sent == 0
    world.move(at(NY, "2024-03-11 15:30"))
    assert (await world.run()).sent == 1
    reply = await world.press_sent(11, "Tomorrow")
    assert "tomorrow at 12:30" in said(reply)
    world.move(at(NY, "2024-03-12 12:30"))
    assert (await world.run()).sent == 1
    assert len(world.sender.to(11)) == 3


async def test_turning_reminders_off_and_on(world: World) -> None:
    await world.onboard(12)
    await world.basics(12)
    await world.say(12, Command("reminders"))
    reply = await world.press(12, "Turn reminders off")
    assert "Reminders are off" in said(reply)
    assert await world.waiting(12) == []
    world.move(at(NY, "2024-03-12 18:00"))
    assert (await world.run()).claimed == 0
    await world.say(12, Command("reminders"))
    await world.press(12, "Turn reminders on")
    (waiting,) = await world.waiting(12)
    assert waiting.kind == "homework" and local(NY, waiting.due_at) == "2024-03-12 19:00"


async def test_no_reminders_chosen_at_onboarding(world: World) -> None:
    await world.onboard(13, time="No reminders")
    await world.basics(13)
    world.move(at(NY, "2024-03-20 19:00"))
    assert (await world.run()).claimed == 0
    assert world.sender.to(13) == []


# -- restarts and crashes ------------------------------------------------------------------


async def test_a_restart_between_planning_and_sending_loses_nothing(world: World) -> None:
    await world.onboard(14)
    await world.basics(14)
    assert await world.restart() == 0
    world.move(at(NY, "2024-03-11 19:00"))
    assert (await world.run()).sent == 1
    assert await world.restart() == 0
    world.move(at(NY, "2024-03-12 19:00"))
    assert (await world.run()).claimed == 0
    assert len(world.sender.to(14)) == 1


async def test_a_crash_after_the_claim_sends_it_again_once(world: World) -> None:
    await world.onboard(15)
    await world.basics(15)
    world.move(at(NY, "2024-03-11 19:00"))
    assert len(await world.reminders.claim_due(world.time.now(), 10)) == 1  # then the process dies
    assert await world.restart() == 1
    assert (await world.run()).sent == 1
    assert len(world.sender.to(15)) == 1


async def test_a_crash_between_send_and_mark_gives_at_most_one_duplicate(world: World) -> None:
    await world.onboard(16)
    await world.basics(16)
    world.move(at(NY, "2024-03-11 19:00"))

    class Crash(BaseException):
        pass

    original = world.sender.send

    async def send_then_die(chat_id: int, message: Message) -> None:
        await original(chat_id, message)
        raise Crash  # Telegram has the message; the mark never happens

    world.sender.send = send_then_die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await world.run()
    world.sender.send = original  # type: ignore[method-assign]
    assert await world.restart() == 1
    assert (await world.run()).sent == 1
    await world.run()
    assert len(world.sender.to(16)) == 2  # never lost; one duplicate at most


# -- Telegram refusing -------------------------------------------------------------------------


async def test_a_user_who_blocked_the_bot_is_not_retried(world: World) -> None:
    await world.onboard(17)
    await world.say(17, Command("reminders"))
    await world.press(17, "Check-ins")
    await world.press(17, "Every day")
    await world.basics(17)
    world.sender.blocked.add(17)
    world.move(at(NY, "2024-03-09 19:00"))  # the first daily check-in
    report = await world.run()
    assert report.unreachable == 1 and report.sent == 0
    statuses = {r.kind: r.status for r in await world.reminders.all_for(17)}
    assert statuses == {"checkin": "failed", "homework": "cancelled"}
    assert await world.reminders.planned_nudge(17) is None  # their nudge is dropped too
    for day in ("2024-03-10", "2024-03-11", "2024-03-12"):
        world.move(at(NY, f"{day} 19:00"))
        assert (await world.run()).claimed == 0
    assert world.sender.attempts[17] == 1
    # They unblock and write again: reachable, and planned again.
    world.sender.blocked.clear()
    await world.say(17, Command("menu"))
    assert {r.kind for r in await world.waiting(17)} == {"checkin", "homework"}


async def test_retry_after_is_waited_out(world: World) -> None:
    await world.onboard(18)
    await world.basics(18)
    due = at(NY, "2024-03-11 19:00")
    world.move(due)
    world.sender.floods[18] = [30.0]
    report = await world.run()
    assert report.sent == 1 and report.retries == 1 and report.waited == 30.0
    (sent,) = world.sender.to(18)
    assert sent.at >= due + 30.0
    assert world.sender.attempts[18] == 2


async def test_a_long_flood_puts_the_reminder_back_without_losing_it(world: World) -> None:
    await world.onboard(19)
    await world.basics(19)
    world.move(at(NY, "2024-03-11 19:00"))
    world.sender.floods[19] = [5.0] * (world.scheduler.max_retries + 1)
    report = await world.run()
    assert report.released == 1 and report.sent == 0
    (waiting,) = await world.waiting(19)
    assert waiting.due_at >= world.time.now()
    world.move(waiting.due_at)
    assert (await world.run()).sent == 1


# -- check-ins, the nudge, after the last module -----------------------------------------


async def test_daily_check_ins_follow_each_other_and_are_kept(world: World) -> None:
    await world.onboard(20)
    await world.say(20, Command("reminders"))
    await world.press(20, "Check-ins")
    await world.press(20, "Every day")
    for day in ("2024-03-09", "2024-03-10", "2024-03-11"):
        world.move(at(NY, f"{day} 19:00"))
        assert (await world.run()).sent == 1
        latest = world.sender.to(20)[-1]
        assert local(NY, latest.at) == f"{day} 19:00" and "How stressed" in latest.text
    await world.press_sent(20, "6")
    await world.press(20, "Yes")
    await world.press(20, "Yes")
    reply = await world.press(20, "Did not use")
    assert "check-in is saved" in said(reply)
    (record,) = await world.reminders.checkins(20, 0)
    assert (record.stress, record.sober_days, record.rewards, record.loved_one_day) == (6, 1, 1, "not_used")
    assert record.day == "2024-03-11"


async def test_one_gentle_nudge_then_silence(world: World) -> None:
    await world.onboard(21)
    await world.press(21, "Next: Basics")
    await world.press(21, "Ready")  # and then they stop, in the middle of the module
    world.move(at(NY, "2024-03-12 19:00"))
    assert (await world.run()).sent == 1
    (nudge,) = world.sender.to(21)
    assert "“Basics” is waiting where you left off" in nudge.text
    for day in ("2024-03-15", "2024-03-22", "2024-04-09"):
        world.move(at(NY, f"{day} 19:00"))
        await world.run()
    assert len(world.sender.to(21)) == 1
    reply = await world.press_sent(21, "Continue")
    assert "How stressed are you today?" in said(reply)


async def test_a_nudge_held_up_by_telegram_is_dropped_once_they_write_again(world: World) -> None:
    await world.onboard(23)
    await world.press(23, "Next: Basics")
    await world.press(23, "Ready")
    world.move(at(NY, "2024-03-12 19:00"))
    world.sender.floods[23] = [5.0] * (world.scheduler.max_retries + 1)
    assert (await world.run()).released == 1  # Telegram is busy: the nudge waits
    await world.say(23, Command("help"))  # meanwhile they are back, on the same step
    (waiting,) = await world.waiting(23)
    world.move(waiting.due_at)
    report = await world.run()
    assert report.skipped == 1 and report.sent == 0
    assert [s.text for s in world.sender.to(23)] == []


async def test_monthly_check_ins_after_the_last_module_until_turned_off(world: World) -> None:
    await world.onboard(22)
    await world.basics(22)
    world.move(at(NY, "2024-03-10 20:00"))  # a day on: the module looks back on the homework
    await world.press(22, "Next: Next steps")
    await world.press(22, "Yes")
    assert (await world.progress(22)).answers["checkin_every"] == "monthly"
    last_active = (await world.progress(22)).updated_at
    for month in ("2024-04-09", "2024-05-09"):
        world.move(at(NY, f"{month} 19:00"))
        assert (await world.run()).sent == 1
        assert "It's been a month" in world.sender.to(22)[-1].text
    # a reminder is not activity: retention still counts from the person's last message
    assert (await world.progress(22)).updated_at == last_active
    reply = await world.press_sent(22, "No more check-ins")
    assert "no more check-ins" in said(reply)
    world.move(at(NY, "2024-09-01 19:00"))
    assert (await world.run()).claimed == 0


async def test_discreet_mode_keeps_the_first_line_neutral(world: World) -> None:
    await world.say(23, Command("start"))
    await world.press(23, "Yes, let's start")
    await world.text(23, "Sam")
    for label in ("My partner", "Alcohol", "No", "No", "Yes, maybe", "Evening (19:00)", "Eastern"):
        await world.press(23, label)
    await world.basics(23)
    world.move(at(NY, "2024-03-11 19:00"))
    await world.run()
    (sent,) = world.sender.to(23)
    first_line = sent.text.splitlines()[0]
    assert "sober" not in sent.text and "Sam" not in sent.text
    assert first_line == world.engine.curriculum.content("en").locale.discreet.neutral["homework"]  # type: ignore[union-attr]
