"""Fuzzing: random sequences of updates from several people never break the bot.

Hypothesis writes the sequences: text of any kind and length, commands known and unknown,
presses on the buttons just shown, on old ones and forged ones, stickers, edits, and
updates delivered twice. Two targets:

- the engine and a real SQLite store (`Conversations`, as the bot uses them), many cases;
- the real bot (in this process) against the fake Bot API, fewer cases.

Always: no unhandled exception, every update answered (a duplicate stays silent), and each
person's saved progress is a real place in the curriculum.

CI keeps the numbers small; by hand:
    CRAFTBOT_FUZZ_EXAMPLES=2000 CRAFTBOT_FUZZ_BOT_EXAMPLES=200 .venv/bin/pytest tests/test_fuzz.py
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ptb.privacy import data_cipher
from state.contracts import Command, Input, Other, Press, Progress, Reply, TextIn
from state.curriculum.loader import load_curriculum
from state.curriculum.schema import ChecklistStep, ChoiceStep, MessageStep, QuizStep, ScaleStep, TextStep
from state.engine import data_rights
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.store.crypto import unseal
from state.store.progress import SqliteProgressStore
from tests.kit.botapi_serve import WatchedBotApi
from tests.kit.bots import InProcessBot
from tests.kit.curricula import REPO, SAMPLE

EXAMPLES = int(os.environ.get("CRAFTBOT_FUZZ_EXAMPLES", "60"))
BOT_EXAMPLES = int(os.environ.get("CRAFTBOT_FUZZ_BOT_EXAMPLES", "6"))
PEOPLE = 3
PROFILE = {"consent": "yes", "loved_one": "Sam", "relationship": "partner", "substance": "alcohol",
           "safety_fear": "no", "safety_weapons": "no", "shared_phone": "no"}
COMMANDS = ["start", "menu", "progress", "help", "safety", "hide", "mydata", "delete", "nonsense",
            "START", "start@craftbot_test_bot"]
FORGED = ["o:1:0", "o:999:0", "o:-1:1", "t:3:x", "d:", "c:0", "m:", "m:nope", "m:onboarding",
          "v:menu", "v:here", "v:elsewhere", "p:keep", "p:d1:0", "p:d2:99999999999", "p:zz", ":", ""]

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["7", "0", "11", "1", "Yes, let's start", "evenings after work", "  ", "I want to die",
                     "he has a gun", "😀" * 3, "<b>bold</b> & <i>", "/", "/start now"]),
    st.builds(lambda ch, n: ch * n, st.characters(), st.integers(3000, 5000)),  # very long text
)
press = st.tuples(st.just("press"), st.integers(0, 40))  # the buttons just shown: most of the time
actions = st.one_of(
    press, press, press, press, press, press, press, press,
    st.tuples(st.just("text"), texts),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS), st.text(max_size=10)),
    st.tuples(st.just("old"), st.integers(0, 400)),
    st.tuples(st.just("forged"), st.one_of(st.sampled_from(FORGED), st.text(max_size=64))),
    st.tuples(st.just("sticker")),
    st.tuples(st.just("edit"), texts),
    st.tuples(st.just("duplicate"), st.integers(0, 400)),
)
scripts = st.lists(st.tuples(st.integers(0, PEOPLE - 1), actions), min_size=30, max_size=120)


@cache
def engine(root: Path) -> Engine:
    """One engine per curriculum for the whole run (loading takes a moment)."""
    return Engine(load_curriculum(root))


def assert_valid_place(progress: Progress, engine: Engine) -> None:
    """The progress points at a real step (or the menu), in a locale the curriculum has."""
    content = engine.curriculum.content(progress.locale)
    assert progress.locale == content.code
    assert (progress.module is None) == (progress.step is None), progress
    if progress.module is not None:
        assert progress.step is not None
        assert content.step(progress.module, progress.step) is not None, progress
    for module, step in progress.positions.items():
        assert content.step(module, step) is not None, (module, step)
    assert set(progress.completed) <= set(content.modules)
    assert progress.seq >= 0


def buttons_of(reply: Reply) -> list[str]:
    """The callback data of every button a reply shows (on new messages and on the edit)."""
    shown = [*reply.messages, *([reply.edit] if reply.edit else [])]
    return [b.data for m in shown for row in m.buttons for b in row]


def answered(reply: Reply | None) -> bool:
    """Whether a person would notice an answer: a message, an edit, a toast or a file."""
    return reply is not None and bool(reply.messages or reply.edit or reply.toast or reply.documents)


@dataclass
class Person:
    """What one simulated person has seen and sent."""

    user_id: int
    current: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    updates: list[tuple[int, Input]] = field(default_factory=list)
    erased_at: int = 0


def to_input(action: tuple[Any, ...], person: Person) -> Input | None:
    """The engine input for an action (None for a duplicate, handled by the caller)."""
    kind = action[0]
    if kind == "text":
        return TextIn(action[1])
    if kind == "command":
        return Command(action[1].split("@")[0].lower(), action[2].strip())
    if kind == "press":  # what was just asked: a button when there are some, else an answer
        return Press(person.current[action[1] % len(person.current)], "the pressed message") \
            if person.current else TextIn("I will take a short walk after dinner.")
    if kind == "old":
        return Press(person.seen[action[1] % len(person.seen)], None) if person.seen else Press("o:0:0")
    if kind == "forged":
        return Press(action[1], "a message")
    if kind == "sticker":
        return Other("media", "")
    if kind == "edit":
        return Other("edit", action[1])
    return None


def waiting_steps(the_engine: Engine) -> list[tuple[str, str]]:
    """Every step where a person waits for input, as (module id, step id)."""
    content = the_engine.curriculum.content(None)
    return [(m.id, s.id) for m in content.modules.values() for s in m.steps
            if isinstance(s, ChoiceStep | QuizStep | ScaleStep | ChecklistStep | TextStep)
            or (isinstance(s, MessageStep) and s.button)]


async def place_people(store: SqliteProgressStore, the_engine: Engine, people: list[Person],
                       starts: list[int]) -> None:
    """Put people at drawn places of the curriculum (onboarded), or leave them new (-1)."""
    steps = waiting_steps(the_engine)
    for person, start in zip(people, starts, strict=True):
        if start >= 0:
            module, step = steps[start % len(steps)]
            progress = the_engine.new_progress(person.user_id, "en", 1.0)
            progress.module, progress.step, progress.seq = module, step, 1 + start % 7
            progress.positions[module] = step
            progress.answers.update(PROFILE)
            progress.completed[the_engine.curriculum.content(None).onboarding.id] = 1.0
            await store.save(progress, [])


async def play_through_engine(root: Path, script: list[tuple[int, tuple[Any, ...]]],
                              starts: list[int] | None = None) -> None:
    the_engine = engine(root)
    clock = [1_700_000_000.0]
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteProgressStore(Path(tmp) / "fuzz.sqlite3").open()
        try:
            conversations = Conversations(the_engine, store, clock=lambda: clock[0])
            people = [Person(100 + i) for i in range(PEOPLE)]
            await place_people(store, the_engine, people, starts or [-1] * PEOPLE)
            next_id = 1
            for who, action in [(i, ("command", "start", "")) for i in range(PEOPLE)] + script:
                person = people[who]
                clock[0] += 7.0
                if action[0] == "duplicate":
                    if not person.updates:
                        continue
                    update_id, message = person.updates[action[1] % len(person.updates)]
                    again = await conversations.handle(person.user_id, message, update_id=update_id)
                    # Privacy commands are not saved steps, and after /delete nothing is kept to
                    # recognise anyone's old updates by (by design: no trace of the person).
                    if not data_rights.wants(message) and update_id > person.erased_at:
                        assert again is None, f"update {update_id} ({message}) was processed twice"
                    if again is not None:
                        await conversations.replied(person.user_id, again)
                    continue
                message = to_input(action, person)
                assert message is not None
                reply = await conversations.handle(person.user_id, message, update_id=next_id,
                                                   language="en")
                assert answered(reply), f"no answer to {message}"
                assert reply is not None
                await conversations.replied(person.user_id, reply)  # sent whole: recorded done
                person.updates.append((next_id, message))
                next_id += 1
                if reply.messages:  # a tick only edits the checklist: its buttons stay current
                    person.current = buttons_of(reply)
                elif reply.edit is not None:
                    person.current = buttons_of(reply) or person.current
                person.seen.extend(buttons_of(reply))
                progress = await store.load(person.user_id)
                if progress is None:  # only after /delete
                    person.erased_at = next_id - 1
                else:
                    assert_valid_place(progress, the_engine)
                    assert progress.last_update_id < next_id
        finally:
            await store.close()


@pytest.mark.parametrize("root", [SAMPLE, REPO / "curriculum"], ids=["sample", "bundled"])
def test_random_updates_through_engine_and_store(root: Path) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(script=scripts, starts=st.lists(st.integers(-1, 10_000), min_size=PEOPLE, max_size=PEOPLE))
    def run(script: list[tuple[int, tuple[Any, ...]]], starts: list[int]) -> None:
        asyncio.run(play_through_engine(root, script, starts))

    run()


# ----- the real bot, in this process --------------------------------------------------------------

@dataclass
class Live:
    """The fake Bot API and the bot, shared by all cases of the bot fuzz."""

    server: WatchedBotApi
    bot: InProcessBot
    next_user: int = 9000


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with WatchedBotApi() as server:
        bot = InProcessBot(server, tmp_path_factory.mktemp("fuzzbot")).start()
        try:
            yield Live(server, bot)
        finally:
            bot.stop()


def saved_progress(database: Path, user_id: int) -> Progress | None:
    """A person's progress as the running bot saved it (read-only, never blocking it)."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT data FROM users WHERE user_id = ?", (user_id,)).fetchall()
    finally:
        db.close()
    return Progress.from_json(json.loads(unseal(data_cipher(), rows[0][0]))) if rows else None


