"""Data rights on a real SQLite file: /hide, /mydata, /delete and retention, with an injected clock."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ptb.privacy import Retention
from state.contracts import Button, Command, Input, Press, Progress, Reply, TextIn
from state.curriculum.loader import load_curriculum
from state.curriculum.markup import to_plain
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.store.privacy import HIDE_WINDOW, PrivacyData
from state.store.progress import SqliteProgressStore

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "curriculum"
HOUR = 3600.0
DAY = 86400.0
T0 = 1_700_000_000.0
PHRASE = "Quixotic-Marmalade-7731"  # what the user writes; found nowhere after /delete


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Person:
    """A family member talking to `Conversations`, pressing buttons by label."""

    def __init__(self, conversations: Conversations, user_id: int) -> None:
        self.conversations = conversations
        self.user_id = user_id
        self.buttons: list[Button] = []
        self.last = Reply()

    async def send(self, message: Input) -> Reply:
        reply = await self.conversations.handle(self.user_id, message, language="en")
        assert reply is not None
        found = [b for m in reply.messages for row in m.buttons for b in row]
        self.buttons = found or self.buttons
        self.last = reply
        return reply

    async def say(self, text: str) -> Reply:
        return await self.send(Command(text[1:]) if text.startswith("/") else TextIn(text))

    async def press(self, label: str) -> Reply:
        data = next((b.data for b in self.buttons if label in b.label), None)
        assert data is not None, f"no button {label!r} in {[b.label for b in self.buttons]}"
        return await self.send(Press(data))

    async def onboard_and_answer(self, name: str, answer: str) -> None:
        """Onboarding with `name` as the loved one, then a free-text answer in Basics."""
        await self.say("/start")
        await self.press("Yes, let's start")
        await self.say(name)
        for label in ("My partner", "Alcohol", "No", "No", "No", "Next: Basics", "Ready", "5",
                      "I'd love your help"):
            await self.press(label)
        await self.say(answer)


def said(reply: Reply) -> str:
    return "\n".join(to_plain(m.html) for m in reply.messages)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_curriculum(SAMPLE))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteProgressStore]:
    opened = await SqliteProgressStore(tmp_path / "data" / "bot.sqlite3").open()
    yield opened
    await opened.close()


def file_bytes(database: Path) -> dict[str, bytes]:
    """The bytes of the database and its -wal and -shm files (those that exist)."""
    found = {}
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{database}{suffix}")
        if path.exists():
            found[path.name] = path.read_bytes()
    return found


def query(store: SqliteProgressStore, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Run one statement on the database file with a connection of the test's own."""
    db = sqlite3.connect(store.path, isolation_level=None)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


async def rows_about(store: SqliteProgressStore, user_id: int) -> dict[str, int]:
    counts = {}
    for table in await PrivacyData(store).user_tables():
        rows = query(store, f'SELECT count(*) FROM "{table}" WHERE user_id = ?', (user_id,))
        counts[table] = int(rows[0][0])  # type: ignore[call-overload]
    return counts


async def test_hide_deletes_the_last_48_hours_and_never_older(engine: Engine,
                                                                store: SqliteProgressStore) -> None:
    clock = Clock()
    conversations = Conversations(engine, store, clock)
    privacy = conversations.privacy
    # (id, age in hours at the time of /hide, sent by the bot)
    history = [(1, 60.0, False), (2, 49.0, True), (3, 48.1, False), (4, 47.99, True),
               (5, 47.5, False), (6, 30.0, True), (7, 1.0, False), (8, 0.0, True)]
    hide_at = T0 + 100 * HOUR
    for message_id, age, from_bot in history:
        await privacy.remember(42, [(message_id, hide_at - age * HOUR, from_bot)])
    await privacy.remember(43, [(1, hide_at - HOUR, False)])  # someone else's chat
    clock.now = hide_at

    reply = await conversations.handle(42, Command("hide"))
    assert reply is not None
    # newest first; 4 is within the 10-minute safety margin of the limit, 1-3 are too old
    assert reply.delete == [8, 7, 6, 5]
    assert all(hide_at - dict((m, a) for m, a, _ in history)[m] * HOUR > hide_at - HIDE_WINDOW
               for m in reply.delete)
    assert "Clear history" in said(reply) and len(reply.messages) == 1
    assert not reply.messages[0].buttons
    assert (await rows_about(store, 42))["recent_messages"] == 0
    assert (await rows_about(store, 43))["recent_messages"] == 1
    again = await conversations.handle(42, Command("hide"))
    assert again is not None and again.delete == []


