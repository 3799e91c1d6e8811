"""The rehearsal coach in the engine, and the checks that keep coaching.yaml and `coach:` sound.

A small curriculum (the sample one, plus the bundled English coaching.yaml and a module with
one coached rehearsal) is built in a temporary folder, so what is asserted is what a person
would see: the explanation, the model in their own words, one more try, then on.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from state.contracts import Command, Press, Progress, Reply, TextIn
from state.curriculum.diagnostics import Diagnostic
from state.curriculum.loader import load_curriculum, read_curriculum
from state.curriculum.markup import to_plain
from state.curriculum.schema import TextStep
from state.curriculum.versions import step_fingerprint
from state.engine.engine import Engine
from tests.kit.curricula import BUNDLED, SAMPLE

REHEARSE = """\
id: rehearse
title: Rehearse
description: One coached rehearsal.
order: 5
minutes: 5
steps:
  - id: line
    kind: text
    text: "How would you say it?"
    save: line
    min_words: 3
    coach: [ultimatum, you_blame, no_feeling]
    coach_pieces: {request: "have dinner with me on Friday"}
    if_clean: check
    next: after
  - id: check
    kind: choice
    text: "Does it show you understand how it is for {loved_one}?"
    options:
      - {label: "Yes", next: after}
      - {label: "Not yet", feedback: "Add one line of understanding.", next: after}
  - id: after
    kind: text
    text: "Any initial you'd like to sign it with?"
    save: initial
    min_words: 0
    next: done
  - id: done
    kind: end
    text: "Done."
"""


def build(root: Path, module: str = REHEARSE, coaching: str | None = None) -> Path:
    """The sample curriculum with the bundled coaching.yaml (or `coaching`) and `module`."""
    shutil.copytree(SAMPLE, root)
    target = root / "en" / "coaching.yaml"
    if coaching is None:
        shutil.copy(BUNDLED / "en" / "coaching.yaml", target)
    else:
        target.write_text(coaching, encoding="utf-8")
    (root / "en" / "rehearse.yaml").write_text(module, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine(load_curriculum(build(tmp_path_factory.mktemp("coach") / "c")))


def said(reply: Reply) -> str:
    return "\n".join(to_plain(m.html) for m in reply.messages)


def at_rehearsal(engine: Engine) -> Progress:
    """A partner of Sam, onboarded, at the rehearsal."""
    p = engine.new_progress(7, "en", 0.0)
    r = engine.handle(p, Command("start"), 1.0)
    r = engine.handle(p, Press(_button(r, "Yes, let's start")), 2.0)
    r = engine.handle(p, TextIn("Sam"), 3.0)
    for label in ("My partner", "Alcohol", "No", "No", "No"):
        r = engine.handle(p, Press(_button(r, label)), 4.0)
    r = engine.handle(p, Command("menu"), 5.0)
    engine.handle(p, Press(_button(r, "Rehearse")), 6.0)
    assert (p.module, p.step) == ("rehearse", "line")
    return p


def _button(reply: Reply, label: str) -> str:
    return next(b.data for m in reply.messages for row in m.buttons for b in row if label in b.label)


def test_a_threat_is_explained_with_a_model_in_their_words_and_tried_once_more(engine: Engine) -> None:
    p = at_rehearsal(engine)
    r = engine.handle(p, TextIn("I'm scared. Stop drinking or I'll divorce you"), 10.0)
    text = said(r)
    assert "has a threat in it" in text and "divorce you" in text
    assert "Sam, I love you, and I'm scared. Would you have dinner with me on Friday?" in text
    assert "Want to try once more?" in text and p.step == "line"
    assert [(e.kind, e.step, e.detail) for e in r.events] == [("coached", "line", "ultimatum")]
    assert all("divorce" not in (e.detail or "") for e in r.events)  # never the words
    r = engine.handle(p, TextIn("Sam, I feel scared. Would you have dinner with me on Friday?"), 11.0)
    assert "That's calmer: no threat this time." in said(r)
    assert p.step == "after" and p.answers["line"].startswith("Sam, I feel scared")


def test_a_second_try_that_still_threatens_gets_a_gentle_note_and_goes_on(engine: Engine) -> None:
    p = at_rehearsal(engine)
    engine.handle(p, TextIn("Quit drinking or pack your bags."), 10.0)
    r = engine.handle(p, TextIn("Quit drinking or pack your bags, I mean it."), 11.0)
    assert "There's still a threat in it." in said(r)
    assert "Want to try once more?" not in said(r)  # one retry, never a loop
    assert p.step == "after"


def test_a_line_with_nothing_to_coach_goes_to_the_self_check(engine: Engine) -> None:
    p = at_rehearsal(engine)
    r = engine.handle(p, TextIn("Sam, I feel lonely in the evenings. Would you watch a film with me?"), 10.0)
    assert "Does it show you understand how it is for Sam?" in said(r)
    assert "Want to try once more?" not in said(r) and p.step == "check"
    r = engine.handle(p, Press(_button(r, "Not yet")), 11.0)
    assert "Add one line of understanding." in said(r) and p.step == "after"


def test_the_first_pattern_the_step_names_is_the_one_coached(engine: Engine) -> None:
    p = at_rehearsal(engine)  # blame and no feeling; the step names you_blame first
    r = engine.handle(p, TextIn("You ruined Christmas for everyone, stop now"), 10.0)
    assert "sounds like blame" in said(r) and "doesn't say how you feel" not in said(r)


def test_too_short_answers_are_asked_again_and_min_words_0_takes_an_initial(engine: Engine) -> None:
    p = at_rehearsal(engine)
    for short in ("1", "ok", "J", "42 ?"):
        r = engine.handle(p, TextIn(short), 10.0)
        assert "Could you say a little more?" in said(r) and "How would you say it?" in said(r)
        assert p.step == "line" and "line" not in p.answers
    engine.handle(p, TextIn("Sam, I feel lonely. Would you watch a film with me tonight?"), 11.0)
    r = engine.handle(p, Press(_button(engine.handle(p, Command("menu"), 12.0), "Rehearse")), 13.0)
    r = engine.handle(p, Press(_button(r, "Yes")), 14.0)
    r = engine.handle(p, TextIn("J"), 15.0)
    assert p.answers["initial"] == "J" and "Done." in said(r)


def test_unset_fields_leave_a_text_steps_fingerprint_as_it_was() -> None:
    plain = TextStep(id="a", kind="text", text="Why?", save="why", next="b")
    assert "min_words" not in plain.model_dump_json() and "coach" not in plain.model_dump_json()
    assert step_fingerprint(plain) != step_fingerprint(plain.model_copy(update={"min_words": 0}))


# -- validation: every mistake at its file:line:col ------------------------------------------------------


def problems(root: Path) -> list[Diagnostic]:
    return [d for d in read_curriculum(root)[1] if d.is_error]


def where(d: Diagnostic) -> str:
    return f"{Path(d.file).name}:{d.line}:{d.col}"


def test_an_unknown_pattern_is_named_with_a_guess(tmp_path: Path) -> None:
    root = build(tmp_path / "c", REHEARSE.replace("you_blame", "you_blam"))
    found = problems(root)
    assert [(where(d), d.message) for d in found] == [
        ("rehearse.yaml:12:24", "unknown pattern 'you_blam'; did you mean 'you_blame'?")]


def test_a_broken_regex_and_an_unknown_placeholder_point_at_their_line(tmp_path: Path) -> None:
    coaching = """\
