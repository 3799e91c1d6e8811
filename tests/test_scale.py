"""Three `craftbot run` instances on one PostgreSQL, webhook mode, behind a round-robin proxy.

The fake Bot API posts each update to the proxy, which hands it to the next instance in turn,
so one person's consecutive messages land on different instances. What a person notices is
checked against one person who walked the same script alone, message by message: each
person's replies are the same, in the same order (none lost, none twice, none reordered).
Reminders that fall due are sent once each, though three instances look for them at once.
Then one instance is killed outright (SIGKILL) in the middle of a crowd's chatting, while it
has one person's reply in hand, and started again: every chat it did not hold is exactly as
before; the chats it held go on once its leases run out (the clock, in a file shared by every
process, is moved past them once the others are quiet), with every message of the replies it
was sending, in order, the one in flight at the kill perhaps twice; and every reminder is
closed, none claimed more than twice. A crisis interrupt cut off by a kill after its first
message reaches the person whole, each message once, from another instance; and an update
whose reply went out whole, taken up again by another instance (as after a kill between the
last send and the inbox's record), stays silent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from state.engine.between_sessions.schedule import DEFAULT_QUIET, DEFAULT_ZONE
from state.engine.between_sessions.timezones import in_quiet
from state.service.clock import FileClock
from state.store.crypto import KEY_ENV, new_key
from tests.kit.botapi_webhook import WebhookBotApi
from tests.kit.fleet import Fleet
from tests.kit.player import Player
from tests.kit.postgres import query

pytestmark = pytest.mark.e2e  # real `craftbot run` processes

# What each person types, one message after the other (typed button labels count as presses).
SCRIPT = ["/start", "Yes, let's start", "Sam", "My partner", "Alcohol", "No", "No", "No",
          "/progress", "/help", "/menu"]
REFERENCE = 9001
CROWD = range(9101, 9121)  # twenty people chatting at once
AFTER_KILL = range(9201, 9221)  # twenty more while an instance dies and comes back
CRISIS = "honestly i want to die some days"
LEASES_PAST = 11 * 60.0  # seconds: past the inbox's (60 s) and the reminders' (10 min) leases


def daytime(now: float) -> float:
    """`now`, or when that falls in the default quiet hours (21:00-09:00 New York time, when a
    due check-in is deferred, not closed) whole hours earlier, in the hour before they began:
    the test reads the same whatever the hour it runs at. Behind real time, never ahead, so
    Telegram's message dates never look old."""
    hour = 3600.0
    while in_quiet(now, DEFAULT_ZONE, DEFAULT_QUIET):
        now -= hour
    return now


@pytest.fixture
def clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FileClock:
    clock = FileClock(tmp_path / "clock")
    clock.set(daytime(time.time()))
    monkeypatch.setenv("CRAFTBOT_FAKE_CLOCK_FILE", str(clock.path))
    return clock


@pytest.fixture
def fleet(tmp_path: Path, pg_url: str, pg_keys_url: str, clock: FileClock,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[WebhookBotApi, Fleet]]:
    monkeypatch.setenv("CRAFTBOT_STORAGE__URL", pg_url)
    monkeypatch.setenv("CRAFTBOT_STORAGE__KEYS_URL", pg_keys_url)
    monkeypatch.setenv(KEY_ENV, new_key())
    with WebhookBotApi() as server:
        server.now = clock
        bots = Fleet(server, tmp_path, 3, extra_config="reminders:\n  poll_seconds: 0.2\n")
        try:
            yield server, bots.start()
        finally:
            bots.stop()


def transcript(server: WebhookBotApi, person: int) -> list[str]:
    """What the bot said to a person, in the order it arrived."""
    return [str(m.get("text") or m.get("caption") or "") for m in server.sent(person)]


def walk_alone(server: WebhookBotApi) -> list[str]:
    """The script typed by one person, waiting for each reply: the transcript to compare with."""
    server.add_user(REFERENCE)
    player = Player(server, REFERENCE)
    for text in SCRIPT:
        player.send(text)
    return transcript(server, REFERENCE)


def chat_all_at_once(server: WebhookBotApi, people: range) -> None:
    """Everyone types the whole script without waiting (Telegram delivers each chat in order)."""
    for person in people:
        server.add_user(person)
    for text in SCRIPT:
        for person in people:
            server.inject_message(person, text)


def wait_for_replies(server: WebhookBotApi, people: range, count: int, timeout: float = 120) -> None:
    server.wait_for(lambda s: all(s.sent_count(p) >= count for p in people), timeout=timeout)
    server.wait_idle(quiet=0.5, timeout=60)