async def test_hide_trusts_telegrams_clock_when_ours_is_behind(engine: Engine,
                                                               store: SqliteProgressStore) -> None:
    clock = Clock(T0)
    conversations = Conversations(engine, store, clock)
    # Telegram dated these 47.9 h apart; our clock lags the newest date by a day
    await conversations.privacy.remember(9, [(1, T0 - 23.9 * HOUR, True), (2, T0 + DAY, False),
                                             (3, T0 - 23 * HOUR, True)])
    reply = await conversations.handle(9, Command("hide"))
    assert reply is not None and reply.delete == [2, 3]


async def test_records_older_than_48_hours_are_dropped_within_the_hour(store: SqliteProgressStore) -> None:
    privacy = PrivacyData(store)
    clock = Clock(T0)
    retention = Retention(privacy, clock, days=0)
    await privacy.remember(5, [(1, T0, False)])
    await privacy.remember(6, [(2, T0 + HOUR, True)])

    async def kept() -> list[int]:
        return [r[0] for r in query(store, "SELECT message_id FROM recent_messages")]

    clock.now = T0 + HIDE_WINDOW - HOUR
    await retention.tick()  # the first round is the daily purge
    assert await kept() == [1, 2] and retention.purged_at == clock.now
    clock.now = T0 + HIDE_WINDOW + HOUR / 2  # an hourly round, not the daily purge
    await retention.tick()
    assert await kept() == [2] and retention.purged_at == T0 + HIDE_WINDOW - HOUR
    clock.now = T0 + HIDE_WINDOW - HOUR + DAY  # a day after the last purge: the next one
    await retention.tick()
    assert await kept() == [] and retention.purged_at == clock.now


async def test_mydata_sends_everything_stored_as_json_and_a_summary(engine: Engine,
                                                                    store: SqliteProgressStore) -> None:
    clock = Clock()
    conversations = Conversations(engine, store, clock)
    # a table a later migration might add: found by its user_id column, unasked
    query(store, "CREATE TABLE later_notes (id INTEGER PRIMARY KEY, user_id INTEGER, due REAL)")
    query(store, "INSERT INTO later_notes (user_id, due) VALUES (11, 5.0), (12, 6.0)")
    person = Person(conversations, 11)
    await person.onboard_and_answer("Marianne", f"after dinner, {PHRASE}")
    await conversations.privacy.remember(11, [(77, T0, False), (78, T0, True)])
    other = Person(conversations, 12)
    await other.onboard_and_answer("Zebulon", "mornings")

    reply = await person.say("/mydata")
    assert len(reply.documents) == 1
    document = reply.documents[0]
    assert document.name.endswith(".json") and "craft" not in document.name.lower()
    data = json.loads(document.data)
    assert data["user_id"] == 11
    assert data["progress"]["answers"]["loved_one"] == "Marianne"
    assert PHRASE in json.dumps(data["progress"]["answers"])
    assert "onboarding" in data["progress"]["completed"]
    assert {e["kind"] for e in data["tables"]["events"]} >= {"module_started"}
    assert [r["message_id"] for r in data["tables"]["recent_messages"]] == [77, 78]
    assert data["tables"]["later_notes"] == [{"id": 1, "user_id": 11, "due": 5.0}]
    assert data["tables"]["users"][0]["module"] == "basics" and "data" not in data["tables"]["users"][0]
    assert "Zebulon" not in document.data.decode()
    summary = said(reply)
    assert "Modules finished: 1" in summary and "Saved answers:" in summary
    assert "/hide" in summary
    assert "Marianne" not in summary and PHRASE not in summary  # not echoed unasked

    nobody = await conversations.handle(99, Command("mydata"))
    assert nobody is not None and not nobody.documents and "nothing" in said(nobody)


