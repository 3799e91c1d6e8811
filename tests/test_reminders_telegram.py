"""Reminders from the real bot (in this process), against the fake Bot API, with the clock in a file.

`CRAFTBOT_FAKE_CLOCK_FILE` makes the bot read the time from a file (state/service/clock.py); the
fake server stamps messages with the same clock. Tests move time by rewriting the file and
wait for what the bot sends; the bot looks for due reminders every 0.1 s here. Nothing in
the tests sleeps.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from state.service.clock import FileClock
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import InProcessBot
from tests.kit.curricula import practice_curriculum
from tests.kit.player import Player, texts
from tests.kit.world import LA, NY, at, local

REVIEW = "Your practice was"


@pytest.fixture
def clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FileClock:
    clock = FileClock(tmp_path / "clock")
    clock.set(at(NY, "2024-03-09 10:00"))
    monkeypatch.setenv("CRAFTBOT_FAKE_CLOCK_FILE", str(clock.path))
    return clock


@pytest.fixture
def server(clock: FileClock) -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        fake.now = clock
        yield fake


@pytest.fixture
def bot(server: FakeBotApi, tmp_path: Path) -> Iterator[InProcessBot]:
    curriculum = practice_curriculum(tmp_path / "curriculum")
    process = InProcessBot(server, tmp_path, curriculum, "reminders:\n  poll_seconds: 0.1\n").start()
    yield process
    process.stop()


def press(player: Player, label: str) -> list[dict[str, Any]]:
    """Tap the button labelled `label`, exactly if one is (Player.press takes the first that
    contains it: "No" would press "Not sure")."""
    shown = player.buttons()
    (message_id, _, data), *_ = [b for b in shown if b[1] == label] or [b for b in shown if label in b[1]]
    return player.inject("inject_callback", player.user_id, message_id, data)  # waits for the answer


def onboard(player: Player, *, zone: str | None = "Eastern", city: str | None = None) -> None:
    """Through onboarding with the real reminder questions, waiting for each answer."""
    type_ = player.server.inject_message
    until(player, lambda: type_(player.user_id, "/start"), "Is that okay with you?")
    steps = [("Yes, let's start", "call your loved one"), ("Sam", "Who is Sam to you?"),
             ("My partner", "mostly use"), ("Alcohol", "ever hurt you"), ("No", "weapons"),
             ("No", "Could someone else read"), ("No", "What time of day suits you"),
             ("Evening (19:00)", "Which time zone")]
    if city:
        steps += [("Somewhere else", "Which city"), (city, "your time zone is")]
    else:
        steps += [(zone, "Getting started")]
    for label, expect in steps:
        assert label is not None
        if label in ("Sam", city):
            until(player, lambda label=label: type_(player.user_id, label), expect)
        else:
            until(player, lambda label=label: press(player, label), expect)


def until(player: Player, act: Any, expect: str) -> list[dict[str, Any]]:
    """Do something and wait until the bot's answer contains `expect` (a busy machine may be slow)."""
    mark = player.server.sent_count(player.chat_id)
    act()
    player.server.wait_for(lambda s: expect in texts(s.sent(player.chat_id)[mark:]), timeout=15)
    return player.server.sent(player.chat_id)[mark:]


def basics(player: Player) -> None:
    steps = [("Next: Basics", "Tap when you are ready"), ("Ready", "How stressed"),
             ("7", "Which sounds kinder"),
             ("I'd love your help", "When does Sam usually use?"), ("evenings", "best time to talk"),
             ("sober and calm", "Which of these have you done?"), ("Paid a bill", ""),
             ("Done", "notice one sober moment")]
    for label, expect in steps:
        if not expect:  # a tick edits the list's buttons in place
            press(player, label)
            player.server.wait_for(lambda s, label=label: any(label in b[1] and "✅" in b[1]
                                                              for b in player.buttons()))
        elif label == "evenings":
            until(player, lambda: player.server.inject_message(player.user_id, "evenings"), expect)
        else:
            until(player, lambda label=label: press(player, label), expect)


def reminders_to(server: FakeBotApi, chat: int) -> list[dict[str, Any]]:
    return [m for m in server.sent(chat) if REVIEW in m.get("text", "")]


def wait_for_reminder(server: FakeBotApi, chat: int, count: int = 1) -> dict[str, Any]:
    server.wait_for(lambda s: len(reminders_to(s, chat)) >= count, timeout=15)
    return reminders_to(server, chat)[count - 1]


