"""The inbox store on a real SQLite file: leases keep each chat with one owner, in order.

Times are given explicitly (the workers pass the bot's injectable clock), so a lease running
out is a later `now`, not a wait.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot, Update

from bot.ptb.inbox import MAX_ATTEMPTS, InboxWorkers
from state.storage import InboxRecords
from state.store.crypto import DataCipher, new_key
from state.store.inbox import KEEP_HANDLED, InboxData
from state.store.privacy import PrivacyData
from state.store.progress import SqliteProgressStore

A, B = 101, 202
LEASE = 60.0


def update(update_id: int, chat: int, text: str = "hello") -> tuple[int, int, str]:
    return chat, update_id, json.dumps({"update_id": update_id, "message": {"text": text}})


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteProgressStore]:
    opened = await SqliteProgressStore(tmp_path / "bot.sqlite3", DataCipher.from_text(new_key())).open()
    yield opened
    await opened.close()


async def test_repeats_are_kept_once_and_what_people_wrote_is_sealed(store: SqliteProgressStore) -> None:
    inbox: InboxRecords = InboxData(store)
    assert await inbox.add([update(1, A, "my brother drank again")], 10.0) == [True]
    assert await inbox.add([update(1, A, "my brother drank again"), update(2, B)], 11.0) == [False, True]
    stored = await store.read(lambda db: db.execute("SELECT body FROM inbox ORDER BY update_id").fetchall())
    assert all(body.startswith("p1:") and "brother" not in body for (body,) in stored)
    assert await inbox.backlog(15.0) == (2, 5.0)


async def test_one_owner_per_chat_in_order_until_its_lease_runs_out(store: SqliteProgressStore) -> None:
    inbox = InboxData(store)
    await inbox.add([update(1, A), update(2, B), update(3, A)], 0.0)
    first = await inbox.claim("one", 1.0, 1.0 + LEASE, 10)
    assert [(e.update_id, e.chat_id, e.attempts) for e in first] == [(1, A, 1), (2, B, 1)]
    assert first[0].body is not None and json.loads(first[0].body)["update_id"] == 1  # opened
    assert await inbox.claim("two", 2.0, 2.0 + LEASE, 10) == []  # both chats are held

    after = await inbox.done(first[0], "one", 3.0, 3.0 + LEASE)  # A's next goes to the same owner
    assert after is not None and after.update_id == 3
    assert await inbox.claim("two", 4.0, 4.0 + LEASE, 10) == []

    assert await inbox.renew("one", [3], 30.0 + LEASE) == 1  # A's lease extended, B's not
    taken = await inbox.claim("two", 62.0, 62.0 + LEASE, 10)  # "one" died: B's lease ran out
    assert [(e.update_id, e.attempts) for e in taken] == [(2, 2)]
    assert await inbox.renew("one", [2], 70.0) == 0  # no longer its own
    assert await inbox.done(after, "one", 63.0, 63.0 + LEASE) is None
    assert await inbox.backlog(63.0) == (1, 63.0)


async def test_a_restart_releases_every_lease_and_handled_ids_are_kept_a_day(
        store: SqliteProgressStore) -> None:
    inbox = InboxData(store)
    await inbox.add([update(1, A), update(2, A)], 0.0)
    [head] = await inbox.claim("dead", 1.0, 1.0 + LEASE, 10)
    assert await inbox.release(None) == 1  # one process per SQLite file: the last one's leases go
    [again] = await inbox.claim("new", 2.0, 2.0 + LEASE, 10)
    assert again.update_id == head.update_id and again.attempts == 2
    await inbox.done(again, "new", 3.0, 3.0 + LEASE)
    assert await inbox.add([update(1, A)], 4.0) == [False]  # a late repeat: still recognised
    a_day_later = 3.0 + KEEP_HANDLED
    assert await inbox.forget_handled(a_day_later - 1 - KEEP_HANDLED) == 0  # as the workers ask
    assert await inbox.forget_handled(a_day_later + 1 - KEEP_HANDLED) == 1
    bodies = await store.read(lambda db: db.execute("SELECT update_id, body FROM inbox").fetchall())
    assert len(bodies) == 1 and bodies[0][0] == 2 and bodies[0][1] is not None


async def test_erasing_a_person_erases_their_inbox_rows_and_no_one_elses(store: SqliteProgressStore) -> None:
    inbox = InboxData(store)
    await inbox.add([update(1, A), update(2, B), update(3, A)], 0.0)
    [first, _] = await inbox.claim("one", 1.0, 1.0 + LEASE, 10)
    await inbox.done(first, "one", 2.0, 2.0 + LEASE)
    await PrivacyData(store).erase(A)
    rows = await store.read(lambda db: db.execute("SELECT update_id, chat_id FROM inbox").fetchall())
    assert rows == [(2, B)]


async def test_an_update_whose_key_was_erased_comes_out_unopened(store: SqliteProgressStore) -> None:
    inbox = InboxData(store)
    await inbox.add([update(1, A)], 0.0)
    cipher = store.cipher
    assert cipher is not None and hasattr(cipher, "shred")
    cipher.shred([A])
    [entry] = await inbox.claim("one", 1.0, 1.0 + LEASE, 10)
    assert entry.update_id == 1 and entry.body is None  # the worker parks it


async def test_workers_park_an_update_that_keeps_killing_the_process_and_go_on(
        store: SqliteProgressStore) -> None:
    inbox = InboxData(store)
    message = {"message_id": 1, "date": 1, "chat": {"id": A, "type": "private"}, "text": "hi"}
    await inbox.add([(A, 1, json.dumps({"update_id": 1, "message": message})),
                     (A, 2, json.dumps({"update_id": 2, "message": {**message, "message_id": 2}}))], 0.0)
    for crash in range(MAX_ATTEMPTS):  # taken, then the process died before finishing it
        assert [e.update_id for e in await inbox.claim(f"run{crash}", 1.0, 2.0, 10)] == [1]
        await inbox.release(None)
    seen: list[int] = []
    behind = asyncio.Event()

    async def process(update: Update) -> None:
        seen.append(update.update_id)
        behind.set()

    workers = InboxWorkers(inbox, Bot("123456:TEST-TOKEN"), process, lambda: 5.0, 4, one_process=True)
    await workers.start()
    await asyncio.wait_for(behind.wait(), 10)
    await workers.stop()
    assert seen == [2] and workers.parked == 1  # the poison one set aside, its chat went on
    assert await inbox.backlog(5.0) == (0, 0.0)