def assert_same_as(reference: list[str], server: WebhookBotApi, people: range) -> None:
    for person in people:
        assert transcript(server, person) == reference, f"person {person}"


def repeats(said: list[str]) -> tuple[list[str], int]:
    """A transcript with each message said twice in a row said once, and how many were repeats."""
    kept = [text for i, text in enumerate(said) if i == 0 or text != said[i - 1]]
    return kept, len(said) - len(kept)


def instance_of(bots: Fleet, pid: int | None) -> int:
    """Which instance of the fleet runs as this process."""
    return next(i for i, bot in enumerate(bots.bots) if bot.proc and bot.proc.pid == pid)


def holder(pg_url: str, chat: int) -> int | None:
    """The process id of the instance holding a lease on this chat's update, if one does."""
    owners = query(pg_url, "SELECT owner FROM inbox WHERE chat_id = ? AND owner IS NOT NULL", (chat,))
    return int(str(owners[0][0]).split(":")[1]) if owners else None


def retaken_chats(pg_url: str) -> set[int]:
    """The chats one of whose updates was taken more than once (a dead instance had it in hand)."""
    return {int(chat) for (chat,) in query(pg_url, "SELECT DISTINCT chat_id FROM inbox WHERE attempts > 1")}


def plan_checkins(pg_url: str, people: range, now: float) -> None:
    """A check-in reminder due now for each of these people (as /checkin's schedule plans them)."""
    for person in people:
        query(pg_url, "INSERT INTO reminders (user_id, kind, due_at, created_at) VALUES (?, 'checkin', ?, ?)",
              (person, now, now))


def open_reminders(pg_url: str) -> int:
    """How many reminders wait or are being sent."""
    (count,), = query(pg_url, "SELECT count(*) FROM reminders WHERE status IN ('pending', 'sending')")
    return int(str(count))


def test_three_instances_answer_each_person_in_order_once(fleet: tuple[WebhookBotApi, Fleet],
                                                          pg_url: str, clock: FileClock) -> None:
    server, bots = fleet
    reference = walk_alone(server)
    assert len(reference) >= len(SCRIPT)
    chat_all_at_once(server, CROWD)
    wait_for_replies(server, CROWD, len(reference))
    assert_same_as(reference, server, CROWD)
    assert all(count > 0 for count in bots.proxy.forwarded.values()) and len(bots.proxy.forwarded) == 3
    assert query(pg_url, "SELECT count(*) FROM inbox WHERE handled_at IS NULL") == [(0,)]
    # Every reminder was closed (none lost); one the dead instance had claimed was claimed
    # again once its lease ran out, no other twice.
    server.wait_for(lambda s: not open_reminders(pg_url), timeout=60)
    assert query(pg_url, "SELECT count(*) FROM reminders WHERE attempts > 2 OR attempts = 0") == [(0,)]

    # A check-in reminder falls due for each of them; three instances look for due ones at
    # once. Each is claimed by one of them, once, and closed (the sample curriculum's people
    # have no reminders turned on, so each is closed unsent: `skipped`).
    plan_checkins(pg_url, CROWD, clock())
    server.wait_for(lambda s: not open_reminders(pg_url), timeout=60)
    assert query(pg_url, "SELECT status, attempts, count(*) FROM reminders GROUP BY status, attempts") \
        == [("skipped", 1, len(CROWD))]
    assert "Sam" not in bots.logs()


def test_an_instance_killed_mid_run_loses_and_doubles_nothing(fleet: tuple[WebhookBotApi, Fleet],
                                                              pg_url: str, clock: FileClock) -> None:
    server, bots = fleet
    reference = walk_alone(server)
    stuck = AFTER_KILL[0]
    server.hold(stuck)  # the reply to this person hangs at "Telegram": an instance has it in hand
    plan_checkins(pg_url, range(REFERENCE, REFERENCE + 1), clock())
    chat_all_at_once(server, AFTER_KILL)
    plan_checkins(pg_url, AFTER_KILL, clock())  # due while they chat, and while one instance dies
    server.wait_for(lambda s: holder(pg_url, stuck) is not None, timeout=60)
    victim = instance_of(bots, holder(pg_url, stuck))
    assert bots.kill(victim) < 0  # mid-run, with that person's update and others in its hands
    server.release(stuck)
    bots.start(victim)
    server.wait_idle(quiet=2.0, timeout=120)  # all but the chats the dead instance held
    clock.set(clock() + LEASES_PAST)  # its leases run out; nobody else has anything in hand
    server.wait_for(lambda s: all(transcript(s, p)[-1:] == reference[-1:] for p in AFTER_KILL), timeout=120)
    server.wait_idle(quiet=0.5, timeout=60)
    retaken = retaken_chats(pg_url)
    assert stuck in retaken and retaken <= set(AFTER_KILL)
    whole = repeats(reference)[0]
    for person in AFTER_KILL:
        said, repeated = repeats(transcript(server, person))
        if person not in retaken:
            assert said == whole and not repeated, f"person {person}"
            continue
        # The chats the dead instance had in hand: the update it was on is handled again and
        # recognised (state/service/redelivery.py): the rest of its reply is sent, from the
        # first message Telegram had not accepted (the one in flight at the kill may come
        # twice). Nothing is missing, nothing is out of order.
        assert said == whole and repeated <= 1, f"person {person}"
    assert query(pg_url, "SELECT count(*) FROM inbox WHERE handled_at IS NULL") == [(0,)]
    # Every reminder was closed (none lost); one the dead instance had claimed was claimed
    # again once its lease ran out, no other twice.
    server.wait_for(lambda s: not open_reminders(pg_url), timeout=60)
    assert query(pg_url, "SELECT count(*) FROM reminders WHERE attempts > 2 OR attempts = 0") == [(0,)]


