"""The store's write transactions on a real SQLite file: one per text message, none held up by readers.

Commits are counted with SQLite's own statement trace on the store's connection, so a
write that slipped out of a turn's transaction (or an autocommitted one) would show.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from state.contracts import Button, Command, Input, Press, Reply, TextIn
from state.curriculum.loader import load_curriculum
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.store.progress import SqliteProgressStore

SAMPLE = Path(__file__).resolve().parent / "curriculum"
T0 = 1_700_000_000.0
PHRASE = "Periwinkle-Lantern-5512"  # what the person writes; gone after their erasure
NOT_WRITES = ("SELECT", "BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")


class Commits:
    """Counts the write transactions SQLite is asked to end: COMMITs, and lone autocommitted writes."""

    def __init__(self) -> None:
        self.count = 0

    def watch(self, db: sqlite3.Connection) -> None:
        def traced(statement: str) -> None:
            words = statement.lstrip().upper()
            if words.startswith("COMMIT") or (not db.in_transaction and not words.startswith(NOT_WRITES)):
                self.count += 1

        db.set_trace_callback(traced)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_curriculum(SAMPLE))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteProgressStore]:
    opened = await SqliteProgressStore(tmp_path / "bot.sqlite3").open()
    yield opened
    await opened.close()


def file_bytes(path: Path) -> bytes:
    return path.read_bytes()


def recorded_ids(path: Path, user_id: int) -> list[int]:
    """The message ids written to the file for a user, read with a connection of the test's own."""
    db = sqlite3.connect(path)
    try:
        return [row[0] for row in db.execute(
            "SELECT message_id FROM recent_messages WHERE user_id = ? ORDER BY message_id", (user_id,))]
    finally:
        db.close()


class Chat:
    """One person's private chat as the Telegram door runs it: the incoming id, the turn, the sent ids."""

    def __init__(self, conversations: Conversations, user_id: int) -> None:
        self.conversations = conversations
        self.user_id = user_id
        self.next_id = 1
        self.buttons: list[Button] = []

    async def send(self, message: Input) -> Reply:
        privacy = self.conversations.privacy
        await privacy.remember(self.user_id, [(self.next_id, T0, False)])
        reply = await self.conversations.handle(self.user_id, message, language="en")
        assert reply is not None
        sent = list(range(self.next_id + 1, self.next_id + 1 + len(reply.messages)))
        if reply.remember:
            await privacy.remember(self.user_id, [(mid, T0, True) for mid in sent])
        self.next_id += 1 + len(sent)
        self.buttons = [b for m in reply.messages for row in m.buttons for b in row] or self.buttons
        return reply

    async def press(self, label: str) -> Reply:
        return await self.send(Press(next(b.data for b in self.buttons if label in b.label)))

    async def onboard(self, name: str) -> None:
        await self.send(Command("start"))
        await self.press("Yes, let's start")
        await self.send(TextIn(name))
        for label in ("My partner", "Alcohol", "No", "No", "No", "Next: Basics", "Ready", "5",
                      "I'd love your help"):
            await self.press(label)


async def test_a_text_message_is_one_write_transaction(engine: Engine, store: SqliteProgressStore) -> None:
    conversations = Conversations(engine, store, clock=lambda: T0)
    chat = Chat(conversations, 7)
    await chat.onboard("Robin")
    commits = Commits()
    await store.on_each_connection(commits.watch)  # the writer's and the event loop's own
    begun = store.inline.begun

    for words in ("after dinner", "on Sundays", "when he's tired"):
        before, incoming = commits.count, chat.next_id
        reply = await chat.send(TextIn(words))
        assert reply.messages  # the bot answered
        assert commits.count - before == 1
        assert incoming in recorded_ids(store.path, 7)  # written in the turn's own transaction
    assert store.inline.begun > begun  # counted on the fast path too (state.store.inline)

    sent_last = chat.next_id - 1  # the bot's last message: its id waits for the next transaction
    assert sent_last not in recorded_ids(store.path, 7)
    hide = await conversations.handle(7, Command("hide"), language="en")
    assert hide is not None and sent_last in hide.delete and 1 in hide.delete
    assert recorded_ids(store.path, 7) == []


async def test_buffered_ids_reach_the_file_when_the_store_closes(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await SqliteProgressStore(path).open()
    await store.privacy.remember(3, [(10, T0, False), (11, T0, True)])
    assert recorded_ids(path, 3) == []
    await store.close()
    assert recorded_ids(path, 3) == [10, 11]


async def test_delete_erases_ids_not_yet_written(engine: Engine, store: SqliteProgressStore) -> None:
    conversations = Conversations(engine, store, clock=lambda: T0)
    await store.privacy.remember(4, [(20, T0, False)])
    assert await store.privacy.erase(4) == 0  # nothing was written; nothing will be
    await store.flush()
    assert recorded_ids(store.path, 4) == []
    assert await conversations.privacy.export(4) is None


async def test_a_reader_during_erasure_holds_up_no_other_chat(engine: Engine,
                                                              store: SqliteProgressStore) -> None:
    conversations = Conversations(engine, store, clock=lambda: T0)
    leaving, staying = Chat(conversations, 21), Chat(conversations, 22)
    await leaving.onboard(PHRASE)
    await staying.onboard("Kim")
    reader = sqlite3.connect(store.path, isolation_level=None)  # a report or a backup, say
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM users").fetchall()  # holds its snapshot open
    try:
        erasing = asyncio.create_task(store.privacy.erase(21))
        slowest, turns = 0.0, 0
        while not erasing.done() or turns == 0:  # the other chat goes on while the erasure runs
            started = time.perf_counter()
            await staying.send(TextIn("mornings are calm"))
            slowest, turns = max(slowest, time.perf_counter() - started), turns + 1
        assert await erasing > 0
        assert slowest < 0.2, slowest  # other chats answered within 200 ms (a checkpoint waiting for
        # the reader used to freeze every chat for the 5 s busy timeout)
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert await store.checkpoint()  # once the reader is gone, the WAL empties
    for suffix in ("", "-wal"):
        assert PHRASE.encode() not in file_bytes(Path(f"{store.path}{suffix}"))
    assert await store.load(22) is not None and await store.load(21) is None