def bot_messages(server: WatchedBotApi, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in server.messages.get(chat_id, []) if m.get("from", {}).get("is_bot")]


QUERY_IDS = itertools.count(1)


def send(server: WatchedBotApi, user_id: int, action: tuple[Any, ...],
         typed: list[dict[str, Any]]) -> tuple[str, Any]:
    """Inject one action as Telegram would deliver it; return how to recognise its answer."""
    kind = action[0]
    keyboards = [m for m in bot_messages(server, user_id) if m.get("reply_markup")]
    if kind in ("text", "edit"):
        text = action[1].strip(" \n")[:4096] or "hello"
        if kind == "edit" and typed:
            return "message", server.inject_edited_message(user_id, typed[-1]["message_id"], text)
        update = server.inject_message(user_id, text)
        typed.append(update["message"])
        return "message", update
    if kind == "command":
        return "message", server.inject_message(user_id, f"/{action[1]} {action[2]}".strip())
    if kind == "sticker":
        return "message", server.inject_sticker(user_id)
    if kind == "press" and keyboards:
        message = keyboards[-1]
        datas = [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
        return "query", server.inject_callback(user_id, message["message_id"], datas[action[1] % len(datas)])
    if kind == "duplicate":
        return "duplicate", None
    # an old or forged press: Telegram delivers whatever data the client sends
    message = copy.deepcopy(keyboards[action[1] % len(keyboards)]) if kind == "old" and keyboards else None
    data = action[1] if kind == "forged" else "o:0:0"
    query: dict[str, Any] = {"id": f"fuzz{next(QUERY_IDS)}",
                             "from": {"id": user_id, "is_bot": False, "first_name": "Test"},
                             "chat_instance": "1", "data": data[:64] or "x"}
    if message is not None:
        query["message"] = message
    return "query", server.inject_raw({"callback_query": query})


@settings(max_examples=BOT_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(script=st.lists(st.tuples(st.integers(0, PEOPLE - 1), actions), min_size=1, max_size=12))
def test_random_updates_through_the_bot_process(live: Live,
                                                 script: list[tuple[int, tuple[Any, ...]]]) -> None:
    server = live.server
    users = [live.next_user + i for i in range(PEOPLE)]
    live.next_user += PEOPLE
    for user_id in users:
        server.add_user(user_id)
    typed: dict[int, list[dict[str, Any]]] = {u: [] for u in users}
    delivered: dict[int, list[dict[str, Any]]] = {u: [] for u in users}
    errors_before = len(server.errors)
    for who, action in script:
        user_id = users[who]
        before = server.sent_count(user_id)
        kind, update = send(server, user_id, action, typed[user_id])
        if kind == "duplicate":
            if delivered[user_id]:
                server.inject_duplicate(delivered[user_id][action[1] % len(delivered[user_id])])
            continue
        delivered[user_id].append(update)
        if kind == "query":
            query_id = update["callback_query"]["id"]
            server.wait_for(lambda s, q=query_id: any(a["callback_query_id"] == q
                                                      for a in s.answered_callbacks), timeout=20)
        else:
            server.wait_for(lambda s, u=user_id, b=before: s.sent_count(u) > b, timeout=20)
    server.wait_idle()
    assert live.bot.alive, "the bot died"
    # Old and forged presses may ask for edits Telegram refuses (already edited, already
    # answered); the bot shrugs those off. Everything it sends must be accepted.
    refused = [e for e in server.errors[errors_before:]
               if e["method"] not in ("editMessageText", "editMessageReplyMarkup", "answerCallbackQuery")]
    assert refused == [], "the bot sent something Telegram would reject"
    assert live.bot.tracebacks == [], "an unhandled exception in the bot"
    for user_id in users:
        progress = saved_progress(live.bot.database, user_id)
        if progress is not None:
            assert_valid_place(progress, engine(SAMPLE))
