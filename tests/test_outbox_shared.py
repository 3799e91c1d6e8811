"""One outgoing budget for every instance on one PostgreSQL (`bot.ptb.pace`, `state.store.pgbudget`).

Two `Budget`s stand for two instances: each has its own connection to a real PostgreSQL
(the bucket's row, migration 011) and both read one injected clock, which the tests move;
what is counted is the calls that went out, against the time on that clock. Each instance's
own rate is set far above the shared one, so only the shared bucket (32 a second, 16 at
once) limits them. The last test runs the real bot (in this process) on PostgreSQL against
the fake Bot API, with the bucket held by another session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.ptb.outbox import CRISIS, REMINDER, REPLY, Budget
from state.storage import Grant
from state.store.crypto import KEY_ENV, new_key
from state.store.pgbudget import PgRate, bot_key
from state.store.progress import ProgressStore
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import InProcessBot
from tests.kit.player import Player, texts
from tests.kit.postgres import free_port, query

RATE, BURST = 32.0, 16.0  # binary fractions: 1/8 s is exactly four tokens
TOKEN = "123456:not-a-real-token"


class Clock:
    """The instances' clock: epoch-like seconds that only the test moves."""

    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


class CountedRate(PgRate):
    """The real bucket, counting how often this instance asked it."""

    asked = 0

    async def take(self, want: int, reserve: float) -> Grant:
        self.asked += 1
        return await super().take(want, reserve)


class Instance:
    """One instance's budget and what it sent, in order."""

    def __init__(self, url: str, clock: Clock, name: str, sent: list[str]) -> None:
        self.rate = CountedRate(url, bot_key(TOKEN), RATE, BURST, clock)
        self.budget = Budget(1000, chat_burst=0, now=clock, shared=self.rate)
        self.name = name
        self.sent = sent
        self.count = 0

    async def send(self, label: str, chat: int, priority: int) -> Any:
        async def call() -> bool:
            self.sent.append(f"{self.name}:{label}")
            self.count += 1
            return True

        return await self.budget.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, priority)

    def many(self, label: str, count: int, priority: int, first_chat: int) -> list[asyncio.Task[Any]]:
        return [asyncio.create_task(self.send(f"{label}{i}", first_chat + i, priority)) for i in range(count)]


@pytest.fixture
async def migrated(pg_url: str) -> str:
    store = await ProgressStore(pg_url).open()  # the migrations, 011 among them
    await store.close()
    return pg_url


@pytest.fixture
async def pair(migrated: str) -> AsyncIterator[tuple[Instance, Instance, Clock, list[str]]]:
    clock, sent = Clock(), []
    a, b = Instance(migrated, clock, "a", sent), Instance(migrated, clock, "b", sent)
    yield a, b, clock, sent
    for instance in (a, b):
        await instance.budget.shutdown()


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Let the event loop run until `condition` holds (looking every few milliseconds)."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the budgets' calls set no event a test could wait on
            await asyncio.sleep(0.005)


async def asked_again(*instances: Instance, times: int = 2) -> None:
    """Let every instance ask the bucket `times` more times (so whatever it could take, it took)."""
    marks = [i.rate.asked for i in instances]
    await until(lambda: all(i.rate.asked >= m + times for i, m in zip(instances, marks, strict=True)))


async def test_two_instances_together_stay_within_the_one_budget(
        pair: tuple[Instance, Instance, Clock, list[str]]) -> None:
    a, b, clock, _ = pair
    tasks = a.many("reply", 60, REPLY, 1000) + b.many("reply", 60, REPLY, 2000)
    await until(lambda: a.count + b.count >= BURST)
    await asked_again(a, b)
    assert a.count + b.count == BURST  # the burst, between both: not a burst each
    for step in range(1, 9):  # two seconds, a quarter at a time (a jump refills at most a burst)
        clock.t += 0.25
        expected = BURST + RATE * 0.25 * step  # 32 a second, whoever sends them
        await until(lambda e=expected: a.count + b.count >= e)
        await asked_again(a, b)
        assert a.count + b.count == expected
    assert a.count > 0 and b.count > 0
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_429_for_the_bot_on_one_instance_holds_the_other(
        pair: tuple[Instance, Instance, Clock, list[str]], migrated: str) -> None:
    a, b, clock, sent = pair
    await b.send("first", 1, REPLY)  # b has sent before: its next call asks the bucket again
    a.budget.hold(None, 5.0)  # Telegram answered 429 with no chat to a's call
    await until(lambda: query(migrated, "SELECT hold_until FROM outbox_budget") == [(clock.t + 5.0,)])
    waiting = asyncio.create_task(b.send("held", 2, REPLY))
    await until(lambda: b.budget.held(None) > 0)  # b learnt the hold from the bucket
    assert not waiting.done() and sent == ["b:first"]
    clock.t += 5.1
    await asyncio.wait_for(waiting, 5)
    assert sent == ["b:first", "b:held"]


