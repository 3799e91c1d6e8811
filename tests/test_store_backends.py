"""The store's behaviour, the same on both backends: a SQLite file and a real PostgreSQL server.

Each test runs twice (`backend`: sqlite, postgresql). PostgreSQL is started by the tests
themselves (tests/kit/postgres.py); without it the postgresql runs are skipped, except under
CI=true, where they fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from state.contracts import CheckinRecord, Event, Progress
from state.storage import Nudge
from state.store.crypto import DataCipher, new_key
from state.store.dialect import Location
from state.store.progress import ProgressStore
from state.store.reports import Placement, ReportStore
from state.store.schema import migrations
from tests.kit.postgres import Backend, query


def open_store(backend: Backend, cipher: DataCipher | None = None) -> ProgressStore:
    return ProgressStore(backend.url, cipher, keys_url=backend.keys_url)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[ProgressStore]:
    opened = await open_store(backend).open()
    yield opened
    await opened.close()


async def test_progress_round_trips_and_survives_reopening(backend: Backend) -> None:
    store = await open_store(backend).open()
    progress = Progress(user_id=5, module="basics", step="pick", answers={"loved_one": "Ana", "odd": "50% ?"})
    await store.save(progress, [Event("module_started", "basics")])
    await store.close()
    store = await open_store(backend).open()
    assert await store.load(5) == progress
    assert await store.load(6) is None
    assert await store.count_users() == 1
    await store.close()
    assert query(backend.url, "SELECT kind, module FROM events") == [("module_started", "basics")]
    assert [row[0] for row in query(backend.url, "SELECT version FROM schema_migrations ORDER BY version")] \
        == [number for number, _, _ in migrations(Location.parse(backend.url).dialect.migrations)]


async def test_a_failed_turn_writes_nothing(store: ProgressStore) -> None:
    await store.save(Progress(user_id=1, step="a"), [])
    with pytest.raises(RuntimeError):
        async with store.session(1) as session:
            assert session.progress is not None
            session.progress.step = "b"
            session.save(session.progress, [Event("x")])
            await store.reminders.plan(1, "homework", 100.0, 1.0)
            raise RuntimeError("the engine failed mid-turn")
    loaded = await store.load(1)
    assert loaded is not None and loaded.step == "a"
    assert await store.reminders.waiting(1) == []


async def test_a_reminder_is_planned_moved_claimed_sent_and_followed(store: ProgressStore) -> None:
    reminders = store.reminders
    async with store.session(1) as session:
        await reminders.plan(1, "checkin", 100.0, 1.0, "weekly")
        await reminders.plan(1, "checkin", 200.0, 1.0, "weekly")  # moved, not doubled
        session.save(Progress(user_id=1), [])
    assert [(r.kind, r.due_at) for r in await reminders.waiting(1)] == [("checkin", 200.0)]
    assert await reminders.claim_due(199.0, 10) == []
    [claimed] = await reminders.claim_due(200.0, 10)
    assert await reminders.claim_due(200.0, 10) == []  # claimed once
    await reminders.set_follow(claimed.id, 900.0)
    await reminders.mark_sent(claimed.id, 201.0)
    assert await reminders.was_sent(1, "checkin", "weekly")
    assert [(r.kind, r.due_at) for r in await reminders.waiting(1)] == [("checkin", 900.0)]
    assert await reminders.count_by_status() == {"sent": 1, "pending": 1}


async def test_a_claim_given_back_or_left_by_a_crash_waits_again(store: ProgressStore) -> None:
    reminders = store.reminders
    async with store.session(1) as session:
        await reminders.plan(1, "homework", 100.0, 1.0, "m1")
        session.save(Progress(user_id=1), [])
    [claimed] = await reminders.claim_due(100.0, 10)
    await reminders.release(claimed.id, 300.0)
    assert [r.due_at for r in await reminders.waiting(1)] == [300.0]
    [claimed] = await reminders.claim_due(300.0, 10)
    assert await reminders.recover(now=400.0) == 0  # its lease still runs: nobody takes it back
    assert await reminders.recover(now=300.0 + 601.0) == 1  # the lease ran out: it waits again
    assert [r.status for r in await reminders.waiting(1)] == ["pending"]


async def test_an_unreachable_person_gets_no_more_reminders_until_they_write(store: ProgressStore) -> None:
    reminders = store.reminders
    async with store.session(1) as session:
        await reminders.plan(1, "homework", 100.0, 1.0)
        await reminders.plan(1, "checkin", 150.0, 1.0)
        session.save(Progress(user_id=1), [])
    [first] = await reminders.claim_due(100.0, 1)
    await reminders.unreachable(1, first.id, 101.0)
    assert await reminders.claim_due(1000.0, 10) == []
    async with store.session(1) as session:
        assert session.unreachable
        assert await reminders.reachable_again(1)
        session.save(Progress(user_id=1), [])
    async with store.session(1) as session:
        assert not session.unreachable


async def test_a_nudge_kept_on_the_row_is_released_when_due(store: ProgressStore) -> None:
    async with store.session(1) as session:
        session.nudge = Nudge(500.0, "basics:pick")
        session.save(Progress(user_id=1, updated_at=1.0), [])
    assert await store.reminders.release_nudges(499.0) == 0
    assert await store.reminders.release_nudges(500.0) == 1
    [nudge] = await store.reminders.claim_due(500.0, 10)
    assert (nudge.kind, nudge.ref) == ("nudge", "basics:pick")


async def test_check_ins_are_kept_sealed_and_read_back(backend: Backend) -> None:
    store = await open_store(backend, DataCipher([new_key()])).open()
    record = CheckinRecord(10.0, "2026-01-05", 7, 4, 3, 2, "calm")
    async with store.session(1) as session:
        await store.reminders.add_checkin(1, record)
        session.save(Progress(user_id=1, answers={"secret": "Quixotic"}), [Event("crisis", detail="safe")])
    assert await store.reminders.checkins(1, 0.0) == [record]
    await store.close()
    stored = query(backend.url, "SELECT data FROM checkins") + query(backend.url, "SELECT data FROM users")
    assert all(str(value).startswith("p1:") for (value,) in stored)  # their own key, not in clear
    assert query(backend.url, "SELECT detail FROM events")[0][0] != "safe"


async def test_everything_about_a_person_is_shown_then_erased(backend: Backend) -> None:
    store = await open_store(backend, DataCipher([new_key()])).open()
    for user_id in (1, 2):
        async with store.session(user_id) as session:
            await store.reminders.plan(user_id, "homework", 100.0, 1.0)
            await store.reminders.add_checkin(user_id, CheckinRecord(10.0, "2026-01-05", 1, 4, 1, 1, None))
            session.save(Progress(user_id=user_id, answers={"a": "Quixotic"}),
                         [Event("crisis", detail="safe")])
    await store.privacy.remember(1, [(11, 5.0, False), (12, 6.0, True)])
    found = await store.privacy.export(1)
    assert found is not None and found["progress"]["answers"] == {"a": "Quixotic"}
    assert set(found["tables"]) == {"users", "events", "reminders", "checkins", "recent_messages"}
    assert found["tables"]["events"][0]["detail"] == "safe"
    assert await store.privacy.erase(1) >= 5
    assert await store.privacy.export(1) is None
    assert await store.load(2) is not None  # the other person is untouched
    status = await store.privacy.key_status(every=True)
    assert (status.sealed, status.keys) == (1, 1)
    await store.close()


async def test_retention_erases_the_inactive_and_keeps_the_rest(store: ProgressStore) -> None:
    await store.save(Progress(user_id=1, updated_at=1_000.0), [])
    await store.save(Progress(user_id=2, updated_at=100 * 86400.0), [])
    assert [p.user_id for p in await store.privacy.inactive(100 * 86400.0, 30)] == [1]
    gone = await store.privacy.purge(100 * 86400.0, 30)
    assert [p.user_id for p in gone] == [1]
    assert await store.load(1) is None and await store.load(2) is not None
    counts = await store.privacy.counts(100 * 86400.0)
    assert counts["users"] == 1 and counts["active_1d"] == 1


async def test_message_ids_for_hide_are_kept_taken_and_expire(store: ProgressStore) -> None:
    await store.privacy.remember(1, [(11, 1000.0, False), (12, 1001.0, True)])
    assert await store.privacy.take_recent(1, 1002.0) == [12, 11]
    assert await store.privacy.take_recent(1, 1002.0) == []
    await store.privacy.remember(1, [(13, 1000.0, False)])
    await store.flush()
    assert await store.privacy.forget_expired(1000.0 + 49 * 3600.0) == 1


async def test_curriculum_versions_are_kept_while_someone_is_on_them(store: ProgressStore) -> None:
    await store.curricula.record("v1", {("en", "m", "s"): "aa"})
    await store.save(Progress(user_id=1, version="v1"), [])
    await store.curricula.record("v2", {("en", "m", "s"): "bb"})
    assert set(await store.curricula.recorded()) == {"v1", "v2"}
    await store.save(Progress(user_id=1, version="v2"), [])
    await store.curricula.record("v3", {("en", "m", "s"): "cc"})
    assert set(await store.curricula.recorded()) == {"v2", "v3"}


async def test_reports_read_either_backend_beside_the_bot(backend: Backend) -> None:
    store = await open_store(backend).open()
    await store.save(Progress(user_id=1, locale="es", module="basics", step="pick", version="v1",
                              updated_at=1000.0), [Event("crisis", "basics", "pick", detail="safe")])
    await store.curricula.record("v1", {("es", "basics", "pick"): "aa"})
    with ReportStore(backend.url) as report:  # while the bot's store is open
        assert report.user_count() == 1
        assert report.placements() == [Placement("v1", "es", "basics", "pick", 1)]
        assert report.event_details("crisis") == {"safe": 1}
        assert report.fingerprints() == {"v1": {("es", "basics", "pick"): "aa"}}
        assert list(report.weekly_active().values()) == [1]
    await store.close()


def test_a_setting_names_its_engine_and_no_password_is_shown() -> None:
    assert Location.parse("sqlite:///data/bot.sqlite3").path == Path("data/bot.sqlite3")
    assert Location.parse("sqlite:////var/lib/bot.sqlite3").path == Path("/var/lib/bot.sqlite3")
    assert Location.parse("data/bot.sqlite3").dialect.name == "sqlite"
    where = Location.parse("postgresql://craftbot:hunter2@db.internal:5432/craftbot")
    assert where.dialect.shared and "hunter2" not in str(where) and "db.internal" in str(where)


async def test_a_slow_batch_stays_its_claimers_while_it_makes_progress(store: ProgressStore) -> None:
    for user_id in (1, 2):
        async with store.session(user_id) as session:
            await store.reminders.plan(user_id, "homework", 100.0, 1.0)
            session.save(Progress(user_id=user_id), [])
    first, _ = await store.reminders.claim_due(100.0, 10)
    await store.reminders.mark_sent(first.id, 100.0 + 500.0)  # slow, but going
    assert await store.reminders.recover(now=100.0 + 700.0) == 0  # the other's lease ran on
    assert await store.reminders.recover(now=100.0 + 500.0 + 601.0) == 1  # then stalled: taken back
