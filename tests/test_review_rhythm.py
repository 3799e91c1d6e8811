"""The homework rhythm that listens: real engine, SQLite and dispatcher, simulated time.

Homework is looked back on only once it is a day old; reopening a finished module does not
use up the review; "tried" is praised and tied to the module; "went well" is tied to
rewarding sober time; "not yet" and "went badly" lead to a short problem-solving pass; two
setbacks in a row offer people; between modules, resuming offers the next module first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from state.contracts import Command
from tests.kit.world import NY, World, at, local, make_world, said


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path)
    yield w
    await w.close()


async def test_a_module_opened_the_same_day_does_not_ask_about_the_homework(world: World) -> None:
    await world.onboard(1)
    await world.basics(1)
    world.move(world.time.now() + 3600)  # an hour later: far too soon for "how did it go?"
    reply = await world.press(1, "Next: Next steps")
    assert "Last time your homework" not in said(reply) and "Ready for more?" in said(reply)
    answers = (await world.progress(1)).answers
    assert not answers.get("homework_reviewed") and "homework_review_later" not in answers
    assert [r.kind for r in await world.waiting(1)] == ["homework"]  # the check-in still comes
    world.move(at(NY, "2024-03-11 19:00"))
    assert (await world.run()).sent == 1
    assert "Did you try it?" in world.sender.to(1)[-1].text


async def test_reopening_a_finished_module_keeps_the_review_for_later(world: World) -> None:
    await world.onboard(2)
    await world.basics(2)
    world.move(at(NY, "2024-03-10 20:00"))
    await world.press(2, "Next: Next steps")
    await world.press(2, "Yes")  # Next steps finished, the first homework reviewed
    await world.basics(2)  # Basics again: new homework
    world.move(at(NY, "2024-03-12 09:30"))  # a day and more later
    reply = await world.press(2, "Next steps", await world.say(2, Command("menu")))
    assert "Last time your homework" not in said(reply)
    assert not (await world.progress(2)).answers.get("homework_reviewed")
    assert "homework" in [r.kind for r in await world.waiting(2)]  # (and the monthly check-in)


async def test_a_try_that_went_well_is_celebrated_and_tied_to_rewards(world: World) -> None:
    await world.onboard(3)
    await world.basics(3)
    world.move(at(NY, "2024-03-11 19:00"))
    await world.run()
    reply = await world.press_sent(3, "I tried it")
    assert "That is the skill itself" in said(reply) and "“Basics”" in said(reply)
    reply = await world.press(3, "It went well")
    assert "worth celebrating" in said(reply) and "reward it soon" in said(reply)
    reply = await world.text(3, "He helped in the garden for an hour.")
    assert "Thank you" in said(reply)
    answers = (await world.progress(3)).answers
    assert answers["homework_outcome"] == "well" and answers["homework_reviewed"] is True
    assert answers["homework_how"] == "He helped in the garden for an hour."


async def test_not_yet_leads_to_problem_solving_and_setbacks_offer_people(world: World) -> None:
    await world.onboard(4)
    await world.basics(4)
    world.move(at(NY, "2024-03-11 19:00"))
    await world.run()
    reply = await world.press_sent(4, "Not yet")
    assert "three short steps" in said(reply) and "What got in the way?" in said(reply)
    assert "Some weeks are hard" not in said(reply)
    reply = await world.text(4, "He was never home in the evening.")
    assert "one small change" in said(reply)
    reply = await world.text(4, "Try at breakfast on Sunday.")
    assert "When will you try again?" in said(reply)
    reply = await world.press(4, "This week")
    assert "That's problem solving" in said(reply) and "A person on your side" not in said(reply)
    answers = (await world.progress(4)).answers
    assert answers["homework_plan"] == "Try at breakfast on Sunday."
    assert answers["homework_plan_when"] == "week" and answers["homework_setbacks"] == 1
    # the homework stays open for the new try, and its check-in comes again in four days
    assert not answers.get("homework_reviewed")
    (again,) = await world.waiting(4)
    assert again.kind == "homework" and local(NY, again.due_at) == "2024-03-15 19:00"

    # A second setback in a row: the review offers people (from the configuration's `people:`).
    await world.basics(4)  # (new homework replaces the old)
    world.move(at(NY, "2024-03-14 19:00"))
    await world.run()
    await world.press_sent(4, "I tried it")
    await world.press(4, "It went badly")
    await world.press(4, "Skip")
    await world.press(4, "Skip")
    reply = await world.press(4, "Not sure yet")
    assert "A person on your side" in said(reply) and "robertjmeyersphd.com" in said(reply)
    assert "al-anon.org" in said(reply)


async def test_resuming_between_modules_offers_the_next_module_not_the_first(world: World) -> None:
    await world.onboard(5)
    await world.basics(5)
    reply = await world.say(5, Command("start"))
    assert "Next up: “Next steps”" in said(reply)
    labels = [b.label for m in reply.messages for row in m.buttons for b in row]
    assert labels[0] == "Next: Next steps" and "Basics" not in " ".join(labels)
    reply = await world.text(5, "1")  # typed, not pressed: still the next module on offer
    assert "Next up: “Next steps”" in said(reply)


async def test_the_monthly_check_in_rates_life_again(world: World) -> None:
    await world.onboard(6)
    await world.basics(6)
    world.move(at(NY, "2024-03-10 20:00"))
    await world.press(6, "Next: Next steps")
    await world.press(6, "Yes")  # the last module: check-ins go on monthly
    assert (await world.progress(6)).answers["checkin_every"] == "monthly"
    await world.say(6, Command("checkin"))
    await world.press(6, "4")  # stress
    await world.press(6, "2")  # sober days
    await world.press(6, "1")  # rewards
    reply = await world.press(6, "Did not use")
    assert "how happy are you with your life right now?" in said(reply)
    reply = await world.text(6, "6")
    assert "Your check-in is saved" in said(reply)
    assert (await world.progress(6)).answers["self_care_overall_again"] == 6


async def test_a_self_care_review_ends_by_rating_life_again(world: World) -> None:
    await world.onboard(8)
    await world.basics(8)
    progress = await world.progress(8)  # as if the homework came from "Your own life"
    progress.answers.update(homework_module="self_care", self_care_overall=3)
    await world.store.save(progress, [])
    world.move(at(NY, "2024-03-11 19:00"))
    await world.run()
    await world.press_sent(8, "I tried it")
    await world.press(8, "Mixed")
    reply = await world.press(8, "Nothing did")
    assert "how happy are you with your life right now?" in said(reply)
    assert not (await world.progress(8)).answers.get("homework_reviewed")
    reply = await world.press(8, "5")
    assert "you chose 3. Today it's 5." in said(reply) and "Thank you" in said(reply)
    answers = (await world.progress(8)).answers
    assert answers["self_care_overall_again"] == 5 and answers["homework_reviewed"] is True