async def test_reminders_on_one_instance_wait_while_replies_on_the_other_go(
        pair: tuple[Instance, Instance, Clock, list[str]]) -> None:
    a, b, clock, sent = pair
    await asyncio.gather(*a.many("burst", int(BURST), REPLY, 1000))  # the bucket is empty
    replies = a.many("reply", 10, REPLY, 2000)
    reminders = b.many("reminder", 3, REMINDER, 3000)
    while not all(task.done() for task in replies):
        before = a.count
        clock.t += 0.125  # four tokens: a reply may take them, a reminder must leave a third of the burst
        await until(lambda mark=before: a.count >= min(mark + 4, BURST + 10))
        await asked_again(b)
        assert b.count == 0
    clock.t += 1.0
    await asyncio.wait_for(asyncio.gather(*reminders), 5)
    assert [s for s in sent if "reminder" in s] == sent[-3:]  # every reply went first


async def test_crisis_help_goes_out_when_the_database_is_down(migrated: str) -> None:
    clock, sent = Clock(), []
    down = Instance(f"postgresql://craftbot@127.0.0.1:{free_port()}/nothing", clock, "a", sent)
    try:
        await asyncio.wait_for(down.send("crisis", 1, CRISIS), 0.4)  # never waits for the database
        await asyncio.wait_for(down.send("reply", 2, REPLY), 5)  # waits for it a moment, then goes alone
        assert sent == ["a:crisis", "a:reply"]
        assert down.budget.shared is not None and down.budget.shared.alone >= 1
    finally:
        await down.budget.shutdown()


async def test_crisis_help_does_not_wait_for_a_stuck_bucket(
        pair: tuple[Instance, Instance, Clock, list[str]], migrated: str) -> None:
    import psycopg

    a, _, _, sent = pair
    await a.send("first", 1, REPLY)  # the row exists
    async with await psycopg.AsyncConnection.connect(migrated) as lock:
        await lock.execute("SELECT * FROM outbox_budget FOR UPDATE")  # the bucket is stuck
        reply = asyncio.create_task(a.send("reply", 2, REPLY))
        await until(lambda: a.rate.asked >= 2)  # the reply is waiting for the bucket
        await asyncio.wait_for(a.send("crisis", 3, CRISIS), 0.4)
        assert sent == ["a:first", "a:crisis"]
        await asyncio.wait_for(reply, 5)  # the reply goes on alone once the bucket does not answer
        await lock.rollback()
    assert sent == ["a:first", "a:crisis", "a:reply"]


async def test_the_bucket_is_keyed_by_a_hash_of_the_token(
        pair: tuple[Instance, Instance, Clock, list[str]], migrated: str) -> None:
    a, _, _, _ = pair
    await a.send("one", 1, REPLY)
    (bot, tokens), = query(migrated, "SELECT bot, tokens FROM outbox_budget")
    assert bot == bot_key(TOKEN) and TOKEN not in str(bot) and "123456" not in str(bot)
    assert tokens == BURST - 1


@pytest.mark.e2e
def test_the_real_bot_on_postgresql_answers_crisis_words_while_the_bucket_is_stuck(
        server: FakeBotApi, tmp_path: Path, migrated: str, pg_keys_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    monkeypatch.setenv("CRAFTBOT_STORAGE__URL", migrated)
    monkeypatch.setenv("CRAFTBOT_STORAGE__KEYS_URL", pg_keys_url)
    monkeypatch.setenv(KEY_ENV, new_key())
    bot = InProcessBot(server, tmp_path, telegram="  max_per_second: 30\n").start()
    try:
        player = Player(server, 7)
        assert player.send("/start")
        (key, tokens), = query(migrated, "SELECT bot, tokens FROM outbox_budget")
        assert key == bot_key(server.token) and float(str(tokens)) < BURST - 1  # the reply took from it
        with psycopg.connect(migrated) as lock:  # another session holds the bucket: it cannot answer
            lock.execute("SELECT * FROM outbox_budget FOR UPDATE")
            assert "988" in texts(player.send("He's SCREAMING that he'll kill me!!"))
            assert player.send("/help")  # a reply goes too, on this instance's own pace
            lock.rollback()
        assert player.send("/help")  # and the bucket is asked again, in time
    finally:
        bot.stop()
    assert server.errors == []


def test_only_postgresql_shares_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import load_settings
    from bot.ptb.app import outgoing_budget

    assert outgoing_budget(load_settings(None), Clock()).shared is None  # SQLite: this process's own
    monkeypatch.setenv("CRAFTBOT_STORAGE__URL", "postgresql://craftbot@127.0.0.1:1/craftbot")
    shared = outgoing_budget(load_settings(None), Clock()).shared  # no connection until the first message
    assert shared is not None and (shared.rate.rate, shared.rate.capacity) == (30, 15)
    monkeypatch.setenv("CRAFTBOT_TELEGRAM__MAX_PER_SECOND", "0")  # no limiter: nothing to share
    assert outgoing_budget(load_settings(None), Clock()).shared is None