def test_two_time_zones_a_restart_and_the_review(server: FakeBotApi, bot: InProcessBot,
                                                 clock: FileClock) -> None:
    anna, ben = Player(server, 2001), Player(server, 2002)
    onboard(anna)
    onboard(ben, city="Los Angeles")
    basics(anna)
    basics(ben)
    bot.stop()  # planned, not yet sent: a restart loses nothing
    bot.start()

    clock.set(at(NY, "2024-03-11 19:00"))
    sent = wait_for_reminder(server, anna.chat_id)
    assert local(NY, sent["date"]) == "2024-03-11 19:00"
    server.wait_idle(quiet=0.5)
    assert reminders_to(server, ben.chat_id) == []  # 16:00 in Los Angeles
    clock.set(at(LA, "2024-03-11 19:00"))
    sent = wait_for_reminder(server, ben.chat_id)
    assert local(LA, sent["date"]) == "2024-03-11 19:00"

    until(anna, lambda: press(anna, "I tried it"), "How did it go?")
    until(anna, lambda: server.inject_message(anna.user_id, "We had a calm dinner."), "What got in the way")
    until(anna, lambda: press(anna, "Nothing did"), "Thank you")
    until(anna, lambda: server.inject_message(anna.user_id, "/menu"), "Modules")
    until(anna, lambda: press(anna, "Next steps"), "You already told me")
    until(ben, lambda: server.inject_message(ben.user_id, "/menu"), "Modules")
    until(ben, lambda: press(ben, "Next steps"), "Last time your homework was")

    clock.set(at(LA, "2024-03-12 20:00"))
    server.wait_idle(quiet=0.5)
    assert len(reminders_to(server, anna.chat_id)) == 1 and len(reminders_to(server, ben.chat_id)) == 1


def test_blocked_user_and_retry_after(server: FakeBotApi, bot: InProcessBot, clock: FileClock) -> None:
    carl, dana = Player(server, 2003), Player(server, 2004)
    for player in (carl, dana):
        onboard(player)
        basics(player)
    server.block(carl.user_id)
    server.flood(dana.chat_id, 2)
    before = {m: n for m, n in ((carl.chat_id, server.sent_count(carl.chat_id)),)}

    clock.set(at(NY, "2024-03-11 19:00"))
    server.wait_for(lambda s: any(e["error_code"] == 429 for e in s.errors), timeout=15)
    asked_to_wait = time.monotonic()
    wait_for_reminder(server, dana.chat_id)
    assert time.monotonic() - asked_to_wait >= 1.9  # waited as told, then sent
    server.wait_for(lambda s: any(e["error_code"] == 403 for e in s.errors), timeout=15)
    server.wait_idle(quiet=0.5)
    assert server.sent_count(carl.chat_id) == before[carl.chat_id]

    with sqlite3.connect(bot.database) as db:
        rows = dict(db.execute("SELECT kind, status FROM reminders WHERE user_id = ?", (carl.user_id,)))
        unreachable = db.execute("SELECT count(*) FROM unreachable WHERE user_id = ?",
                                 (carl.user_id,)).fetchone()[0]
    assert rows["homework"] == "failed" and unreachable == 1

    # Days later nothing is tried again for Carl; Dana's reminder came once.
    def tries_to_reach_carl() -> int:
        return sum(1 for m, p in server.calls if m == "sendMessage" and int(p["chat_id"]) == carl.chat_id)

    attempts = tries_to_reach_carl()
    clock.set(at(NY, "2024-03-16 19:00"))
    server.wait_idle(quiet=0.5)
    assert tries_to_reach_carl() == attempts
    assert len(reminders_to(server, dana.chat_id)) == 1


def test_snooze_and_the_progress_chart(server: FakeBotApi, bot: InProcessBot, clock: FileClock) -> None:
    erin = Player(server, 2005)
    onboard(erin)
    basics(erin)
    clock.set(at(NY, "2024-03-11 19:00"))
    wait_for_reminder(server, erin.chat_id)
    until(erin, lambda: press(erin, "Tomorrow"), "tomorrow at 19:00")
    clock.set(at(NY, "2024-03-12 18:59"))
    server.wait_idle(quiet=0.5)
    assert len(reminders_to(server, erin.chat_id)) == 1
    clock.set(at(NY, "2024-03-12 19:00"))
    sent = wait_for_reminder(server, erin.chat_id, 2)
    assert local(NY, sent["date"]) == "2024-03-12 19:00"

    until(erin, lambda: server.inject_message(erin.user_id, "/checkin"), "How stressed")
    for label, expect in (("6", "Did you notice"), ("Yes", "Did you reward it"), ("Yes", "did Sam use"),
                          ("Did not use", "check-in is saved")):
        until(erin, lambda label=label: press(erin, label), expect)
    mark = server.sent_count(erin.chat_id)
    server.inject_message(erin.user_id, "/progress")  # drawing takes a moment: wait for the photo
    server.wait_for(lambda s: any("photo" in m for m in s.sent(erin.chat_id)[mark:]), timeout=30)
    replies = server.sent(erin.chat_id)[mark:]
    assert "Your check-ins over the last 8 weeks" in texts(replies)
    (photo,) = [m for m in replies if "photo" in m]
    biggest = max(photo["photo"], key=lambda size: size["width"])
    assert (biggest["width"], biggest["height"]) == (800, 450)
    assert server.files[biggest["file_id"]]["data"].startswith(b"\x89PNG")
