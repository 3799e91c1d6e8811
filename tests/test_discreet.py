"""Discreet mode and /safetyplan: what can show outside the chat is neutral, private answers
are not echoed back unasked, and the safety plan is there when the person asks for it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from state.contracts import Command, Press, Progress, Reply, TextIn
from state.curriculum.loader import load_curriculum
from state.curriculum.markup import to_plain
from state.curriculum.model import LocaleContent
from state.engine.discreet import is_discreet, neutral_text, outside_text, shown_answers
from state.engine.engine import Engine
from state.engine.safety.flow import plan_module

TESTS = Path(__file__).parent
REPO = TESTS.parent
# Words that must never show on a lock screen in discreet mode.
GIVEAWAY = re.compile(r"drink|drunk|alcohol|drug|addict|sober|using|use|relapse|violen|abuse|hurt|"
                      r"safety|crisis|overdose|treatment|rehab|therap|craft|hotline|danger",
                      re.IGNORECASE)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The sample curriculum with a short safety-plan module (tests/data/plan_module.yaml)."""
    folder = tmp_path_factory.mktemp("curriculum") / "c"
    shutil.copytree(TESTS / "curriculum", folder)
    shutil.copy(TESTS / "data" / "plan_module.yaml", folder / "en" / "plan.yaml")
    return Engine(load_curriculum(folder))


def said(reply: Reply) -> str:
    return "\n".join(to_plain(m.html) for m in reply.messages)


def button(reply: Reply, label: str) -> tuple[str, str]:
    """(callback data, message html) of the button labelled `label` (or containing it)."""
    found = [(b.label, b.data, m.html) for m in reply.messages for row in m.buttons for b in row]
    for label_, data, html in sorted(found, key=lambda f: f[0] != label):
        if label in label_:
            return data, html
    raise AssertionError(f"no button {label!r}")


def tap(engine: Engine, p: Progress, reply: Reply, label: str) -> Reply:
    data, html = button(reply, label)
    return engine.handle(p, Press(data, html), 10.0)


def onboarded(engine: Engine, *, fear: str = "No", shared: str = "No") -> tuple[Progress, Reply]:
    p = engine.new_progress(7, "en", 0.0)
    r = engine.handle(p, Command("start"), 1.0)
    r = tap(engine, p, r, "Yes, let's start")
    r = engine.handle(p, TextIn("Sam"), 3.0)
    for label in ("My partner", "Alcohol", fear, "No", shared):
        r = tap(engine, p, r, label)
    return p, r


def write_plan(engine: Engine, p: Progress) -> Reply:
    r = engine.handle(p, Press("m:plan"), 5.0)
    assert "Where could you go" in said(r)
    r = engine.handle(p, TextIn("my sister Ruth's flat on Elm Street"), 6.0)
    return engine.handle(p, TextIn("Ruth, 555-0100"), 7.0)


# -- when it is on ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("fear", "shared", "on"), [
    ("No", "No", False), ("No", "Yes, maybe", True), ("Yes", "No", True),
    ("Sometimes", "No", True),
])
def test_onboarding_answers_decide_until_the_user_chooses(engine: Engine, fear: str, shared: str,
                                                          on: bool) -> None:
    p, _ = onboarded(engine, fear=fear, shared=shared)
    assert is_discreet(p) is on


def test_the_discreet_command_explains_and_toggles(engine: Engine) -> None:
    p, _ = onboarded(engine, shared="Yes, maybe")
    r = engine.handle(p, Command("discreet"), 5.0)
    assert "Discreet mode is on" in said(r) and "lock screen" in said(r)
    assert p.discreet is None  # asking changes nothing
    r = tap(engine, p, r, "Turn discreet mode off")
    assert p.discreet is False and not is_discreet(p)
    assert "Discreet mode is off" in said(r) and r.edit is not None
    assert [(e.kind, e.detail) for e in r.events] == [("discreet", "off")]
    r = tap(engine, p, r, "Continue")
    assert p.module is None and "Next up:" in said(r)  # back where they were: between modules
    r = engine.handle(p, Command("discreet", "on"), 6.0)
    assert p.discreet is True and "Discreet mode is on" in said(r)