patterns:
  ultimatum:
    regex: ["or (else"]
    explain: "A threat."
    model: "Say {wish}."
    improved: "Better."
    still: "Still."
  you_blame:
    words: [fault]
    explain: "Blame."
    improved: "Better."
    still: "Still."
  no_feeling:
    missing: true
    words: [sad]
    explain: "No feeling."
    improved: "Better."
    still: "Still."
"""
    found = problems(build(tmp_path / "c", coaching=coaching))
    messages = {where(d): d.message for d in found}
    assert messages["coaching.yaml:3:13"].startswith("this regular expression does not work")
    assert "{wish} is not one of {found}, {wrote}, {loved_one} nor a piece" in messages["coaching.yaml:5:12"]


def test_if_clean_without_coach_and_an_unknown_piece_are_errors(tmp_path: Path) -> None:
    module = REHEARSE.replace("    coach: [ultimatum, you_blame, no_feeling]\n", "").replace(
        "coach_pieces: {request:", "coach_pieces: {wish:")
    found = [(where(d), d.message) for d in problems(build(tmp_path / "c", module))]
    assert ("rehearse.yaml:13:5", "`if_clean:` works with `coach:`; add `coach: [...]` (the patterns"
            " to look for) or remove it") in found


def test_a_pattern_that_finds_nothing_is_a_shape_error(tmp_path: Path) -> None:
    coaching = "patterns:\n  ultimatum:\n    explain: A.\n    improved: B.\n    still: C.\n"
    found = problems(build(tmp_path / "c", coaching=coaching))
    assert any(where(d) == "coaching.yaml:3:5" and "needs `words:`, `regex:` or `over_words:`"
               in d.message for d in found), found


def test_coach_in_a_locale_without_coaching_yaml_is_an_error(tmp_path: Path) -> None:
    root = build(tmp_path / "c")
    (root / "en" / "coaching.yaml").unlink()
    found = problems(root)
    assert [(where(d), d.message) for d in found] == [
        ("rehearse.yaml:12:12", "locale 'en' has no coaching.yaml; add one (see docs/authoring.md)"
                                " or remove `coach:`")]


def test_the_bundled_curriculum_coaches_every_free_text_rehearsal() -> None:
    content = load_curriculum(BUNDLED).content("en")
    coached = {f"{m.id}:{s.id}" for m in content.modules.values() for s in m.steps
               if isinstance(s, TextStep) and s.coach}
    assert coached >= {"communication:rewrite", "communication:request", "invitation:script",
                       "invitation:plan_b_text", "withdrawing:script", "consequences:script",
                       "problem_solving:task", "overdose:naloxone_where", "overdose:naloxone_plan"}
