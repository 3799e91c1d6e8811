"""A turn's transaction on the event loop's own connection, on a real SQLite file.

The fast path (`state.store.inline`) must never make the event loop wait: not for another
process's write lock, not for the sync of a WAL that starts over. These tests hold the lock
from a connection of their own, on a thread of their own, as `craftbot purge` would.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from state.contracts import Event, Progress
from state.store.progress import SqliteProgressStore

HOLD = 2.0  # seconds the other "process" keeps the write lock
TICK = 0.01  # the loop's timer


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteProgressStore]:
    opened = await SqliteProgressStore(tmp_path / "bot.sqlite3").open()
    yield opened
    await opened.close()


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows read with a connection of the test's own."""
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


async def warm(store: SqliteProgressStore, user_id: int = 1) -> None:
    """Save once on the writer's thread so the next turns may run inline (see WalRestart)."""
    await store.save(Progress(user_id=user_id, step="a"), [])


def hold_write_lock(path: Path, held: threading.Event, released: list[float]) -> None:
    """Another process's writer: BEGIN IMMEDIATE, keep it for HOLD seconds, COMMIT."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO weekly_active (week, users) VALUES ('1999-W01', 1)")
        held.set()
        time.sleep(HOLD)
        released.append(time.perf_counter())
        db.execute("COMMIT")
    finally:
        db.close()


async def ticker(gaps: list[float], stop: asyncio.Event) -> None:
    """Answer a timer every TICK seconds and note how late each answer came."""
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(TICK)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now


async def test_a_turn_never_blocks_the_loop_while_another_process_holds_the_write_lock(
        store: SqliteProgressStore) -> None:
    await warm(store)
    held, released = threading.Event(), list[float]()
    other = threading.Thread(target=hold_write_lock, args=(store.path, held, released))
    other.start()
    await asyncio.to_thread(held.wait)
    gaps: list[float] = []
    stop = asyncio.Event()
    timer = asyncio.create_task(ticker(gaps, stop))
    declined = store.inline.declined

    await store.save(Progress(user_id=2, step="b"), [Event("x")])
    done = time.perf_counter()
    stop.set()
    await timer
    await asyncio.to_thread(other.join)

    assert released and done >= released[0]  # it waited for the lock, off the loop
    assert store.inline.declined == declined + 1  # tried inline, refused at once
    assert len(gaps) >= HOLD / TICK / 4  # the loop kept answering the whole time
    assert max(gaps) < 0.5  # never frozen (a 5 s busy_timeout on the loop would show here)
    loaded = await store.load(2)
    assert loaded is not None and loaded.step == "b"


async def test_turns_run_inline_when_the_write_lock_is_free(store: SqliteProgressStore) -> None:
    await warm(store)
    begun = store.inline.begun
    for step in "bcdefghijk":
        await store.save(Progress(user_id=1, step=step), [])
    assert store.inline.begun - begun >= 5  # a checkpoint may send a few to the writer
    assert query(store.path, "SELECT step FROM users WHERE user_id = 1") == [("k",)]
    loaded = await store.load(1)  # read on the writer's connection
    assert loaded is not None and loaded.step == "k"


async def test_after_the_wal_is_emptied_the_next_turn_goes_to_the_writer(
        store: SqliteProgressStore) -> None:
    """Its first frame syncs the new WAL header: that must not happen on the event loop."""
    await warm(store)
    assert await store.checkpoint()  # TRUNCATE: the WAL is empty
    declined, begun = store.inline.declined, store.inline.begun
    await store.save(Progress(user_id=1, step="b"), [])
    assert store.inline.declined == declined + 1
    await store.save(Progress(user_id=1, step="c"), [])
    assert store.inline.begun == begun + 1  # the WAL has frames left again


async def test_a_cancelled_inline_turn_writes_nothing(store: SqliteProgressStore) -> None:
    await warm(store)
    inside = asyncio.Event()

    async def turn() -> None:
        async with store.session(3) as session:
            session.save(Progress(user_id=3, step="x"), [Event("x")])
            inside.set()
            await asyncio.sleep(10)

    begun = store.inline.begun
    task = asyncio.create_task(turn())
    await inside.wait()
    assert store.inline.begun == begun + 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.load(3) is None
    assert query(store.path, "SELECT count(*) FROM events") == [(0,)]
    await store.save(Progress(user_id=3, step="y"), [])  # the lock and the connection are free
    assert query(store.path, "SELECT step FROM users WHERE user_id = 3") == [("y",)]
