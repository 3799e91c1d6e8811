"""The bot in two languages, through the engine: who gets Spanish, /language, saved choices,
crisis lines in Spanish, places typed in either language, and the chart's dates."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.config import BUNDLED_CURRICULUM, CrisisSettings, Settings
from state.contracts import Command, Press, Progress, Reply, TextIn
from state.curriculum.formats import day, number
from state.curriculum.loader import load_curriculum
from state.curriculum.markup import to_plain
from state.engine.between_sessions.checkins import Week
from state.engine.between_sessions.timezones import resolve_zone, zone_label
from state.engine.engine import Engine
from state.reports.chart import ChartLabels, render_chart, week_label


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_curriculum(BUNDLED_CURRICULUM))


def said(reply: Reply) -> str:
    return "\n".join(to_plain(m.html) for m in reply.messages)


def labels(reply: Reply) -> list[str]:
    return [b.label for m in reply.messages for row in m.buttons for b in row]


def press(engine: Engine, p: Progress, shown: Reply, label: str, now: float = 5.0) -> Reply:
    """Tap the button with this label on the reply shown."""
    data = next(b.data for m in shown.messages for row in m.buttons for b in row if b.label == label)
    return engine.handle(p, Press(data), now)


@pytest.mark.parametrize(("telegram", "locale"), [("es", "es"), ("es-MX", "es"), ("es-419", "es"),
                                                  ("en", "en"), ("de", "en"), (None, "en")])
def test_the_language_telegram_gives_on_first_contact(engine: Engine, telegram: str | None,
                                                      locale: str) -> None:
    p = engine.new_progress(1, telegram, 0.0)
    assert p.locale == locale
    greeting = said(engine.handle(p, Command("start"), 1.0))
    assert ("Hola. Estoy aquí" in greeting) == (locale == "es")


def spanish_at_focus(engine: Engine) -> Progress:
    p = engine.new_progress(2, "es", 0.0)
    p.completed = {"onboarding": 1.0, "orientation": 2.0}
    p.answers = {"loved_one": "Ana", "relationship": "parent", "self_care_work": 2}
    engine.enter_at(p, "self_care", "focus", 3.0)
    return p


def test_language_changes_at_any_step_and_keeps_progress(engine: Engine) -> None:
    p = spanish_at_focus(engine)
    menu = engine.handle(p, Command("language"), 4.0)
    assert labels(menu) == ["English", "Español"] and "Español ✓" in said(menu)
    assert (p.module, p.step) == ("self_care", "focus")

    english = press(engine, p, menu, "English")
    assert p.locale == "en" and (p.module, p.step) == ("self_care", "focus")
    assert "English ✓" in said(english) and "Which area would you like to work on first?" in said(english)
    assert "Emotions" in labels(english)

    back = engine.handle(p, Command("language", "español"), 6.0)
    assert p.locale == "es" and "¿En qué parte quiere trabajar primero?" in said(back)
    assert p.answers["self_care_work"] == 2  # nothing forgotten
    unknown = engine.handle(p, Command("language", "klingon"), 7.0)  # the choice again
    assert labels(unknown) == ["English", "Español"] and p.locale == "es"


def test_a_saved_choice_is_shown_by_its_label_in_the_translation(engine: Engine) -> None:
    p = spanish_at_focus(engine)
    reply = press(engine, p, engine.current_question(p, 4.0), "Emociones")
    assert "**" not in said(reply)
    assert "ponerle una meta a esta parte: Emociones." in said(reply)
    assert p.answers["self_care_focus"] == "your emotional life"  # the value stays the source's
    engine.handle(p, Command("language", "en"), 6.0)
    english = engine.current_question(p, 7.0)
    assert "Which goal would work better?" in said(english)


def test_crisis_words_in_spanish_bring_help_in_spanish(engine: Engine) -> None:
    p = spanish_at_focus(engine)
    reply = engine.handle(p, TextIn("ya no puedo, quiero morirme"), 4.0)
    text = said(reply)
    assert "Usted importa" in text
    assert "marque 2 para hablar en español" in text and "988" in text
    assert "¿Está a salvo ahora mismo?" in text


def test_configured_lines_carry_their_spanish_words(engine: Engine) -> None:
    settings = CrisisSettings()
    spanish = Engine(load_curriculum(BUNDLED_CURRICULUM), settings.resource_map(), settings.wording())
    p = spanish.new_progress(3, "es", 0.0)
    text = said(spanish.handle(p, Command("safety"), 1.0))
    assert "Línea Nacional contra la Violencia Doméstica" in text and "atienden en español" in text
    assert "1-800-799-7233" in text
    english = spanish.new_progress(4, "en", 0.0)
    assert "National Domestic Violence Hotline" in said(spanish.handle(english, Command("safety"), 1.0))
    # Another region's lines without Spanish words stay as configured, numbers and all.
    lines = {key: {"name": key.upper(), "details": "call 112"}
             for key in ("emergency", "lifeline", "dv_hotline", "treatment_line")}
    other = CrisisSettings.model_validate({"resources": lines})
    region = Engine(load_curriculum(BUNDLED_CURRICULUM), other.resource_map(), other.wording())
    assert "marque 2" not in said(region.handle(region.new_progress(5, "es", 0.0), Command("safety"), 1.0))


@pytest.mark.parametrize(("typed", "zone"), [
    ("Köln", "Europe/Berlin"), ("Lviv", "Europe/Kyiv"), ("Abuja", "Africa/Lagos"),
    ("Germany", "Europe/Berlin"), ("Alemania", "Europe/Berlin"), ("México", "America/Mexico_City"),
    ("Ciudad de México", "America/Mexico_City"), ("Nueva York", "America/New_York"),
    ("Brasil", "America/Sao_Paulo"), ("Lyon, Francia", "Europe/Paris"), ("Toronto", "America/Toronto"),
    ("Georgia", "America/New_York"),  # the US state, as before
    ("Australia", "Australia/Sydney"), ("Qwertyland", None),
])
def test_places_in_english_and_spanish(typed: str, zone: str | None) -> None:
    assert resolve_zone(typed) == zone


def test_chart_dates_in_the_persons_language() -> None:
    assert week_label(date(2026, 12, 7), "es") == "7 dic"
    assert week_label(date(2026, 12, 7), "en") == "Dec 7"
    weeks = [Week(date(2026, 11, 30), 2, 4.0, 3, 2), Week(date(2026, 12, 7), 1, None, 1, 0)]
    png = render_chart(weeks, ChartLabels("Sus repasos", "Estrés", "Días", "Premios", "es"))
    assert png.startswith(b"\x89PNG") and json.dumps("2026-12-07").encode() in png


def test_dates_and_numbers_the_locales_way(engine: Engine) -> None:
    assert (day(1.7e9, "es"), day(1.7e9, "en")) == ("14 nov 2023", "Nov 14, 2023")
    assert (number(3000, "es"), number(3000, "es-ES"), number(2.5, "es-ES")) == ("3,000", "3.000", "2,5")
    p = spanish_at_focus(engine)
    engine.handle(p, Press(next(b.data for b in engine.current_question(p, 4.0).messages[0].buttons[0])), 4.0)
    engine.handle(p, Press(next(b.data for b in engine.current_question(p, 5.0).messages[0].buttons[1])), 5.0)
    assert p.step == "goal_write"
    too_long = said(engine.handle(p, TextIn("palabra " * 500), 6.0))
    assert "que tenga menos de 3,000 caracteres" in too_long


def test_zone_labels_in_the_persons_language() -> None:
    assert zone_label("America/Mexico_City", "es") == "Ciudad de México"
    assert zone_label("America/New_York", "es-MX") == "Nueva York"
    assert zone_label("America/New_York", "en") == "New York (America)"  # as before


def test_spanish_crisis_words_bring_help_to_someone_served_in_english(engine: Engine) -> None:
    p = engine.new_progress(6, "en", 0.0)  # a phone set to English
    engine.handle(p, Command("start"), 1.0)
    reply = said(engine.handle(p, TextIn("no puedo más, quiero morirme"), 2.0))
    assert "You matter" in reply and "988" in reply  # the help, in the language they are served in
    assert engine.answers_without_progress(TextIn("quiero morirme"), "en")
    calm = said(engine.handle(p, TextIn("We went to the rifle range on Sunday."), 3.0))
    assert "You matter" not in calm and "Your safety comes first" not in calm


def test_routes_to_people_carry_their_spanish_words() -> None:
    defaults = Settings()
    name, details = defaults.wording()["es"]["counsellor"]
    assert name == "Un consejero que conozca CRAFT" and "robertjmeyersphd.com" in details
    assert defaults.wording()["es"]["lifeline"][0].startswith("988")  # the crisis lines' too
    # An operator's own route, worded in Spanish in the config, reaches the Spanish lessons.
    own = Settings.model_validate({"people": {"resources": {"counsellor": {
        "name": "Our family counsellor", "details": "call 555-0100",
        "languages": {"es": {"name": "Nuestra consejera familiar", "details": "llame al 555-0100"}}}}}})
    assert own.wording()["es"]["counsellor"] == ("Nuestra consejera familiar", "llame al 555-0100")
    assert "family_groups" not in own.wording().get("es", {})  # giving any route replaces the defaults