async def test_delete_asks_twice_then_leaves_no_byte_of_what_they_wrote(
        engine: Engine, store: SqliteProgressStore) -> None:
    clock = Clock()
    conversations = Conversations(engine, store, clock)
    query(store, "CREATE TABLE later_notes (user_id INTEGER, note TEXT)")
    others = [Person(conversations, uid) for uid in range(200, 230)]
    for other in others[:15]:
        await other.onboard_and_answer(f"Friend{other.user_id}", "weekends " * 40)
    person = Person(conversations, 21)
    await person.onboard_and_answer(PHRASE, f"when {PHRASE} comes home " + "x" * 2900)  # overflow pages
    query(store, "INSERT INTO later_notes VALUES (21, ?)", (f"remind {PHRASE}",))
    await conversations.privacy.remember(21, [(5, T0, False)])
    if "reminders" in await conversations.privacy.user_tables():  # migration 003: scheduled messages
        query(store, "INSERT INTO reminders (user_id, kind, due_at, created_at)"
                               " VALUES (21, 'checkin', ?, ?)", (T0 + DAY, T0))
    for other in others[15:]:
        await other.onboard_and_answer(f"Friend{other.user_id}", "evenings")
    before = file_bytes(store.path)
    assert any(PHRASE.encode() in data for data in before.values())

    reply = await person.say("/delete")
    assert "can't be undone" in said(reply)
    reply = await person.press("Yes, erase")
    assert "Last check" in said(reply)
    assert sum((await rows_about(store, 21)).values()) > 0  # one tap never erases
    reply = await person.press("Erase everything now")
    assert "erased" in said(reply) and reply.remember is False

    left = await rows_about(store, 21)
    assert set(left) >= {"events", "recent_messages", "later_notes", "users"}
    assert sum(left.values()) == 0, left
    after = file_bytes(store.path)
    assert set(after) >= {"bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm"}
    for name, data in after.items():
        assert PHRASE.encode() not in data, f"{PHRASE} still in {name}"
    for other in others:  # everyone else untouched
        progress = await store.load(other.user_id)
        assert progress is not None and progress.answers["loved_one"] == f"Friend{other.user_id}"


async def test_delete_can_be_cancelled_and_its_buttons_expire(engine: Engine,
                                                              store: SqliteProgressStore) -> None:
    clock = Clock()
    conversations = Conversations(engine, store, clock)
    person = Person(conversations, 31)
    await person.onboard_and_answer("Ana", "late at night")
    await person.say("/delete")
    reply = await person.press("No, keep it")
    assert "Nothing was erased" in said(reply)
    assert await store.load(31) is not None

    await person.say("/delete")
    clock.now += 11 * 60
    reply = await person.press("Yes, erase")
    assert "expired" in said(reply)
    await person.say("/delete")
    await person.press("Yes, erase")
    clock.now += 11 * 60
    reply = await person.press("Erase everything now")
    assert "expired" in said(reply)
    assert await store.load(31) is not None

    forged = await conversations.handle(31, Press("p:d2:not-a-time"))
    assert forged is not None and "expired" in said(forged)
    assert await store.load(31) is not None


async def test_retention_erases_people_inactive_longer_than_the_period(
        engine: Engine, store: SqliteProgressStore) -> None:
    clock = Clock(T0)
    conversations = Conversations(engine, store, clock)
    gone, kept = Person(conversations, 51), Person(conversations, 52)
    await gone.onboard_and_answer("Old", "long ago")
    await conversations.privacy.remember(51, [(1, T0, False)])
    clock.now = T0 + 300 * DAY
    await kept.onboard_and_answer("Recent", "lately")
    privacy = conversations.privacy

    assert await privacy.purge(T0 + 360 * DAY, 365) == []
    assert [p.user_id for p in await privacy.inactive(T0 + 366 * DAY, 365)] == [51]
    assert await privacy.purge(T0 + 366 * DAY, 0) == []  # 0: kept until people delete it
    erased = await privacy.purge(T0 + 366 * DAY, 365)
    assert [p.user_id for p in erased] == [51]
    assert sum((await rows_about(store, 51)).values()) == 0
    assert await store.load(52) is not None


async def test_the_purge_command_counts_then_erases(engine: Engine, tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    store = await SqliteProgressStore(database).open()
    for user_id, days_ago in ((61, 400), (62, 500), (63, 10)):
        at = time.time() - days_ago * DAY
        await store.save(Progress(user_id=user_id, answers={"loved_one": "Kim"}, created_at=at,
                                  updated_at=at), [])
    await store.close()
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  database: {database}\nprivacy:\n  retention_days: 365\n")

    def purge(*extra: str) -> str:
        done = subprocess.run([sys.executable, "-m", "bot.cli", "purge", "--config", str(config), *extra],
                              cwd=REPO, capture_output=True, text=True, check=True)
        return done.stdout

    out = purge("--dry-run")
    assert out.startswith("would erase 2 user(s) inactive for more than 365 day(s)")
    assert "61" not in out and "62" not in out  # no ids printed
    assert purge().startswith("erased 2 user(s)")
    store = await SqliteProgressStore(database).open()
    assert await store.count_users() == 1 and await store.load(63) is not None
    await store.close()
    assert purge().startswith("erased 0 user(s)")
