"""Several instances on one PostgreSQL database: claims, leases, advisory locks, row locks, migrations.

Each "instance" is a store of its own (its own pool, connections and lease owner) on the
same database, as two bot processes would be. The server is real (tests/kit/postgres.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from state.contracts import Progress
from state.store.dialect import POSTGRES, lock_key
from state.store.postgres import Locks, PgOpener
from state.store.progress import ProgressStore
from state.store.schema import migrations
from tests.kit.postgres import query


@pytest.fixture
async def two(pg_url: str) -> AsyncIterator[tuple[ProgressStore, ProgressStore]]:
    first = await ProgressStore(pg_url).open()
    second = await ProgressStore(pg_url).open()
    yield first, second
    await first.close()
    await second.close()


async def plan(store: ProgressStore, user_id: int, kind: str, due: float) -> None:
    async with store.session(user_id) as session:
        await store.reminders.plan(user_id, kind, due, 1.0)
        session.save(session.progress or Progress(user_id=user_id), [])


async def test_two_instances_each_claim_a_different_reminder(
        two: tuple[ProgressStore, ProgressStore]) -> None:
    a, b = two
    await plan(a, 1, "homework", 100.0)
    await plan(a, 2, "homework", 101.0)
    got_a, got_b = await asyncio.gather(a.reminders.claim_due(200.0, 1), b.reminders.claim_due(200.0, 1))
    assert len(got_a) == len(got_b) == 1
    assert {got_a[0].user_id, got_b[0].user_id} == {1, 2}
    owners = query(a.location.url or "", "SELECT DISTINCT claimed_by FROM reminders WHERE status = 'sending'")
    assert {row[0] for row in owners} == {a.owner, b.owner}


async def test_a_claim_passes_over_rows_another_instance_has_locked(pg_url: str) -> None:
    store = await ProgressStore(pg_url).open()
    await plan(store, 1, "homework", 100.0)
    await plan(store, 2, "homework", 101.0)
    with psycopg.connect(pg_url) as other:  # mid-claim on another instance: row 1 locked
        other.execute("SELECT id FROM reminders WHERE user_id = 1 FOR UPDATE")
        claimed = await asyncio.wait_for(store.reminders.claim_due(200.0, 10), timeout=10)
        assert [r.user_id for r in claimed] == [2]  # did not wait for it, did not take it
    assert [r.user_id for r in await store.reminders.claim_due(200.0, 10)] == [1]
    await store.close()


async def test_a_starting_instance_leaves_live_claims_alone_and_takes_over_expired_ones(pg_url: str) -> None:
    a = await ProgressStore(pg_url).open()
    await plan(a, 1, "homework", 100.0)
    [claimed] = await a.reminders.claim_due(200.0, 10)
    b = await ProgressStore(pg_url).open()  # a second instance starts while `a` is sending
    assert await b.reminders.recover(now=300.0) == 0
    assert await b.reminders.claim_due(300.0, 10) == []
    assert await a.reminders.count_by_status() == {"sending": 1}
    await a.close()  # `a` dies without marking it sent; its lease runs out
    [again] = await b.reminders.claim_due(200.0 + 601.0, 10)
    assert again.id == claimed.id
    assert query(pg_url, "SELECT claimed_by, attempts FROM reminders") == [(b.owner, 2)]
    await b.close()


async def test_the_retention_round_runs_in_one_instance_at_a_time(pg_url: str) -> None:
    store = await ProgressStore(pg_url).open()
    await store.save(Progress(user_id=1, updated_at=1.0), [])
    with psycopg.connect(pg_url, autocommit=True) as other:  # another instance is purging now
        other.execute("SELECT pg_advisory_lock(%s)", (lock_key("retention"),))
        assert await store.privacy.purge(100 * 86400.0, 30) == []
        assert await store.load(1) is not None
        other.execute("SELECT pg_advisory_unlock(%s)", (lock_key("retention"),))
    assert [p.user_id for p in await store.privacy.purge(100 * 86400.0, 30)] == [1]
    await store.close()


async def test_one_instance_polls_a_database(pg_url: str) -> None:
    first, second = Locks(PgOpener(pg_url)), Locks(PgOpener(pg_url))
    assert first.hold("poller")
    assert first.hold("poller")  # held already: still this process's
    assert not second.hold("poller")
    first.release_all()
    assert second.hold("poller")
    second.release_all()
    for locks in (first, second):
        locks.opener.close_pool()
    store = await ProgressStore(pg_url).open()
    assert await store.hold("poller")
    await store.close()


async def test_a_second_instance_waits_for_the_first_ones_turn_on_the_same_person(
        two: tuple[ProgressStore, ProgressStore]) -> None:
    a, b = two
    await a.save(Progress(user_id=1, step="one"), [])
    seen: list[str | None] = []

    async def b_turn() -> None:
        async with b.session(1) as session:
            assert session.progress is not None
            seen.append(session.progress.step)
            session.save(Progress(user_id=1, step=f"{session.progress.step}+b"), [])

    async with a.session(1) as session:
        task = asyncio.create_task(b_turn())
        for _ in range(200):  # until b's read waits on the row lock (not a timing assertion)
            waiting = query(a.location.url or "", "SELECT count(*) FROM pg_stat_activity"
                            " WHERE wait_event_type = 'Lock' AND datname = current_database()")
            if waiting[0][0]:
                break
            await asyncio.sleep(0.05)
        assert not task.done()
        session.save(Progress(user_id=1, step="two"), [])
    await asyncio.wait_for(task, timeout=10)
    assert seen == ["two"]  # b read what a wrote, not what was there before
    loaded = await a.load(1)
    assert loaded is not None and loaded.step == "two+b"


async def test_instances_starting_together_migrate_once(pg_url: str) -> None:
    stores = await asyncio.gather(*(ProgressStore(pg_url).open() for _ in range(3)))
    versions = query(pg_url, "SELECT version FROM schema_migrations ORDER BY version")
    assert [v for (v,) in versions] == [number for number, _, _ in migrations(POSTGRES.migrations)]
    for store in stores:
        await store.close()


async def test_a_lost_connection_fails_one_call_and_the_next_works(pg_url: str) -> None:
    store = await ProgressStore(pg_url).open()
    await store.save(Progress(user_id=1, step="a"), [])
    with psycopg.connect(pg_url, autocommit=True) as admin:  # the server drops the bot's sessions
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE application_name = 'craftbot' AND pid != pg_backend_pid()")
    with pytest.raises(psycopg.OperationalError):
        await store.load(1)
    loaded = await store.load(1)
    assert loaded is not None and loaded.step == "a"
    await store.close()
