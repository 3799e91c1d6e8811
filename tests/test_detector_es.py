"""The Spanish crisis words (crisis: in curriculum/es/locale.yaml) on lines a person would write.

Figures on whole sets are in bench/crisis_es.py and tests/test_detector_heldout_es.py; these
are the behaviours a counselor would check by hand: each kind opens its pathway, and what is
negated, over, a question or an idiom does not.
"""

from __future__ import annotations

import pytest

from bot.config import BUNDLED_CURRICULUM
from state.contracts import TextIn
from state.curriculum.loader import load_curriculum
from state.engine.engine import Engine
from state.engine.safety.detector import CrisisDetector


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    locale = load_curriculum(BUNDLED_CURRICULUM).locales["es"].locale
    assert locale is not None
    return CrisisDetector.from_locale(locale.crisis, "es")


@pytest.mark.parametrize(("text", "pathway"), [
    ("ya no le veo sentido a nada, mis hijos estarian mejor sin mi", "own_danger"),
    ("kiero dormirme y no despertar nunca", "own_danger"),
    ("mi hijo dice que se va a matar", "loved_one_suicide"),
    ("mi novio me dijo: si me dejas me mato", "loved_one_suicide"),
    ("no respira y tiene los labios morados", "overdose"),
    ("dejo de tomar hace dos dias y esta temblando y viendo bichos", "medical"),
    ("se cayo de las escaleras y no se mueve", "medical"),
    ("me esta pegando y dice que me va a matar", "violence"),
    ("no me deja salir de la casa y me quito el celular", "violence"),
    ("esta manejando bien pedo con los niños", "violence"),
])
def test_a_crisis_in_spanish_opens_its_pathway(detector: CrisisDetector, text: str, pathway: str) -> None:
    found = detector.detect(text)
    assert found is not None and found.level == "interrupt" and found.pathway == pathway


@pytest.mark.parametrize("text", [
    "nunca me ha pegado, solo grita cuando toma",
    "mi hijo no se quiere matar, solo esta triste",
    "hace dos años tuvo una sobredosis pero ya esta limpio",
    "antes mi esposo me amenazaba, ahora va a terapia",
    "que hago si un dia no respira?",
    "la leccion de sobredosis me sirvio mucho",
    "me muero de risa con mi nieto",
    "mi jefa me va a matar si llego tarde",
    "me corte el pelo y me siento mejor",
])
def test_negated_past_questions_and_idioms_stay_none(detector: CrisisDetector, text: str) -> None:
    assert detector.detect(text) is None


@pytest.mark.parametrize("text", [
    "ya me mataste con esa foto jajaja",
    "esos tamales estan para morirse",
    "me vas a matar de un susto",
    "no tengo ganas de morirme, solo estoy cansada",
    "mi mama ya no quiere vivir en el pueblo, se quiere venir a la ciudad",
    "en el 2018 tuvo una sobredosis",
    "cuanto tiempo despues de dejar de tomar pueden dar temblores?",
])
def test_idioms_denials_moves_and_questions_do_not_interrupt(detector: CrisisDetector, text: str) -> None:
    locale = load_curriculum(BUNDLED_CURRICULUM).locales["es"].locale
    assert locale is not None
    assert CrisisDetector(locale.crisis).detect(text) is None  # the words alone say nothing
    found = detector.detect(text)
    assert found is None or found.level == "ask"  # the model may ask, never interrupt


@pytest.mark.parametrize("text", ["ya", "ya no", "ya está", "me voy", "ya fue"])
def test_a_one_or_two_word_reply_is_never_interrupted_by_the_model(detector: CrisisDetector,
                                                                    text: str) -> None:
    # Replies this short carry words of many crises ("ya no puedo más", "me voy para siempre");
    # the model alone asks about them only when sure, and never interrupts.
    found = detector.detect(text)
    assert found is None or found.level == "ask"


def test_a_guess_about_how_he_may_react_is_left_to_the_lesson(detector: CrisisDetector) -> None:
    # "podría" is one of the locale's hedges: the model alone does not call a guess a crisis,
    # and the withdrawing module asks its own question about threats and throwing things.
    assert detector.detect("Podría gritar y tirar cosas.") is None
    found = detector.detect("Está gritando y tirando cosas.")
    assert found is not None and found.level == "interrupt"


def test_an_interrupt_in_a_message_that_laughs_is_asked_about() -> None:
    # Laughter ("jaja", the locale's `jokes`) turns the words' interrupt into the one-tap
    # question; the same threat without it still interrupts.
    locale = load_curriculum(BUNDLED_CURRICULUM).locales["es"].locale
    assert locale is not None
    words = CrisisDetector(locale.crisis)
    joking = words.detect("dice que me va a matar si me como el último alfajor jajaja")
    assert joking is not None and joking.level == "ask" and "laughter" in joking.cue
    found = words.detect("dice que me va a matar si me como el último alfajor")
    assert found is not None and found.level == "interrupt"


def test_two_words_of_a_crisis_the_words_know_still_interrupt(detector: CrisisDetector) -> None:
    found = detector.detect("no respira")
    assert found is not None and found.level == "interrupt" and found.pathway == "overdose"


def test_a_rule_interrupt_the_spanish_model_reads_as_everyday_is_asked(detector: CrisisDetector) -> None:
    locale = load_curriculum(BUNDLED_CURRICULUM).locales["es"].locale
    assert locale is not None
    # "no reacciona" (an overdose sign) of a husband who ignores talk of the doctor
    text = "mi marido no reacciona a nada de lo que le digo sobre ir al doctor, es como hablarle a la pared"
    assert (found := CrisisDetector(locale.crisis).detect(text)) is not None and found.level == "interrupt"
    calmed = detector.detect(text)
    assert calmed is not None and calmed.level == "ask" and "model calm" in calmed.cue
    assert (plain := detector.detect("me mato, ya no aguanto")) is not None and plain.level == "interrupt"


def test_no_se_as_a_filler_does_not_negate_but_before_his_verb_it_does(detector: CrisisDetector) -> None:
    assert detector.detect("no se, quiero morirme") is not None
    assert detector.detect("no se quiere matar, ya hablamos") is None


def test_words_a_language_set_aside_are_not_read_again_by_another() -> None:
    engine = Engine(load_curriculum(BUNDLED_CURRICULUM))
    # The English words would take "convulsion" alone for a seizure now; the Spanish words
    # read the question around it.
    assert not engine.answers_without_progress(TextIn("que hago si le da una convulsion?"), "es")
    assert engine.answers_without_progress(TextIn("le esta dando una convulsion"), "es")
    assert engine.answers_without_progress(TextIn("he is having a seizure"), "es")  # English still helps
