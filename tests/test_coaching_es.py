"""The rehearsal coach in Spanish: a second locale's coaching.yaml, served to a Spanish speaker.

The sample curriculum gets a Spanish folder (the bundled es/locale.yaml and es/coaching.yaml,
and the coached rehearsal in Spanish; the rest is borrowed from English), so what is asserted
is what a Spanish-speaking mother would see at a coached step: the threat explained in
Spanish with a model in her own words, and a good line let through to the self-check.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from state.contracts import Command, Press, Progress, TextIn
from state.curriculum.loader import load_curriculum, read_curriculum
from state.engine.engine import Engine
from tests.kit.curricula import BUNDLED
from tests.test_coaching import _button, build, said

ENSAYO = """\
id: rehearse
title: Ensayar
description: Un ensayo con entrenador.
order: 5
minutes: 5
steps:
  - id: line
    kind: text
    text: "¿Cómo se lo diría?"
    save: line
    min_words: 3
    coach: [ultimatum, you_blame, no_feeling]
    coach_pieces: {request: "cenar conmigo el viernes"}
    if_clean: check
    next: after
  - id: check
    kind: choice
    text: "¿Muestra que usted entiende cómo es para {loved_one}?"
    options:
      - {label: "Sí", next: after}
      - {label: "Todavía no", feedback: "Agregue una línea de comprensión.", next: after}
  - id: after
    kind: text
    text: "¿Con qué inicial lo firmaría?"
    save: initial
    min_words: 0
    next: done
  - id: done
    kind: end
    text: "Listo."
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = build(tmp_path_factory.mktemp("coach_es") / "c")
    (root / "es").mkdir()
    for name in ("locale.yaml", "coaching.yaml"):
        shutil.copy(BUNDLED / "es" / name, root / "es" / name)
    (root / "es" / "rehearse.yaml").write_text(ENSAYO, encoding="utf-8")
    return Engine(load_curriculum(root))


def at_rehearsal(engine: Engine) -> Progress:
    """A mother of Beto, served in Spanish, onboarded (in the borrowed English), at the rehearsal."""
    p = engine.new_progress(8, "es", 0.0)
    assert p.locale == "es"
    r = engine.handle(p, Command("start"), 1.0)
    r = engine.handle(p, Press(_button(r, "Yes, let's start")), 2.0)
    r = engine.handle(p, TextIn("Beto"), 3.0)
    for label in ("My child", "Alcohol", "No", "No", "No"):
        r = engine.handle(p, Press(_button(r, label)), 4.0)
    r = engine.handle(p, Command("menu"), 5.0)
    engine.handle(p, Press(_button(r, "Ensayar")), 6.0)
    assert (p.module, p.step) == ("rehearse", "line")
    return p


def test_an_ultimatum_in_spanish_is_coached_in_spanish(engine: Engine) -> None:
    p = at_rehearsal(engine)
    r = engine.handle(p, TextIn("ya me canse, o dejas de tomar o te vas de la casa"), 10.0)
    text = said(r)
    assert "Esa frase trae una amenaza" in text and "te vas de la casa" in text
    assert "Beto, te quiero, y me siento preocupado/a. ¿Te gustaría cenar conmigo el viernes?" \
        in text
    assert "¿Lo intenta una vez más?" in text and p.step == "line"
    assert [(e.kind, e.detail) for e in r.events] == [("coached", "ultimatum")]
    r = engine.handle(p, TextIn("Beto, estoy preocupada. ¿Cenamos juntos el viernes?"), 11.0)
    assert "esta vez sin amenaza" in said(r) and p.step == "after"


def test_a_good_spanish_line_goes_to_the_self_check_uncoached(engine: Engine) -> None:
    p = at_rehearsal(engine)
    r = engine.handle(p, TextIn("Beto, me siento sola en las noches. ¿Vemos una película el sábado?"),
                      10.0)
    assert "¿Muestra que usted entiende cómo es para Beto?" in said(r)
    assert "¿Lo intenta una vez más?" not in said(r) and p.step == "check"
    assert not r.events or all(e.kind != "coached" for e in r.events)


def test_words_typed_with_accents_are_found_and_quoted_with_them(engine: Engine) -> None:
    p = at_rehearsal(engine)
    r = engine.handle(p, TextIn("Me siento triste, pero si vuelves así llamo a la policía"), 10.0)
    assert "(\"llamo a la policía\")" in said(r)


def test_a_translation_words_its_stand_ins_but_keeps_their_names(tmp_path: Path) -> None:
    root = build(tmp_path / "c")
    (root / "es").mkdir()
    for name in ("locale.yaml", "coaching.yaml"):
        shutil.copy(BUNDLED / "es" / name, root / "es" / name)
    (root / "es" / "rehearse.yaml").write_text(ENSAYO.replace("{request:", "{feeling:"),
                                               encoding="utf-8")
    found = [d for d in read_curriculum(root)[1] if d.file.endswith("rehearse.yaml")]
    assert [(d.line, d.severity, d.message.split(";")[0]) for d in found] == [
        (13, "warning", "`coach_pieces` names ['feeling'] here but ['request'] in en")]
