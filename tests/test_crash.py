"""The bot killed at random moments while people play: nothing answered is lost, nobody is stuck.

Several simulated people play the sample curriculum against the real `craftbot run`
process and the fake Bot API. Each round, everyone sends one update (a button on the
bot's latest keyboard, typed text, a sticker); the bot is killed with SIGKILL at a random
moment — after a random number of its calls to Telegram, or after a random delay — and
started again on the same database. Both ways of taking updates: long polling, and a webhook
(each update stored in the inbox before Telegram is answered 200). An oracle (the same
engine, in this process, fed the same inputs once each) says what every reply must be.
After each round and at the end:

- every person got their reply, ending with the question they are now on (nobody stuck);
- what they saw is the oracle's reply, whole and in order, with at most the one message in
  flight at the kill shown twice (the rest of a reply cut off is sent after the restart,
  state/service/redelivery.py);
- the saved progress equals the oracle's: no answered step lost, no update processed twice.

CI runs a few rounds; by hand:  CRAFTBOT_CRASH_ROUNDS=50 .venv/bin/pytest tests/test_crash.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.ptb.privacy import data_cipher
from state.contracts import Command, Input, Message, Other, Press, Progress, Reply, TextIn
from state.curriculum.loader import load_curriculum
from state.engine.engine import Engine
from state.store.progress import SqliteProgressStore
from tests.kit.botapi_rules import format_text
from tests.kit.botapi_serve import WatchedBotApi
from tests.kit.botapi_webhook import WebhookBotApi
from tests.kit.bots import BotProcess
from tests.kit.curricula import SAMPLE
from tests.test_webhook import free_port, webhook_lines

ROUNDS = int(os.environ.get("CRAFTBOT_CRASH_ROUNDS", "4"))
PEOPLE = 5
SEED = int(os.environ.get("CRAFTBOT_CRASH_SEED", "20240607"))
ANSWER = "I will take a short walk after dinner."

pytestmark = pytest.mark.e2e  # a real `craftbot run` process


def plain(html: str) -> str:
    """A message as the fake Telegram stores it: text without markup."""
    return format_text(html, "HTML", None, strict=True)[0]


Shown = tuple[str, tuple[str, ...]]


def shown(message: dict[str, Any]) -> Shown:
    """What a person sees of a bot message: its text and its buttons' data."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return str(message.get("text", "")), tuple(b["callback_data"] for row in rows for b in row)


@dataclass
class Person:
    """One simulated person and the oracle's copy of their progress."""

    user_id: int
    progress: Progress
    expected: list[Shown] = field(default_factory=list)
    question: Shown = ("", ())
    mark: int = 0


class Oracle:
    """The same engine as the bot's, in this process: what each reply must be."""

    def __init__(self) -> None:
        self.engine = Engine(load_curriculum(SAMPLE))

    def new(self, user_id: int) -> Person:
        return Person(user_id, self.engine.new_progress(user_id, "en", 1.0))

    def answer(self, person: Person, message: Input) -> None:
        """What the bot must answer, and the question the person is on afterwards."""
        reply: Reply = self.engine.handle(person.progress, message, 2.0)
        person.expected = [seen(m) for m in reply.messages]
        person.question = seen(self.engine.current_question(person.progress, 2.0).messages[-1])


def seen(message: Message) -> Shown:
    """An engine message as the person sees it."""
    return plain(message.html), tuple(b.data for row in message.buttons for b in row)


class Killer:
    """Kills the bot process at the n-th call it makes to Telegram (from the server's thread)."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.left = -1
        self.lock = threading.Lock()
        self.fired = threading.Event()

    def arm(self, pid: int, after_calls: int) -> None:
        with self.lock:
            self.pid, self.left = pid, after_calls
            self.fired.clear()

    def on_reaction(self, kind: str, chat_id: int, msg: dict[str, Any]) -> None:
        with self.lock:
            if self.pid is None or self.left < 0:
                return
            if self.left == 0:
                self.kill()
            self.left -= 1

    def kill(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.pid, self.left = None, -1
            self.fired.set()


@pytest.fixture
def server() -> Iterator[WatchedBotApi]:
    with WebhookBotApi() as fake:  # WatchedBotApi, and a webhook when the bot sets one
        yield fake


def next_move(person: Person, server: WatchedBotApi, rng: random.Random) -> tuple[Input, Any]:
    """What the person does next, for the oracle and for the fake Telegram."""
    keyboard = server.keyboard(person.user_id)
    roll = rng.random()
    if roll < 0.08:
        return Other("media", ""), lambda: server.inject_sticker(person.user_id)
    if keyboard is not None and roll < 0.85:
        message_id, datas = keyboard
        data = rng.choice(datas)
        # the bot hands the engine the pressed message's text, so a tick only edits it
        return Press(data, "the pressed message"), lambda: server.inject_callback(
            person.user_id, message_id, data)
    return TextIn(ANSWER), lambda: server.inject_message(person.user_id, ANSWER)


def answered(server: WatchedBotApi, person: Person) -> bool:
    """Whether the person's reply has come (its last message, or the question they are on)."""
    received = [shown(m) for m in server.sent(person.user_id)[person.mark:]]
    if not person.expected:  # a tick on a checklist: the bot only edits the message
        return True
    return bool(received) and received[-1] in (person.expected[-1], person.question)


