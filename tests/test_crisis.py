"""Crisis pathways: the words are found however they are typed, and the interrupt helps first.

A crisis message at any kind of step interrupts with its pathway's message and the
configured resources, asks whether the person is safe with buttons that cannot dismiss the
resources in one tap, offers next steps, and leads back to exactly where they were.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest

from state.contracts import Button, Command, Input, Other, Press, Progress, Reply, TextIn
from state.curriculum.loader import load_curriculum, read_curriculum
from state.curriculum.markup import to_plain
from state.curriculum.schema import Crisis
from state.engine.engine import Engine
from state.engine.safety.detection import CrisisDetector, Resource
from state.service.conversations import Conversations
from state.store.progress import SqliteProgressStore

TESTS = Path(__file__).parent
SAMPLE = TESTS / "curriculum"
REPO = TESTS.parent


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_curriculum(SAMPLE))


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    content = load_curriculum(REPO / "curriculum").locales["en"]
    assert content.locale is not None
    return CrisisDetector.from_locale(content.locale.crisis)


def said(reply: Reply) -> str:
    return "\n".join(to_plain(m.html) for m in reply.messages)


def buttons(reply: Reply) -> list[Button]:
    return [b for m in reply.messages for row in m.buttons for b in row]


def button(reply: Reply, label: str) -> str:
    """The data of the button labelled `label`, or else of the first containing it."""
    found = [b.data for b in buttons(reply) if b.label == label]
    found += [b.data for b in buttons(reply) if label in b.label]
    assert found, f"no button {label!r} in {[b.label for b in buttons(reply)]}"
    return found[0]


def press(engine: Engine, p: Progress, reply: Reply, label: str) -> Reply:
    """Tap a button of `reply`, as Telegram would (with the pressed message's text)."""
    message = next(m for m in reply.messages for row in m.buttons for b in row if label in b.label)
    return engine.handle(p, Press(button(reply, label), message.html), 10.0)


# -- finding the words ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "pathway"), [
    ("I want to DIE!!!", "own_danger"),
    ("honestly i just want to diiiie", "own_danger"),  # repeated letters
    ("i feel sucidal", "own_danger"),  # a slip in a long word
    ("He said he'd KILL me.", "violence"),  # apostrophes, case, punctuation
    ("he’s choking me", "violence"),  # a curly apostrophe
    ("she stoped breathing", "overdose"),  # a missing double letter
    ("he OD'd on pills", "overdose"),  # a rewrite: od'd -> overdosed
    ("i cant wake him", "overdose"),  # no apostrophe
    ("my daughter is suicidal", "loved_one_suicide"),
    ("I'm suicidal", "own_danger"),
])
def test_crisis_words_are_found_however_they_are_typed(detector: CrisisDetector, text: str,
                                                        pathway: str) -> None:
    found = detector.detect(text)
    assert found is not None and found.pathway == pathway, (text, found)


@pytest.mark.parametrize("text", [
    "this homework is killing me", "I killed it at work today", "I'm dying to know how it went",
    "he hit me up last night asking for money", "he's been unresponsive to my texts all week",
    "he won't wake up for school in the mornings", "what are the signs of an overdose",
    "he cooked me dinner", "the diet is going well", "he beat me at cards again",
])
def test_everyday_words_are_no_alarm(detector: CrisisDetector, text: str) -> None:
    assert detector.detect(text) is None


def test_exclusions_only_cancel_what_they_overlap(detector: CrisisDetector) -> None:
    found = detector.detect("this homework is killing me and I want to die")
    assert found is not None and found.pathway == "own_danger"


def test_the_older_phrase_lists_still_work() -> None:
    crisis = Crisis.model_validate({"phrases": ["want to die"], "message": "Call 911."})
    found = CrisisDetector.from_locale(crisis).detect("i want to die")
    assert found is not None and (found.level, found.pathway) == ("interrupt", "crisis")
    crisis = Crisis.model_validate({"message": "Call 911.", "pathways": {
        "a": {"phrases": ["he * kill me"], "message": "A"}, "b": {"phrases": ["overdosed"], "message": "B"}}})
    detector = CrisisDetector.from_locale(crisis)
    assert detector.detect("he said he would kill me") is not None
    assert detector.detect("he went out and then came back to kill me") is None  # a gap: 3 words at most
    found = detector.detect("he overdosed and he said he would kill me")
    assert found is not None and (found.pathway, found.pathways) == ("a", ("a", "b"))


@pytest.mark.parametrize(("change", "wrong"), [
    (("- want* to die", "- \"* want to die\""), "cannot start or end a phrase"),
    (("own_danger:", "Own-Danger:"), "pathway name 'Own-Danger'"),
    (("call **{emergency}**.\"", "call **{emergencyy}**.\""), "unknown placeholder {emergencyy}"),
])
def test_mistakes_in_the_crisis_section_are_reported(tmp_path: Path, change: tuple[str, str],
                                                     wrong: str) -> None:
    shutil.copytree(SAMPLE, tmp_path / "c")
    locale = tmp_path / "c" / "en" / "locale.yaml"
    text = locale.read_text(encoding="utf-8")
    assert change[0] in text
    locale.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    _, problems = read_curriculum(tmp_path / "c")
    assert any(wrong in str(p) and p.file.endswith("locale.yaml") and p.is_error for p in problems)