def test_a_crisis_reply_cut_off_by_a_kill_reaches_the_person_whole_from_another_instance(
        fleet: tuple[WebhookBotApi, Fleet], pg_url: str, clock: FileClock) -> None:
    server, bots = fleet
    server.add_user(REFERENCE)
    Player(server, REFERENCE).send("/start")
    interrupt = [str(m.get("text", "")) for m in Player(server, REFERENCE).send(CRISIS)]
    assert len(interrupt) > 1 and "988" in " ".join(interrupt[1:])
    person = AFTER_KILL[0]
    server.add_user(person)
    Player(server, person).send("/start")
    mark = server.sent_count(person)
    # The interrupt's first message goes out; Telegram fails every later one, so the
    # instance is still trying to send the help when it is killed.
    server.fail("sendMessage", person, 0, *[502] * 1000)
    server.inject_message(person, CRISIS)
    server.wait_for(lambda s: any(e["error_code"] == 502 for e in s.errors), timeout=60)
    victim = instance_of(bots, holder(pg_url, person))
    assert bots.kill(victim) < 0
    server.clear_faults()
    bots.start(victim)
    clock.set(clock() + LEASES_PAST)  # its lease runs out: another instance takes the update
    server.wait_for(lambda s: s.sent_count(person) >= mark + len(interrupt), timeout=120)
    server.wait_idle(quiet=1.0, timeout=60)
    assert transcript(server, person)[mark:] == interrupt  # each message once, in order
    assert query(pg_url, "SELECT attempts FROM inbox WHERE chat_id = ? AND handled_at IS NOT NULL"
                         " ORDER BY update_id DESC LIMIT 1", (person,)) == [(2,)]
    assert query(pg_url, "SELECT body IS NULL, done_at IS NOT NULL FROM replies WHERE user_id = ?",
                 (person,)) == [(True, True)]


def test_an_update_whose_reply_went_out_whole_stays_silent_on_another_instance(
        fleet: tuple[WebhookBotApi, Fleet], pg_url: str) -> None:
    server, bots = fleet
    person = AFTER_KILL[0]
    server.add_user(person)
    player = Player(server, person)
    player.send("/start")
    server.hold(person)  # keeps the update in the inbox, sealed, while an instance has it
    server.inject_message(person, SCRIPT[1])
    server.wait_for(lambda s: holder(pg_url, person) is not None, timeout=60)
    (update_id, body), = query(pg_url, "SELECT update_id, body FROM inbox WHERE chat_id = ?"
                                       " AND handled_at IS NULL", (person,))
    handler = instance_of(bots, holder(pg_url, person))
    server.release(person)
    server.wait_for(lambda s: query(pg_url, "SELECT handled_at IS NOT NULL FROM inbox WHERE update_id = ?",
                                    (update_id,)) == [(True,)], timeout=60)
    server.wait_idle(quiet=0.5, timeout=60)
    seen = transcript(server, person)
    assert bots.bots[handler].stop() == 0  # gone: another instance must take the update
    # The state a kill after the last send, before the inbox's record, leaves: the update
    # waits in the inbox again, and the instance that sent its reply is gone.
    query(pg_url, "UPDATE inbox SET handled_at = NULL, body = ? WHERE update_id = ?", (body, update_id))
    server.wait_for(lambda s: query(pg_url, "SELECT handled_at IS NOT NULL, attempts FROM inbox"
                                            " WHERE update_id = ?", (update_id,)) == [(True, 2)], timeout=60)
    server.wait_idle(quiet=1.0, timeout=60)
    assert transcript(server, person) == seen  # nothing sent again, nothing doubled
