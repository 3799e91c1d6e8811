"""The shipped conversation driver: a person's verbs against the real engine and service."""

from __future__ import annotations

from pathlib import Path

import pytest

from state.curriculum.loader import load_curriculum
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.service.driver import EngineDriver, NoSuchButton, ServiceDriver
from state.store.progress import SqliteProgressStore
from tests.kit.curricula import SAMPLE


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_curriculum(SAMPLE))


def test_press_finds_a_button_by_its_label_and_said_is_what_came_since(engine: Engine) -> None:
    chat = EngineDriver(engine, engine.new_progress(1, "en", 1_000.0), 1_000.0)
    chat.command("start")
    assert "CRAFT" in chat.said()
    assert chat.said() == ""  # nothing new since the last look
    chat.press("yes, LET'S START")  # as a person reads it: case aside
    chat.send("Sam")
    said = chat.said()
    assert "call your loved one" in said and "Who is Sam to you?" in said
    assert "[My partner]" in said  # the buttons show as the person sees them


def test_pressing_a_label_no_button_has_says_which_buttons_there_are(engine: Engine) -> None:
    chat = EngineDriver(engine, engine.new_progress(1, "en", 1_000.0), 1_000.0)
    chat.command("start")
    chat.said()
    with pytest.raises(NoSuchButton) as raised:
        chat.press("Maybe later")
    assert 'there is no button "Maybe later"' in str(raised.value)
    assert "[Yes, let's start]" in str(raised.value)
    assert chat.said() == ""  # nothing was sent, so the bot said nothing


async def test_the_service_driver_keeps_progress_in_the_store(engine: Engine, tmp_path: Path) -> None:
    store = await SqliteProgressStore(tmp_path / "bot.sqlite3").open()
    try:
        person = ServiceDriver(Conversations(engine, store, lambda: 1_000.0), 7)
        await person.command("start")
        await person.press("Yes, let's start")
        await person.send("Sam")
        assert "Who is Sam to you?" in person.said()
        again = ServiceDriver(Conversations(engine, store, lambda: 2_000.0), 7)  # a later session
        await again.command("start")
        assert "Welcome back" in again.said()
        await again.press("My partner")  # the keyboard shown again is pressable
        assert "Sam" in again.said()
    finally:
        await store.close()
