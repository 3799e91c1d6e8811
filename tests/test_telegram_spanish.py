"""The real bot in Spanish, in this process, against the fake Bot API: a person whose Telegram
is in Spanish, /language in the middle of a module, and a reminder in Spanish.

The bundled curriculum is served (English, and Spanish with onboarding and "Su propia
vida"). The clock is a file (state/service/clock.py), moved by the test; nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import BUNDLED_CURRICULUM
from state.service.clock import FileClock
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import InProcessBot
from tests.kit.player import Player, texts
from tests.kit.world import NY, at, local


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
    running = InProcessBot(server, tmp_path, BUNDLED_CURRICULUM, "reminders:\n  poll_seconds: 0.1\n").start()
    yield running
    running.stop()
    assert server.errors == [], "the bot sent something Telegram would reject"


def onboard_in_spanish(player: Player, *, reminders: bool) -> None:
    """Onboarding as a mother of Andrés, writing from a phone set to Spanish."""
    assert "Hola. Estoy aquí para ayudarle" in texts(player.send("/start", language_code="es"))
    player.press("No")
    player.press("De acuerdo")
    player.press("Sí, empecemos")
    assert "¿Quién es Andrés para usted?" in texts(player.send("Andrés"))
    assert "¿Qué edad tiene Andrés?" in texts(player.press("Mi hijo o hija"))
    player.press("26 o más")
    player.press("Alcohol")
    player.press("No")
    player.press("No")
    assert "¿A qué hora del día le queda mejor?" in texts(player.press("No"))
    if reminders:
        assert "¿En qué zona horaria vive?" in texts(player.press("En la tarde (19:00)"))
        replies = player.press("Este")
    else:
        replies = player.press("Sin recordatorios")
    assert "Llegó al final de “Para empezar”." in texts(replies)


def test_a_person_whose_telegram_is_in_spanish_is_served_in_spanish(server: FakeBotApi,
                                                                     bot: InProcessBot) -> None:
    menus = {language: {c["command"]: c["description"] for c in commands}
             for (_, language), commands in server.all_commands.items()}
    assert menus["es"]["language"] == "Idioma / Language" and menus["es"]["menu"] == "Todos los módulos"
    assert menus[""]["menu"] == "All modules"
    player = Player(server, 3001)
    onboard_in_spanish(player, reminders=False)
    assert "Módulos." in texts(player.send("/menu"))
    help_text = texts(player.send("/help"))
    assert "/language cambia el idioma" in help_text and "Llame al 911" in help_text
    safety = texts(player.send("/safety"))
    assert "Línea Nacional contra la Violencia Doméstica" in safety
    assert "marque 2 para hablar en español" in safety
    english = Player(server, 3002)
    assert "Hi. I'm here to help you" in texts(english.send("/start", language_code="en"))


def test_language_switches_in_the_middle_of_a_module_and_keeps_progress(server: FakeBotApi,
                                                                         bot: InProcessBot) -> None:
    player = Player(server, 3003)
    player.send("/start", language_code="es")
    player.press("No")
    player.press("De acuerdo")
    player.press("Sí, empecemos")
    player.send("Andrés")
    player.press("Mi hijo o hija")
    assert "¿Qué usa Andrés más que nada?" in texts(player.press("26 o más"))
    choices = player.send("/language")
    assert "Español ✓" in texts(choices) and [b[1] for b in player.buttons()] == ["English", "Español"]
    switched = texts(player.press("English"))
    assert "English ✓" in switched and "What does Andrés mostly use?" in switched
    assert "Has Andrés ever hurt you" in texts(player.press("Alcohol"))
    bot.stop()
    bot.start()  # the new language is saved with the progress
    assert "Has Andrés ever hurt you" in texts(player.send("/start"))
    back = texts(player.send("/language español"))
    assert "Español ✓" in back and "¿Alguna vez Andrés le ha lastimado" in back


def test_a_reminder_in_spanish(server: FakeBotApi, bot: InProcessBot, clock: FileClock) -> None:
    player = Player(server, 3004)
    onboard_in_spanish(player, reminders=True)
    player.press("Siguiente")  # into the next module (served in English until it is translated); away
    sent = server.sent_count(player.chat_id)
    clock.set(at(NY, "2024-03-13 19:00"))
    server.wait_for(lambda s: s.sent_count(player.chat_id) > sent, timeout=15)
    nudge = server.sent(player.chat_id)[sent]
    assert "le espera donde se quedó, cuando usted quiera" in nudge["text"]
    assert local(NY, nudge["date"]).endswith("19:00")
    assert "Ahora no" in [b[1] for b in player.buttons()]
