"""Check-in values, safety answers, the discreet flag and crisis pathways: sealed in the file with a key."""

from __future__ import annotations

import io
import json
import sqlite3
from importlib import resources
from pathlib import Path

import pytest
from PIL import Image

from state.contracts import Command, Event, Progress
from state.store.crypto import DataCipher, DataKeyError, new_key
from state.store.privacy import PrivacyData
from state.store.progress import SqliteProgressStore
from state.store.reports import SEALED, ReportStore
from state.store.sealing import is_token
from tests.kit.world import make_world, said
from tests.test_privacy import file_bytes

# What a person answered, as the store would keep it in clear; none may be in the file.
CLEAR_DETAILS = {"safe", "unsafe", "unsure", "yes", "no", "on", "off", "own_danger", "violence"}
LOVED_ONE_DAY = "not_used"


def every_value(path: Path) -> list[tuple[str, str, object]]:
    """(table, column, value) of every column of every row of every table, read without a key."""
    db = sqlite3.connect(path)
    try:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = []
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            found += [(table, name, value) for row in cursor for name, value in zip(names, row, strict=True)]
        return found
    finally:
        db.close()


def in_clear(path: Path) -> list[tuple[str, str, object]]:
    """Every stored value that gives away a check-in value, a safety answer or the discreet flag."""
    leaks = []
    for table, column, value in every_value(path):
        text = str(value)
        if (text in CLEAR_DETAILS or LOVED_ONE_DAY in text or '"stress"' in text
                or (table == "checkins" and column in ("stress", "sober_days", "rewards", "loved_one_day"))
                or (table == "events" and column == "detail" and value is not None and not is_token(text))):
            leaks.append((table, column, value))
    return leaks


async def test_a_check_in_a_crisis_answer_and_discreet_mode_are_sealed(tmp_path: Path) -> None:
    world = await make_world(tmp_path, DataCipher.from_text(new_key()))
    try:
        await world.onboard(50)
        await world.say(50, Command("checkin"))
        await world.press(50, "9")
        await world.press(50, "Yes")
        await world.press(50, "Not this time")
        await world.press(50, "Did not use")
        await world.text(50, "I want to kill myself")
        await world.press(50, "I'm not safe")
        await world.say(50, Command("discreet", "on"))

        mydata = await world.say(50, Command("mydata"))
        (document,) = mydata.documents
        tables = json.loads(document.data)["tables"]
        (checkin,) = tables["checkins"]
        assert (checkin["stress"], checkin["sober_days"], checkin["rewards"]) == (9, 1, 0)
        assert checkin["loved_one_day"] == LOVED_ONE_DAY and "data" not in checkin
        details = [(e["kind"], e["detail"]) for e in tables["events"] if e["detail"] is not None]
        assert ("crisis_answer", "unsafe") in details and ("discreet", "on") in details
        assert ("crisis", "own_danger") in details

        chart = await world.say(50, Command("progress"))
        assert "(1 in all)" in said(chart)
        series = json.loads(Image.open(io.BytesIO(chart.photos[0].data)).info["Description"])
        assert series["stress"][-1] == 9.0 and series["sober_days"][-1] == 1
    finally:
        await world.close()

    assert in_clear(world.path) == []
    kinds = {value for table, column, value in every_value(world.path) if column == "kind"}
    assert {"crisis", "crisis_answer", "discreet"} <= kinds  # counted, without what they say
    for data in file_bytes(world.path).values():
        assert LOVED_ONE_DAY.encode() not in data and b"unsafe" not in data


