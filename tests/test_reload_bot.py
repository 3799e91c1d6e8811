"""Safe reload end to end: the real `craftbot run` process, SIGHUP and /reload, a fake Telegram.

An invalid curriculum never replaces the one being served, and the admin is told its
errors as file:line:col lines; a valid one is served from the next update on, and people
whose step was removed are moved as the counselor's moves.yaml says, and told so.
"""

from __future__ import annotations

import re
import shutil
import signal
from pathlib import Path

import pytest

from bot.config import BUNDLED_CURRICULUM
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import BotProcess
from tests.kit.curricula import SAMPLE
from tests.kit.player import Player, texts
from tests.kit.postgres import query

ADMIN = 4242

pytestmark = pytest.mark.e2e  # a real `craftbot run` process


def onboard(player: Player) -> None:
    """Go through the sample onboarding as a partner of 'Sam' who drinks."""
    player.send("/start")
    player.press("Yes, let's start")
    player.send("Sam")
    for label in ("My partner", "Alcohol", "No", "No"):
        player.press(label)
    assert "“Getting started”" in texts(player.press("No"))


# A region's own crisis lines: a reloaded curriculum must still show the configured ones. Every
# line the lessons name is configured, or the bot would not start (state/curriculum/helplines.py).
LOCAL_LINE = ("crisis:\n  resources:\n    emergency:\n      name: Testland Emergency 555\n"
              "      details: the test region's emergency number\n"
              + "".join(f"    {key}:\n      name: Testland {key}\n      number: 555-{i}\n"
                        f"      details: the test region's {key}\n"
                        for i, key in enumerate(("lifeline", "dv_hotline", "treatment_line"))))


def start_bot(server: FakeBotApi, workdir: Path, curriculum: Path) -> BotProcess:
    bot = BotProcess(server, workdir, curriculum, extra_config=LOCAL_LINE)
    config = bot.config.read_text(encoding="utf-8")
    bot.config.write_text(config.replace("telegram:\n", f"telegram:\n  admins: [{ADMIN}]\n", 1),
                          encoding="utf-8")
    return bot.start()


def copy(source: Path, workdir: Path) -> Path:
    target = workdir / "curriculum"
    shutil.copytree(source, target)
    return target


def wait_for_admin(server: FakeBotApi, words: str, since: int) -> str:
    """The admin messages sent after mark `since`, once one of them contains `words`."""
    server.wait_for(lambda s: any(words in m.get("text", "") for m in s.sent(ADMIN)[since:]),
                    timeout=30)
    return texts(server.sent(ADMIN)[since:])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_sighup_with_errors_keeps_serving_and_reload_moves_people_as_mapped(
        server: FakeBotApi, tmp_path: Path) -> None:
    folder = copy(SAMPLE, tmp_path)
    bot = start_bot(server, tmp_path, folder)
    try:
        admin, player = Player(server, ADMIN), Player(server, 1001)
        admin.send("/start")
        onboard(player)
        assert "Welcome to the basics" in texts(player.press("Next: Basics"))

        # A broken edit, published with SIGHUP: refused, the admin told where and why.
        basics = folder / "en" / "basics.yaml"
        edit(basics, "How stressed are you today?", "NEW WORDING")
        edit(basics, "next: pick", "next: pikc")
        mark = server.sent_count(ADMIN)
        assert bot.proc is not None
        bot.proc.send_signal(signal.SIGHUP)
        told = wait_for_admin(server, "NOT reloaded", mark)
        assert re.search(r"^en/basics\.yaml:\d+:\d+: error: unknown step 'pikc'", told, re.M), told
        assert "Still serving version" in told
        replies = player.press("Ready")  # the old curriculum still answers
        assert "How stressed are you today?" in texts(replies) and "NEW WORDING" not in texts(replies)

        # Someone who is not an admin cannot reload; to them /reload does not exist.
        edit(basics, "next: pikc", "next: pick")
        assert "don't know that command" in texts(player.send("/reload"))

        # The step the player is on is removed, with a mapping; an admin publishes it.
        edit(basics, "    next: mood\n", "    next: pick\n")
        start = basics.read_text(encoding="utf-8").index("  - id: mood")
        end = basics.read_text(encoding="utf-8").index("  - id: pick")
        text = basics.read_text(encoding="utf-8")
        basics.write_text(text[:start] + text[end:], encoding="utf-8")
        (folder / "en" / "moves.yaml").write_text("basics:\n  mood: pick\n", encoding="utf-8")
        mark = server.sent_count(ADMIN)
        server.inject_message(ADMIN, "/reload")
        told = wait_for_admin(server, "Curriculum reloaded: version", mark)
        assert "basics:mood -> basics:pick (moves.yaml)  1" in told
        assert "Published: version" in told  # for every instance on this database
        published = "SELECT how FROM curriculum_published ORDER BY seq"
        assert query(bot.database, published) == [("start",), ("reload",)]  # not the refused one

        replies = player.press("7")  # a button of the step that is gone
        assert "We've updated “Basics”" in texts(replies)
        assert "Which sounds kinder?" in player.last_text()
        assert "positive and specific" in texts(player.press("I'd love your help"))
        assert "Testland Emergency 555" in texts(player.send("/safety"))

        # SIGHUP again, now with nothing wrong: the admin hears it went through.
        mark = server.sent_count(ADMIN)
        bot.proc.send_signal(signal.SIGHUP)
        assert "nothing changed" in wait_for_admin(server, "Curriculum reloaded", mark)
        assert bot.proc.poll() is None
        assert query(bot.database, published) == [("start",), ("reload",)]  # published already
    finally:
        bot.stop()
    assert server.errors == [], "the bot sent something Telegram would reject"