# -- the interrupt at every kind of step ------------------------------------------------------------

def onboarded(engine: Engine) -> tuple[Progress, Reply]:
    p = engine.new_progress(7, "en", 0.0)
    r = engine.handle(p, Command("start"), 1.0)
    r = engine.handle(p, Press(button(r, "Yes, let's start")), 2.0)
    r = engine.handle(p, TextIn("Sam"), 3.0)
    for label in ("My partner", "Alcohol", "No", "No", "No"):
        r = engine.handle(p, Press(button(r, label)), 4.0)
    return p, r


def reach(engine: Engine, where: str) -> tuple[Progress, Reply]:
    """A user at one kind of step of the sample curriculum, and the reply that showed it."""
    if where in ("onboarding choice", "onboarding text"):
        p = engine.new_progress(7, "en", 0.0)
        r = engine.handle(p, Command("start"), 1.0)
        if where == "onboarding text":
            r = engine.handle(p, Press(button(r, "Yes, let's start")), 2.0)
        return p, r
    p, r = onboarded(engine)
    if where == "menu":
        return p, engine.handle(p, Command("menu"), 5.0)
    steps: list[Input] = [Press(button(r, "Next: Basics"))]
    presses = {"scale": ["Ready"], "choice": ["Ready", "5"], "text": ["Ready", "5", "I'd love"],
               "quiz": ["Ready", "5", "I'd love"], "checklist": ["Ready", "5", "I'd love"]}
    r = engine.handle(p, steps[0], 5.0)
    for label in presses.get(where, []):
        r = engine.handle(p, Press(button(r, label)), 6.0)
    if where in ("quiz", "checklist"):
        r = engine.handle(p, TextIn("weekends"), 7.0)
    if where == "checklist":
        r = engine.handle(p, Press(button(r, "sober and calm")), 8.0)
        r = engine.handle(p, Press(button(r, "Paid a bill")), 9.0)  # one item ticked, kept
    return p, r


KINDS = {  # where -> (step id, what the step shows)
    "onboarding choice": ("consent", "Is that okay with you?"),
    "onboarding text": ("name", "What would you like me to call your loved one?"),
    "message with button": ("intro", "Tap when you are ready."),
    "scale": ("mood", "How stressed are you today?"),
    "choice": ("pick", "Which sounds kinder?"),
    "text": ("trigger", "When does Sam usually use?"),
    "quiz": ("quiz", "When is the best time to talk?"),
    "checklist": ("shield", "Which of these have you done?"),
    "menu": (None, "Modules."),
}


@pytest.mark.parametrize("where", list(KINDS))
def test_a_crisis_at_any_step_interrupts_and_leads_back(engine: Engine, where: str) -> None:
    p, shown = reach(engine, where)
    step, prompt = KINDS[where]
    assert p.step == step and prompt in said(shown)
    before = (p.module, p.step, p.seq, dict(p.answers), dict(p.pending))

    words = "he's got a knife and says he'll kill me"
    held = where in ("text", "onboarding text")  # typed as an answer: kept for the way back
    r = engine.handle(p, TextIn(words), 20.0)
    assert "Your safety comes first" in said(r) and "1-800-799-7233" in said(r)
    assert [b.label for b in buttons(r)] == ["I'm safe right now", "I'm not safe", "I'm not sure"]
    assert [(e.kind, e.module, e.step, e.detail) for e in r.events] == [
        ("crisis", p.module, p.step, "own_danger")]
    kept = {"text": words, "step": f"{p.module}:{p.step}", "seq": p.seq}  # tied to where typed
    pending = {**before[4], "held": kept} if held else before[4]
    assert (p.module, p.step, p.seq, dict(p.answers), dict(p.pending)) == (*before[:4], pending)

    r = press(engine, p, r, "I'm safe right now")
    assert r.edit is not None and "Are you safe right now?" in r.edit.html  # only the question
    r = press(engine, p, r, "Back to where I was")
    if held:
        assert prompt in said(r) and "Use what I wrote" in [b.label for b in buttons(r)]
        r = press(engine, p, r, "Use what I wrote")
        assert words in p.answers.values() and p.step != step
        return
    back = "Next up:" if where == "menu" else prompt  # between modules: the next one first
    assert back in said(r) and (p.module, p.step, p.seq, dict(p.answers)) == before[:4]
    if where == "checklist":
        assert "✅ Paid a bill for them" in [b.label for b in buttons(r)]
    if where == "scale":  # the step's own buttons, shown before the crisis, still work
        engine.handle(p, Press(button(shown, "7")), 21.0)
        assert p.answers["stress"] == 7 and p.step == "pick"


