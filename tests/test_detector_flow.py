"""The crisis flow with the bundled curriculum: each pathway asks the question that fits it,
and unsure signs ask first, without losing what the person typed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from state.contracts import Command, Press, Progress, Reply, TextIn
from state.curriculum.loader import load_curriculum
from state.curriculum.markup import to_plain
from state.engine.engine import Engine

REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_curriculum(REPO / "curriculum"))


def said(reply: Reply) -> str:
    return "\n".join(to_plain(m.html) for m in reply.messages)


def labels(reply: Reply) -> list[str]:
    return [b.label for m in reply.messages for row in m.buttons for b in row]


def press(engine: Engine, p: Progress, reply: Reply, label: str) -> Reply:
    """Tap the button labelled `label` of `reply`, as Telegram would."""
    message, data = next((m, b.data) for m in reply.messages for row in m.buttons for b in row
                         if b.label == label)
    return engine.handle(p, Press(data, message.html), 10.0)


def at_the_name_step(engine: Engine) -> tuple[Progress, Reply]:
    """A new user at onboarding's first free-text step (the loved one's name)."""
    p = engine.new_progress(5, "en", 0.0)
    r = engine.handle(p, Command("start"), 1.0)
    for label in ("No", "Okay"):  # the phone is private; the /hide and /discreet note
        if label in labels(r):
            r = press(engine, p, r, label)
    return p, press(engine, p, r, "Yes, let's start")


def test_an_overdose_asks_whether_it_is_happening_now(engine: Engine) -> None:
    p, _ = at_the_name_step(engine)
    r = engine.handle(p, TextIn("his lips are blue and he wont wake up"), 2.0)
    text = said(r)
    assert "call 911 now" in text and "naloxone" in text and "Are you safe" not in text
    assert "Is this happening right now?" in text
    assert labels(r) == ["Yes, right now", "No, it's over", "I'm not sure"]
    r = press(engine, p, r, "Yes, right now")
    assert "Please get help now" in said(r) and "Overdose: what to do" in labels(r)


@pytest.mark.parametrize(("words", "first", "question"), [
    ("he has a knife and says he will kill me", "Your safety comes first", "Are you safe right now?"),
    ("i want to kill myself", "You matter", "Are you safe right now?"),
    ("He says he'd be better off dead", "Take this seriously", "in danger right now?"),
    ("she is having a seizure after she stopped drinking", "Call 911 now", "Is this happening right now?"),
])
def test_each_pathway_has_its_own_words_and_question(engine: Engine, words: str, first: str,
                                                     question: str) -> None:
    p, _ = at_the_name_step(engine)
    r = engine.handle(p, TextIn(words), 2.0)
    assert first in said(r) and question in to_plain(r.messages[-1].html)


def test_a_past_overdose_in_an_answer_is_no_alarm(engine: Engine) -> None:
    p, _ = at_the_name_step(engine)
    r = engine.handle(p, TextIn("he overdosed once last spring"), 2.0)
    assert "911" not in said(r) and r.events == []


def test_unsure_signs_ask_first_and_yes_opens_the_pathway(engine: Engine) -> None:
    p, _ = at_the_name_step(engine)
    r = engine.handle(p, TextIn("she passed out on the couch"), 2.0)
    assert said(r) == "That sounds serious. Is someone in danger right now?"
    assert labels(r) == ["Yes", "No"] and [e.kind for e in r.events] == ["crisis_check"]
    r = press(engine, p, r, "Yes")
    assert "This may be an overdose" in said(r) and "Is this happening right now?" in said(r)


def test_no_goes_back_to_the_step_with_the_words_kept(engine: Engine) -> None:
    p, _ = at_the_name_step(engine)
    r = engine.handle(p, TextIn("she passed out on the couch"), 2.0)
    assert (p.module, p.step) == ("onboarding", "name") and "name" not in p.answers
    r = press(engine, p, r, "No")
    assert "Thank you for telling me" in said(r) and "What would you like me to call" in said(r)
    assert "911" not in said(r) and "Use what I wrote" in labels(r)
    assert [(e.kind, e.detail) for e in r.events] == [("crisis_check_answer", "no")]