def old_database(path: Path) -> None:
    """A database built by migrations 001-006 (check-in values in columns), rows in clear."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_migrations"
               " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    for item in sorted(resources.files("state.store").joinpath("migrations").iterdir(), key=lambda f: f.name):
        if not item.name.endswith(".sql"):  # postgresql/: PostgreSQL's own
            continue
        version = int(item.name.split("_", 1)[0])
        if version <= 6:
            db.executescript(item.read_text(encoding="utf-8"))
            db.execute("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))", (version, item.name))
    progress = json.dumps({"user_id": 60, "module": "basics", "step": "intro", "created_at": 1.0,
                           "updated_at": 2.0, "answers": {}})
    db.execute("INSERT INTO users (user_id, data, created_at, updated_at) VALUES (60, ?, 1, 2)", (progress,))
    db.execute("INSERT INTO checkins (user_id, at, day, period_days, stress, sober_days, rewards,"
               " loved_one_day) VALUES (60, 100.0, '2024-03-09', 1, 8, 1, 2, ?)", (LOVED_ONE_DAY,))
    db.executemany("INSERT INTO events (user_id, kind, detail, at) VALUES (60, ?, ?, 50.0)",
                   [("crisis", "violence"), ("crisis_answer", "unsafe"), ("crisis_check_answer", "yes"),
                    ("discreet", "off"), ("module_started", None)])
    db.close()


def stored(path: Path) -> tuple[list[str], list[str | None]]:
    """(check-in data, event details) as they are in the file."""
    db = sqlite3.connect(path)
    try:
        return ([str(row[0]) for row in db.execute("SELECT data FROM checkins ORDER BY id")],
                [row[0] for row in db.execute("SELECT detail FROM events ORDER BY id")])
    finally:
        db.close()


async def test_rows_from_before_the_key_are_sealed_on_open_and_outlive_a_rotation(tmp_path: Path) -> None:
    database = tmp_path / "old.sqlite3"
    old_database(database)
    old, new = new_key(), new_key()
    store = await SqliteProgressStore(database, DataCipher.from_text(old)).open()
    (record,) = await store.reminders.checkins(60, 0)
    assert (record.stress, record.sober_days, record.rewards) == (8, 1, 2)
    assert record.loved_one_day == LOVED_ONE_DAY
    await store.close()
    assert in_clear(database) == []
    sealed = stored(database)
    assert sealed[1][-1] is None  # no detail stays no detail

    store = await SqliteProgressStore(database, DataCipher.from_text(old)).open()  # nothing left to seal
    await store.close()
    assert stored(database) == sealed

    store = await SqliteProgressStore(database).open()  # without the key the values cannot be read
    with pytest.raises(DataKeyError):
        await store.reminders.checkins(60, 0)
    await store.close()

    store = await SqliteProgressStore(database, DataCipher.from_text(f"{new},{old}")).open()
    assert await PrivacyData(store).rotate(DataCipher.from_text(f"{new},{old}") or pytest.fail()) == 1
    await store.close()
    assert stored(database) == sealed  # rotation re-wraps the person's key; the data is not touched
    store = await SqliteProgressStore(database, DataCipher.from_text(new)).open()  # the old key retired
    found = await PrivacyData(store).export(60)
    await store.close()
    assert found is not None and found["tables"]["checkins"][0]["stress"] == 8
    assert [e["detail"] for e in found["tables"]["events"]] == ["violence", "unsafe", "yes", "off", None]


async def test_a_wrong_key_seals_nothing(tmp_path: Path) -> None:
    database = tmp_path / "old.sqlite3"
    old_database(database)
    store = await SqliteProgressStore(database, DataCipher.from_text(new_key())).open()
    await PrivacyData(store).rotate(store.cipher or pytest.fail())  # everything sealed with this key
    await store.close()
    db = sqlite3.connect(database)
    db.execute("INSERT INTO events (user_id, kind, detail, at) VALUES (61, 'discreet', 'on', 60.0)")
    db.commit()
    db.close()
    store = await SqliteProgressStore(database, DataCipher.from_text(new_key())).open()
    await store.close()
    assert stored(database)[1][-1] == "on"  # left for the right key, not sealed with the wrong one


async def test_stats_count_sealed_crisis_pathways_with_the_key(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    key = DataCipher.from_text(new_key())
    store = await SqliteProgressStore(database, key).open()
    for user_id, pathway in ((1, "violence"), (2, "violence"), (3, "own_danger")):
        progress = Progress(user_id=user_id, created_at=1.0, updated_at=1_700_000_000.0)
        await store.save(progress, [Event("crisis", None, None, pathway)])
    await store.close()
    with ReportStore(database, key) as report:
        assert report.event_details("crisis") == {"own_danger": 1, "violence": 2}
        assert len(report.event_times("crisis")) == 3
    with ReportStore(database) as report:
        assert report.event_details("crisis") == {SEALED: 3}
        assert len(report.event_times("crisis")) == 3
    with ReportStore(database, DataCipher.from_text(new_key())) as report, pytest.raises(DataKeyError):
        report.event_details("crisis")


async def test_a_reply_kept_in_clear_before_the_key_is_sealed_on_open_and_shown_by_mydata(
        tmp_path: Path) -> None:
    world = await make_world(tmp_path)  # no key yet
    database = world.path
    try:
        await world.onboard(61)
        await world.conversations.handle(61, Command("menu"), update_id=900)  # saved; never sent
    finally:
        await world.close()
    with sqlite3.connect(database) as db:
        (body,), = db.execute("SELECT body FROM replies WHERE user_id = 61")
    assert body.startswith("{")
    key = new_key()
    store = await SqliteProgressStore(database, DataCipher.from_text(key)).open()  # seals it
    try:
        kept = await store.run(lambda db: db.execute("SELECT body FROM replies WHERE user_id = 61").fetchone(
            ))
        assert str(kept[0]).startswith("p1:")
        found = await PrivacyData(store).export(61)
    finally:
        await store.close()
    assert found is not None
    (row,) = found["tables"]["replies"]
    assert row["update_id"] == 900 and row["done_at"] is None and row["body"]["messages"]