def check_round(person: Person, received: list[Shown], crashed: bool) -> None:
    """The person saw the oracle's reply whole; after a crash, perhaps with the one message in
    flight at the kill shown twice (the rest of a reply cut off is sent after the restart)."""
    expected = person.expected
    if received == expected:
        return
    assert crashed, f"user {person.user_id}: without a crash saw {received}, expected {expected}"
    doubled = [[*expected[:i + 1], *expected[i:]] for i in range(len(expected))]
    assert received in doubled, f"user {person.user_id}: after a crash saw {received}, expected {expected}"


def saved(database: Path, user_ids: list[int]) -> dict[int, Progress | None]:
    async def read() -> dict[int, Progress | None]:
        store = await SqliteProgressStore(database, data_cipher()).open()
        try:
            return {uid: await store.load(uid) for uid in user_ids}
        finally:
            await store.close()

    return asyncio.run(read())


def place(progress: Progress) -> tuple[Any, ...]:
    """What must survive a crash: where the person is, what they answered and finished."""
    answers = {k: v for k, v in progress.answers.items() if not k.endswith("_at")}
    return progress.module, progress.step, progress.seq, answers, sorted(progress.completed)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_sigkill_at_random_moments_loses_nothing_and_strands_nobody(
        server: WatchedBotApi, tmp_path: Path, mode: str) -> None:
    rng = random.Random(SEED)
    oracle = Oracle()
    killer = Killer()
    server.listener = killer.on_reaction
    telegram = webhook_lines(free_port()) if mode == "webhook" else ""  # tests/test_webhook.py
    bot = BotProcess(server, tmp_path, telegram=telegram).start()
    people = [oracle.new(7001 + i) for i in range(PEOPLE)]
    for person in people:
        server.add_user(person.user_id)
    crashes = 0
    try:
        for round_no in range(ROUNDS + 1):
            crash = round_no > 0  # round 0 (everyone's /start) runs without a crash
            moves = []
            for person in people:
                if round_no == 0:
                    message: Input = Command("start")
                    send: Any = partial(server.inject_message, person.user_id, "/start")
                else:
                    message, send = next_move(person, server, rng)
                oracle.answer(person, message)
                person.mark = server.sent_count(person.user_id)
                moves.append(send)
            assert bot.proc is not None
            calls = sum(3 + len(p.expected) for p in people)
            by_count = rng.random() < 0.7
            if crash:
                killer.arm(bot.proc.pid, rng.randrange(calls) if by_count else -1)
            for send in moves:
                send()
            if crash and not by_count:
                threading.Timer(rng.random() * 0.05, killer.kill).start()
            if crash:  # the n-th call may never come: then the kill comes after every reply
                server.wait_for(lambda s: killer.fired.is_set() or all(answered(s, p) for p in people),
                                timeout=30)
                killer.kill()
                assert bot.stop(signal.SIGKILL) != 0
                crashes += 1
                bot.start()
            try:
                server.wait_for(lambda s: all(answered(s, p) for p in people), timeout=30)
            except TimeoutError:
                stuck = {p.user_id: ([shown(m) for m in server.sent(p.user_id)[p.mark:]], p.expected,
                                     p.question) for p in people if not answered(server, p)}
                raise AssertionError(f"round {round_no}: stuck (seen, expected, question): {stuck}") from None
            server.wait_idle()
            for person in people:
                received = [shown(m) for m in server.sent(person.user_id)[person.mark:]]
                check_round(person, received, crash)
    finally:
        killer.pid = None
        if bot.proc is not None:
            bot.stop()
    assert crashes == ROUNDS
    stored = saved(bot.database, [p.user_id for p in people])
    for person in people:
        progress = stored[person.user_id]
        assert progress is not None
        assert place(progress) == place(person.progress), f"user {person.user_id}"
    refused = [e for e in server.errors if "query is too old" not in e["description"]]
    assert refused == [], "the bot sent something Telegram would reject"


def test_a_kill_while_the_crisis_reply_is_sent_shows_the_help_again_after_restart(
        server: WatchedBotApi, tmp_path: Path) -> None:
    user = 7101
    server.add_user(user)
    bot = BotProcess(server, tmp_path).start()
    try:
        server.inject_message(user, "/start")
        server.wait_for(lambda s: bool(s.sent(user)), timeout=30)
        server.wait_idle()
        step = shown(server.sent(user)[-1])  # the question the person is on
        mark = server.sent_count(user)
        # The crisis reply's first message goes out; Telegram fails every later one, so the
        # bot is still sending the help (retrying) when it is killed.
        server.fail("sendMessage", user, 0, *[502] * 100)
        server.inject_message(user, "honestly i want to die some days")
        server.wait_for(lambda s: any(e["error_code"] == 502 for e in s.errors), timeout=30)
        assert bot.stop(signal.SIGKILL) != 0
        before = server.sent_count(user)
        server.clear_faults()
        bot.start()  # Telegram delivers the unconfirmed update again
        server.wait_for(lambda s: s.sent_count(user) > before
                        and "safe" in str(s.sent(user)[-1].get("reply_markup", "")), timeout=30)
        server.wait_idle()
    finally:
        if bot.alive:
            bot.stop()
    first = [str(m.get("text", "")) for m in server.sent(user)[mark:before]]
    again = [shown(m) for m in server.sent(user)[before:]]
    assert len(first) == 1 and "988" not in first[0]  # the kill came before the numbers went out
    assert "988" in " ".join(text for text, _ in again)  # after the restart, the rest of the help
    assert again[0][0] != first[0]  # from the first message Telegram had not accepted
    assert again[-1] != step and again[-1][1]  # ending on the safety question, not the lesson step