def test_reload_of_the_bundled_curriculum(server: FakeBotApi, tmp_path: Path) -> None:
    folder = copy(BUNDLED_CURRICULUM, tmp_path)
    bot = start_bot(server, tmp_path, folder)
    try:
        admin, early, late = Player(server, ADMIN), Player(server, 1002), Player(server, 1003)
        admin.send("/start")
        early.send("/start")
        consent = [label for _, label, _ in early.buttons()]
        assert consent, "onboarding should start with a question with buttons"
        onboarding = folder / "en" / "onboarding.yaml"
        original = onboarding.read_text(encoding="utf-8")

        # A YAML syntax error, published by /reload: refused; people go on as before.
        onboarding.write_text(original + "  - id: [broken\n", encoding="utf-8")
        mark = server.sent_count(ADMIN)
        server.inject_message(ADMIN, "/reload")
        told = wait_for_admin(server, "NOT reloaded", mark)
        assert re.search(r"^en/onboarding\.yaml:\d+:\d+: error: YAML syntax", told, re.M), told
        replies = early.press(consent[0])
        assert replies and "earlier step" not in texts(replies)

        # The first step (the phone question) is renamed; moves.yaml sends people who are on it to the new id.
        renamed = re.sub(r"(\b(?:id|next): )phone\b(?=\s*[,}\n])", r"\1phone_v2", original)
        assert renamed != original
        onboarding.write_text(renamed, encoding="utf-8")
        (folder / "en" / "moves.yaml").write_text("onboarding:\n  phone: phone_v2\n",
                                                  encoding="utf-8")
        late.send("/start")  # on the first step of the version being served
        mark = server.sent_count(ADMIN)
        assert bot.proc is not None
        bot.proc.send_signal(signal.SIGHUP)
        told = wait_for_admin(server, "Curriculum reloaded", mark)
        # the admin (who only sent /start) and `late` are on it
        assert "onboarding:phone -> onboarding:phone_v2 (moves.yaml)  2" in told, told
        replies = late.send("hello")
        assert "We've updated" in texts(replies)
        assert [label for _, label, _ in late.buttons()] == consent  # the same question again
        replies = late.press(consent[0])
        assert replies and "earlier step" not in texts(replies)
    finally:
        bot.stop()
    assert server.errors == [], "the bot sent something Telegram would reject"
