"""The engine on the sample curriculum: moves, saves, kind answers to odd input."""

from __future__ import annotations

from pathlib import Path

import pytest

from state.contracts import Command, Other, Press, Progress, Reply, TextIn
from state.curriculum.loader import load_curriculum
from state.curriculum.markup import split_message, to_html, to_plain
from state.engine.engine import Engine

SAMPLE = Path(__file__).parent / "curriculum"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return load_curriculum_engine()


def load_curriculum_engine() -> Engine:
    return Engine(load_curriculum(SAMPLE))


def said(reply: Reply) -> str:
    return "\n".join(to_plain(m.html) for m in reply.messages)


def button(reply: Reply, label: str) -> str:
    for message in reply.messages:
        for row in message.buttons:
            for b in row:
                if label in b.label:
                    return b.data
    raise AssertionError(f"no button {label!r}")


def onboarded(engine: Engine, relationship: str = "My partner") -> tuple[Progress, Reply]:
    p = engine.new_progress(7, "en", 0.0)
    r = engine.handle(p, Command("start"), 1.0)
    r = engine.handle(p, Press(button(r, "Yes, let's start")), 2.0)
    r = engine.handle(p, TextIn("Sam <3 & co"), 3.0)
    for label in (relationship, "Alcohol", "No", "No", "No"):
        r = engine.handle(p, Press(button(r, label)), 4.0)
    return p, r


def test_onboarding_saves_answers_and_escapes_them(engine: Engine) -> None:
    p, r = onboarded(engine)
    assert p.answers["loved_one"] == "Sam <3 & co"
    assert p.answers["relationship"] == "partner"
    assert "onboarding" in p.completed
    r = engine.handle(p, Press(button(r, "Next: Basics")), 5.0)
    assert "Sam &lt;3 &amp; co" in r.messages[0].html


def test_a_typed_option_and_a_bad_scale_value(engine: Engine) -> None:
    p, r = onboarded(engine)
    r = engine.handle(p, Press(button(r, "Next: Basics")), 5.0)
    r = engine.handle(p, Press(button(r, "Ready")), 6.0)
    r = engine.handle(p, TextIn("eleven"), 7.0)
    assert "from 1 to 10" in said(r) and p.step == "mood"
    r = engine.handle(p, TextIn("10"), 8.0)
    assert p.answers["stress"] == 10 and p.step == "pick"
    r = engine.handle(p, TextIn("i'd love your help"), 9.0)
    assert p.answers["tone"] == "kind" and p.answers["tone_ok"] == "yes"


def test_branch_follows_relationship(engine: Engine) -> None:
    for relationship, expected in (("My partner", "As a partner"), ("My child", "uses around")):
        p, r = onboarded(engine, relationship)
        r = engine.handle(p, Press(button(r, "Next: Basics")), 5.0)
        for action in (Press(button(r, "Ready")),):
            r = engine.handle(p, action, 6.0)
        r = engine.handle(p, TextIn("4"), 6.0)
        r = engine.handle(p, Press(button(r, "I'd love")), 6.0)
        r = engine.handle(p, TextIn("late at night"), 6.0)
        r = engine.handle(p, Press(button(r, "sober and calm")), 6.0)
        r = engine.handle(p, Press(button(r, "Paid a bill")), 6.0)
        r = engine.handle(p, Press(button(r, "Done")), 6.0)
        assert expected in said(r)
        assert p.answers["shields"] == ["paid"]
        assert "basics" in p.completed and p.answers["homework"].startswith("This week")


def test_locked_module_and_menu(engine: Engine) -> None:
    p, r = onboarded(engine)
    r = engine.handle(p, Command("menu"), 5.0)
    assert "🔒 Next steps" in [b.label for row in r.messages[-1].buttons for b in row]
    r = engine.handle(p, Press("m:next"), 5.0)
    assert "opens after: Basics" in said(r) and p.module is None


def test_leaving_and_resuming_a_module_at_the_exact_step(engine: Engine) -> None:
    p, r = onboarded(engine)
    r = engine.handle(p, Press(button(r, "Next: Basics")), 5.0)
    r = engine.handle(p, Press(button(r, "Ready")), 6.0)
    r = engine.handle(p, TextIn("3"), 7.0)
    assert p.step == "pick"
    r = engine.handle(p, Command("menu"), 8.0)
    assert "▶️ Basics" in [b.label for row in r.messages[-1].buttons for b in row]
    r = engine.handle(p, Press("m:basics"), 9.0)
    assert p.step == "pick" and "Which sounds kinder?" in said(r)


def test_odd_input_never_moves_the_user(engine: Engine) -> None:
    p, r = onboarded(engine)
    r = engine.handle(p, Press(button(r, "Next: Basics")), 5.0)
    where = (p.module, p.step, p.seq, dict(p.answers))
    for odd in (Other("media"), Other("edit"), Press("garbage"), Press("o:x:y"), Press("o:1:0"),
                Press("m:nope"), Press("t:99:0"), Command("nonsense"), TextIn("hello?")):
        r = engine.handle(p, odd, 6.0)
        assert r.messages, f"no answer to {odd}"
        assert (p.module, p.step, p.seq, dict(p.answers)) == where


def test_crisis_words_in_an_answer_interrupt_and_the_answer_is_kept(engine: Engine) -> None:
    p, r = onboarded(engine)
    r = engine.handle(p, Press(button(r, "Next: Basics")), 5.0)
    r = engine.handle(p, Press(button(r, "Ready")), 6.0)
    r = engine.handle(p, TextIn("2"), 7.0)
    r = engine.handle(p, Press(button(r, "I'd love")), 8.0)
    r = engine.handle(p, TextIn("He said he's going to KILL me!!"), 9.0)
    assert "911" in said(r) and [e.kind for e in r.events] == ["crisis"]
    assert "trigger_time" not in p.answers and p.step == "trigger"
    r = engine.handle(p, Press("v:here"), 10.0)  # "Back to where I was"
    assert p.step == "trigger" and "usually use?" in said(r)
    r = engine.handle(p, Press(button(r, "Use what I wrote")), 11.0)
    assert p.answers["trigger_time"] == "He said he's going to KILL me!!" and p.step == "quiz"
    # or they type a new answer instead, and the held words are dropped
    p, r = onboarded(engine)
    for action in (Press(button(r, "Next: Basics")),):
        r = engine.handle(p, action, 5.0)
    r = engine.handle(p, Press(button(r, "Ready")), 6.0)
    r = engine.handle(p, TextIn("2"), 7.0)
    r = engine.handle(p, Press(button(r, "I'd love")), 8.0)
    r = engine.handle(p, TextIn("i want to die"), 9.0)
    r = engine.handle(p, Press("v:here"), 10.0)
    r = engine.handle(p, TextIn("after work"), 11.0)
    assert p.answers["trigger_time"] == "after work" and "held" not in p.pending
    assert "earlier step" in said(engine.handle(p, Press("v:keep"), 12.0))


def test_start_never_resets_progress(engine: Engine) -> None:
    p, r = onboarded(engine)
    r = engine.handle(p, Command("start"), 9.0)
    assert "Welcome back" in said(r) and "onboarding" in p.completed


def test_long_messages_are_split_below_the_limit() -> None:
    text = to_html(("A **word** & more. " * 400).strip(), {})
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(to_plain(part)) <= 4096 for part in parts)
    assert "".join(to_plain(p) for p in parts).replace(" ", "") == to_plain(text).replace(" ", "")