def test_a_brand_new_user_in_crisis_gets_help_before_onboarding(engine: Engine) -> None:
    p = engine.new_progress(8, "en", 0.0)
    r = engine.handle(p, TextIn("my son is not breathing"), 1.0)
    assert "This may be an emergency" in said(r) and "911" in said(r)
    assert p.module is None and not p.started
    r = press(engine, p, r, "I'm safe right now")
    r = press(engine, p, r, "Back to where I was")
    assert "CRAFT" in said(r) and p.module == "onboarding"


def test_edited_messages_and_captions_are_checked_too(engine: Engine) -> None:
    p, _ = onboarded(engine)
    for message in (Other("edit", "he hit me again"), Other("media", "he hit me again")):
        r = engine.handle(p, message, 5.0)
        assert [e.detail for e in r.events] == ["own_danger"]


# -- the "are you safe" flow ------------------------------------------------------------------------

def test_not_safe_repeats_the_resources_and_never_offers_the_way_back_first(engine: Engine) -> None:
    p, _ = onboarded(engine)
    r = engine.handle(p, TextIn("I want to kill myself"), 5.0)
    r = press(engine, p, r, "I'm not safe")
    assert "988 Suicide & Crisis Lifeline" in said(r) and "Please get help now" in said(r)
    assert "Call 911 if you can" in said(r)
    labels = [b.label for b in buttons(r)]
    assert "Back to where I was" not in labels and "I'm safe now" in labels
    assert [(e.kind, e.detail) for e in r.events] == [("crisis_answer", "unsafe")]
    r = press(engine, p, r, "I'm safe now")
    assert "Back to where I was" in [b.label for b in buttons(r)]


def test_next_steps_fit_the_pathway(engine: Engine) -> None:
    p, _ = onboarded(engine)
    r = engine.handle(p, TextIn("I think he overdosed, his lips are blue"), 5.0)
    assert "naloxone" in said(r) and "SAMHSA" in said(r)
    r = press(engine, p, r, "I'm not sure")
    assert [b.label for b in buttons(r)] == ["Overdose: what to do", "A one-minute calming exercise",
                                             "I'm safe now"]
    r = press(engine, p, r, "Overdose: what to do")
    assert "second dose" in said(r) and "Call 911" in said(r) and "recovery position" in said(r)
    assert [b.label for b in buttons(r)] == ["Other help", "Back to where I was"]
    r = press(engine, p, r, "Other help")
    r = press(engine, p, r, "calming exercise")
    assert "Breathe in slowly" in said(r)


def test_both_pathways_at_once_show_both_messages_without_repeating_numbers(engine: Engine) -> None:
    p, _ = onboarded(engine)
    r = engine.handle(p, TextIn("he overdosed and now I want to die"), 5.0)
    text = said(r)
    assert "Your safety comes first" in text and "This may be an emergency" in text
    assert text.count("911:") == 1 and text.count("988 Suicide") == 1
    r = press(engine, p, r, "I'm safe right now")
    assert {"My safety plan", "Overdose: what to do"} <= {b.label for b in buttons(r)}


def test_resources_come_from_the_configuration(engine: Engine) -> None:
    uk = {"emergency": Resource("999", "police, ambulance, fire"),
          "samaritans": Resource("Samaritans", "call 116 123, free, day or night")}
    local = Engine(engine.curriculum, uk)
    p = local.new_progress(9, "en", 0.0)
    r = local.handle(p, TextIn("i want to die"), 1.0)
    assert "call 999" in said(r) and "Samaritans: call 116 123" in said(r) and "988" not in said(r)
    r = local.handle(p, Command("safety"), 2.0)
    assert "Samaritans" in said(r) and "1-800" not in said(r)


def test_safety_command_shows_every_resource_and_records_nothing(engine: Engine) -> None:
    p, _ = onboarded(engine)
    r = engine.handle(p, Command("safety"), 5.0)
    for needed in ("911", "988lifeline.org", "1-800-799-7233", "START to 88788", "1-800-662-4357"):
        assert needed in said(r)
    assert r.events == [] and "Back to where I was" in [b.label for b in buttons(r)]


def test_interrupts_are_stored_as_events_without_the_words(tmp_path: Path, engine: Engine) -> None:
    async def run() -> list[tuple[object, ...]]:
        store = await SqliteProgressStore(tmp_path / "db.sqlite3").open()
        try:
            conversations = Conversations(engine, store, clock=lambda: 1.0)
            await conversations.handle(5, Command("start"))
            await conversations.handle(5, TextIn("ZEBRA he is strangling me"))
            db = sqlite3.connect(tmp_path / "db.sqlite3")
            rows = db.execute("SELECT * FROM events WHERE kind = 'crisis'").fetchall()
            db.close()
            return [tuple(row) for row in rows]
        finally:
            await store.close()

    rows = asyncio.run(run())
    assert len(rows) == 1 and "ZEBRA" not in repr(rows) and "strangl" not in repr(rows)
    assert b"ZEBRA" not in (tmp_path / "db.sqlite3").read_bytes()