# -- what it changes -------------------------------------------------------------------------------

def test_private_answers_are_not_echoed_in_discreet_mode(engine: Engine) -> None:
    p, _ = onboarded(engine)
    r = write_plan(engine, p)
    assert "You wrote that you could go to: my sister Ruth's flat on Elm Street" in said(r)

    p, _ = onboarded(engine, shared="Yes, maybe")
    r = write_plan(engine, p)
    assert "Ruth" not in said(r) and "You wrote that you could go to: (kept private)" in said(r)
    assert p.answers["safety_plan_place"] == "my sister Ruth's flat on Elm Street"  # still saved
    engine.handle(p, Command("discreet", "off"), 8.0)
    assert "Elm Street" in said(engine.handle(p, Press("v:here"), 9.0))


def test_notification_texts_are_neutral_in_discreet_mode(engine: Engine) -> None:
    content = engine.curriculum.content("en")
    assert content.locale is not None
    locale = content.locale
    p, _ = onboarded(engine, shared="Yes, maybe")
    normal = "Time to practise your CRAFT homework about Sam's drinking"
    for kind in ("reminder", "check_in", "homework", "nudge", "something_new"):
        text = outside_text(p, kind, normal, locale)
        assert text == neutral_text(kind, locale) and not GIVEAWAY.search(text), text
    assert neutral_text("something_new", locale) == locale.discreet.neutral["default"]
    engine.handle(p, Command("discreet", "off"), 5.0)
    assert outside_text(p, "reminder", normal, locale) == normal


def test_the_bundled_neutral_texts_give_nothing_away() -> None:
    content = load_curriculum(REPO / "curriculum").locales["en"]
    assert content.locale is not None
    texts = [*content.locale.discreet.neutral.values(), content.locale.discreet.hidden]
    assert texts and [t for t in texts if GIVEAWAY.search(t)] == []


def test_shown_answers_leave_other_answers_alone() -> None:
    p = Progress(user_id=1, answers={"loved_one": "Sam", "safety_plan_place": "Ruth's", "x": ""},
                 discreet=True)
    shown = shown_answers(p, frozenset({"safety_plan_place", "x"}), "(private)")
    assert shown == {"loved_one": "Sam", "safety_plan_place": "(private)", "x": ""}


# -- /safetyplan ---------------------------------------------------------------------------------------

def test_safetyplan_shows_the_plan_with_a_note_even_in_discreet_mode(engine: Engine) -> None:
    p, _ = onboarded(engine, shared="Yes, maybe")
    write_plan(engine, p)
    r = engine.handle(p, Command("safetyplan"), 8.0)
    text = said(r)
    assert "Your safety plan" in text and "Anyone who can see this screen" in text
    assert "A safe place: my sister Ruth's flat on Elm Street" in text
    assert "Who to call: Ruth, 555-0100" in text
    assert "<b>A safe place:</b>" in r.messages[0].html
    assert r.events == [] and p.module == "plan"
    r = tap(engine, p, r, "Back to where I was")
    assert "You wrote that you could go to" in said(r)


def test_safetyplan_escapes_what_was_written(engine: Engine) -> None:
    p, _ = onboarded(engine)
    p.answers["safety_plan_place"] = "<b>the shed</b> & {loved_one}"
    r = engine.handle(p, Command("safetyplan"), 8.0)
    assert "&lt;b&gt;the shed&lt;/b&gt; &amp; {loved_one}" in r.messages[0].html


def test_without_a_plan_safetyplan_says_how_to_make_one(engine: Engine) -> None:
    p, _ = onboarded(engine)
    p.answers["safety_plan_place"] = "skip"  # typed "skip": nothing written
    r = engine.handle(p, Command("safetyplan"), 8.0)
    assert "haven't written a safety plan" in said(r)
    r = tap(engine, p, r, "Open: Plan ahead")
    assert "Where could you go" in said(r) and p.module == "plan"


def test_the_bundled_curriculum_points_to_safety_at_home() -> None:
    content: LocaleContent = load_curriculum(REPO / "curriculum").locales["en"]
    module = plan_module(content)
    assert module is not None and module.id == "safety"
