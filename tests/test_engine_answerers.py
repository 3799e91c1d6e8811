"""Who answers an input: one ordered list in the engine, crisis words before everything.

Also: the engine is the only place a turn is made, so a question shown again after a
redelivered update keeps discreet mode's private answers private; and orders that older
versions left in saved progress are carried out, not lost.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from state.contracts import (
    Command,
    Due,
    KeepCheckin,
    PlanReminder,
    Press,
    Progress,
    Reply,
    TextIn,
)
from state.curriculum.loader import load_curriculum
from state.curriculum.markup import to_plain
from state.curriculum.schema import TextStep
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.service.orders import stored_outbox
from state.store.crypto import DataCipher, DataKeyError, new_key
from state.store.progress import SqliteProgressStore
from state.store.reminders import ReminderStore
from tests.kit.walk import Chat, actions, finish, first_answer, onboard, ready_for

TESTS = Path(__file__).parent
CRISIS = "i want to kill myself"
COMMANDS = ("start", "menu", "progress", "help", "safety", "safetyplan", "discreet", "reminders",
            "checkin", "hide", "mydata", "delete", "stats", "reload", "nonsense")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("curriculum") / "c"
    shutil.copytree(TESTS / "curriculum", folder)
    shutil.copy(TESTS / "data" / "plan_module.yaml", folder / "en" / "plan.yaml")
    return Engine(load_curriculum(folder))


def said(reply: Reply | None) -> str:
    assert reply is not None
    return "\n".join(to_plain(m.html) for m in reply.messages)


def onboarded(engine: Engine, shared: str = "No") -> Progress:
    p = engine.new_progress(7, "en", 0.0)
    reply = engine.handle(p, Command("start"), 1.0)
    for step in ("Yes, let's start", "Sam", "My partner", "Alcohol", "No", "No", shared):
        if step == "Sam":
            reply = engine.handle(p, TextIn(step), 2.0)
            continue
        data = next(b.data for m in reply.messages for row in m.buttons for b in row if b.label == step)
        reply = engine.handle(p, Press(data), 2.0)
    return p


@pytest.mark.parametrize("name", COMMANDS)
def test_crisis_words_after_any_command_get_the_crisis_help(engine: Engine, name: str) -> None:
    p = onboarded(engine)
    reply = engine.handle(p, Command(name, CRISIS), 5.0)
    assert [e.kind for e in reply.events] == ["crisis"]
    assert "Are you safe right now?" in said(reply)
    assert reply.orders == [] and reply.save  # /delete asks nothing; /hide deletes nothing


@pytest.mark.parametrize("typed", [f"/delete\n{CRISIS}", f"/hide   {CRISIS}", f"/mydata\t{CRISIS}",
                                   f"/delete@craft_bot {CRISIS}"])
def test_words_on_the_line_after_a_command_are_its_argument(engine: Engine, typed: str) -> None:
    command = Command.from_text(typed)
    assert command.arg == CRISIS and command.name in ("delete", "hide", "mydata")
    reply = engine.handle(onboarded(engine), command, 5.0)
    assert "Are you safe right now?" in said(reply)


async def test_delete_with_crisis_words_shows_help_and_erases_nothing(engine: Engine, tmp_path: Path) -> None:
    store = await SqliteProgressStore(tmp_path / "bot.sqlite3").open()
    try:
        service = Conversations(engine, store, clock=lambda: 100.0)
        await service.handle(7, Command("start"), update_id=1)
        reply = await service.handle(7, Command("delete", CRISIS), update_id=2)
        assert "Are you safe right now?" in said(reply) and "Erase everything" not in said(reply)
        assert await store.load(7) is not None
    finally:
        await store.close()


async def test_privacy_commands_leave_no_progress_behind(engine: Engine, tmp_path: Path) -> None:
    store = await SqliteProgressStore(tmp_path / "bot.sqlite3").open()
    try:
        service = Conversations(engine, store, clock=lambda: 100.0)
        for name in ("hide", "mydata", "delete"):
            reply = await service.handle(9, Command(name), update_id=1)
            assert reply is not None and reply.events == [] and said(reply)
        assert await store.load(9) is None  # someone who only asked about their data is not stored
    finally:
        await store.close()


async def test_a_question_shown_again_after_a_redelivery_keeps_private_answers_private(
        engine: Engine, tmp_path: Path) -> None:
    p = onboarded(engine, shared="Yes, maybe")  # someone else may read the phone: discreet mode
    engine.handle(p, Press("m:plan"), 5.0)
    engine.handle(p, TextIn("my sister Ruth's flat on Elm Street"), 6.0)
    reply = engine.handle(p, TextIn("Ruth"), 7.0)
    assert "(kept private)" in said(reply) and "Elm Street" not in said(reply)
    p.last_update_id = 41
    store = await SqliteProgressStore(tmp_path / "bot.sqlite3").open()
    try:
        await store.save(p, [])
        service = Conversations(engine, store, clock=lambda: 100.0)
        again = await service.handle(7, Press("c:99"), update_id=41)  # delivered again after a crash
        assert "You wrote that you could go to: (kept private)" in said(again)
        assert "Elm Street" not in said(again)
    finally:
        await store.close()


async def test_orders_left_in_saved_progress_by_an_older_version_are_carried_out(
        engine: Engine, tmp_path: Path) -> None:
    p = onboarded(engine)
    p.practice["outbox"] = [
        {"do": "plan", "kind": "homework", "due": 5_000.0, "ref": "plan:x"},
        {"do": "checkin", "at": 90.0, "day": "1970-01-01", "period_days": 1, "stress": 4,
         "sober_days": 1, "rewards": 1, "loved_one_day": None},
    ]
    orders = stored_outbox(Progress.from_json(p.to_json()))
    assert orders[0] == PlanReminder("homework", 5_000.0, "plan:x")
    assert isinstance(orders[1], KeepCheckin) and orders[1].record.stress == 4
    store = await SqliteProgressStore(tmp_path / "bot.sqlite3").open()
    try:
        await store.save(p, [])
        service = Conversations(engine, store, clock=lambda: 100.0)
        await service.handle(7, Command("menu"), update_id=1)
        reminders = ReminderStore(store)
        assert [(r.kind, r.due_at) for r in await reminders.waiting(7)] == [("homework", 5_000.0)]
        assert [c.stress for c in await reminders.checkins(7, 0.0)] == [4]
        saved = await store.load(7)
        assert saved is not None and "outbox" not in saved.practice
    finally:
        await store.close()


# -- when the saved progress cannot be read -----------------------------------------------------


async def test_a_row_that_cannot_be_decrypted_still_gets_crisis_help_and_can_be_erased(
        engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await SqliteProgressStore(path, DataCipher([new_key()])).open()
    await Conversations(engine, store, clock=lambda: 100.0).handle(7, Command("start"), update_id=1)
    await store.close()
    store = await SqliteProgressStore(path, DataCipher([new_key()])).open()  # the old key is lost
    try:
        service = Conversations(engine, store, clock=lambda: 200.0)
        with pytest.raises(DataKeyError):  # an ordinary answer still fails as it did
            await service.handle(7, TextIn("hello"), update_id=2)
        assert "Are you safe right now?" in said(await service.handle(7, TextIn(CRISIS), update_id=3))
        safety = await service.handle(7, Command("safety"), update_id=4)
        assert "988" in said(safety)
        ask = await service.handle(7, Command("delete"), update_id=5)
        first = next(b.data for m in ask.messages for row in m.buttons for b in row if ":d1:" in b.data)
        again = await service.handle(7, Press(first), update_id=6)
        final = next(b.data for m in again.messages for row in m.buttons for b in row if ":d2:" in b.data)
        done = await service.handle(7, Press(final), update_id=7)
        assert "erased" in said(done)
        assert await store.load(7) is None  # erased without ever being decrypted
    finally:
        await store.close()


# -- words a crisis interrupt held --------------------------------------------------------------

HELD = "he hit me again last night and I am scared he will kill me"


def bundled() -> Engine:
    from bot.config import BUNDLED_CURRICULUM

    return Engine(load_curriculum(BUNDLED_CURRICULUM))


def press_label(chat: Chat, label: str) -> Reply:
    carriers = [*chat.last.messages, *([chat.last.edit] if chat.last.edit else [])]
    data = next(b.data for m in carriers for row in m.buttons for b in row if label in b.label)
    return chat.press(data)


def test_words_held_during_a_homework_review_go_back_to_the_review() -> None:
    chat = finish(onboard(bundled()), "orientation")
    assert chat.progress.answers.get("homework"), "orientation sets homework"
    chat.driver.now += 2 * 24 * 3600  # the check-in comes days later (never under a day)
    now = chat.driver.now
    chat.send(Due(1, "homework", now, str(chat.progress.answers.get("homework_module")), now))
    press_label(chat, "I tried it")
    assert chat.progress.practice["flow"]["name"] == "review"
    interrupted = chat.type(HELD)
    assert [e.kind for e in interrupted.events] == ["crisis"]
    press_label(chat, "safe right now")
    back = press_label(chat, "Back to where I was")
    assert "Use what I wrote" in said(back) or any("Use" in b.label for b in chat.buttons())
    press_label(chat, "Use")
    assert chat.progress.answers["homework_how"] == HELD  # the review's question, not a lesson step
    assert "held" not in chat.progress.pending


def at_the_first_free_text_step_of_triggers() -> Chat:
    chat = ready_for(onboard(bundled()), "triggers")
    chat.open("triggers")
    while not isinstance(chat.step(), TextStep):
        step = chat.step()
        assert step is not None
        chat.send(first_answer(step, actions(step, chat.progress.seq)).inputs[0])
    return chat


def test_held_words_are_kept_whole_and_an_old_keep_button_cannot_move_them() -> None:
    chat = at_the_first_free_text_step_of_triggers()
    first_step = chat.progress.step
    long_words = (HELD + " " + "and the list goes on " * 100).strip()  # over two thousand characters
    chat.type(long_words)
    press_label(chat, "safe right now")
    press_label(chat, "Back to where I was")
    keep = next(b.data for b in chat.buttons() if "Use" in b.label)
    assert chat.progress.pending["held"]["text"] == long_words  # whole, not cut
    chat.type("my own answer instead")  # answers the step, moves on
    assert chat.progress.step != first_step
    chat.press(keep)  # the old "Use what I wrote" button
    assert long_words not in [str(v) for v in chat.progress.answers.values()]
    assert "earlier step" in said(chat.last)


def test_held_words_saved_by_an_older_version_still_come_back() -> None:
    chat = at_the_first_free_text_step_of_triggers()
    step = chat.step()
    assert isinstance(step, TextStep)
    chat.progress.pending["held"] = "words from before"  # a bare string, as older versions kept
    chat.press("v:here")
    press_label(chat, "Use")
    assert chat.progress.answers[step.save] == "words from before"


async def test_a_crisis_update_delivered_again_after_a_crash_gets_the_help_again(
        engine: Engine, tmp_path: Path) -> None:
    store = await SqliteProgressStore(tmp_path / "bot.sqlite3").open()
    try:
        first = Conversations(engine, store, clock=lambda: 100.0)
        await first.handle(7, Command("start"), update_id=1)
        sent = await first.handle(7, TextIn(CRISIS), update_id=2)  # saved, then the process died
        restarted = Conversations(engine, store, clock=lambda: 130.0)
        again = await restarted.handle(7, TextIn(CRISIS), update_id=2)  # Telegram sends it again
        assert said(again) == said(sent) and "Are you safe right now?" in said(again)
        await restarted.handle(7, Command("menu"), update_id=3)
        again_later = Conversations(engine, store, clock=lambda: 160.0)
        later = await again_later.handle(7, Command("menu"), update_id=3)
        assert "Are you safe right now?" not in said(later)  # only the interrupt's own update
    finally:
        await store.close()


# -- how replies are sent when someone may read the phone ---------------------------------------


def test_discreet_mode_sends_without_sound_or_previews_and_protects_the_plan(engine: Engine) -> None:
    private = onboarded(engine)
    assert not any(m.silent for m in engine.handle(private, Command("menu"), 5.0).messages)
    shared = onboarded(engine, shared="Yes, maybe")
    reply = engine.handle(shared, Command("menu"), 5.0)
    assert reply.messages and all(m.silent and not m.previews for m in reply.messages)
    assert engine.handle(shared, Command("safetyplan"), 6.0).protect
    assert engine.handle(private, Command("mydata"), 6.0).protect
    assert not engine.handle(private, Command("help"), 6.0).protect


def test_what_hide_leaves_behind_says_nothing_about_clearing_in_discreet_mode(engine: Engine) -> None:
    private = engine.handle(onboarded(engine), Command("hide"), 5.0)
    assert "Clear history" in said(private)
    shared = engine.handle(onboarded(engine, shared="Yes, maybe"), Command("hide"), 5.0)
    assert said(shared) and all(word not in said(shared).lower() for word in ("clear", "remov", "delet"))
