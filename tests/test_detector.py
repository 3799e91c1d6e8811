"""The crisis detector reads what a message says: who is in danger, from what, and when.

Each case is a message a family member could send, with what a careful crisis-line worker
would want the bot to do: interrupt with the right pathway, ask first, or stay quiet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from state.curriculum.loader import load_curriculum
from state.engine.safety.detector import CrisisDetector

REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    locale = load_curriculum(REPO / "curriculum").locales["en"].locale
    assert locale is not None
    return CrisisDetector.from_locale(locale.crisis)


def verdict(detector: CrisisDetector, text: str) -> str:
    found = detector.detect(text)
    return "none" if found is None else f"{found.level} {found.pathway}"


@pytest.mark.parametrize(("text", "expected"), [
    ("i want to ki\u200bll myself", "interrupt own_danger"),  # a zero-width space
    ("i want to kill my\u00adself", "interrupt own_danger"),  # a soft hyphen inside a word
    ("ｉ ｗａｎｔ ｔｏ ｄｉｅ", "interrupt own_danger"),  # full-width letters (NFKC)
    ("HE IS NOT BREATHİNG", "interrupt overdose"),  # a dotted capital I, case folded
    ("i can´t wake him up", "interrupt overdose"),  # an acute accent typed as an apostrophe
    ("i don´t want to be here anymore", "interrupt own_danger"),
])
def test_hidden_and_unusual_characters_do_not_hide_words(detector: CrisisDetector, text: str,
                                                         expected: str) -> None:
    assert verdict(detector, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # the loved one's words are the loved one's threat, not the reader's own danger
    ("He says he'd be better off dead", "interrupt loved_one_suicide"),
    ("my son keeps saying he wants to die", "interrupt loved_one_suicide"),
    ("he hit me again and now i want to die", "interrupt own_danger"),
    # each kind opens the pathway whose first question fits it
    ("his lips are blue and he wont wake up", "interrupt overdose"),
    ("she stopped drinking 2 days ago and now shes shaking and seeing bugs", "interrupt medical"),
    ("he fell down the stairs and isnt moving", "interrupt medical"),
    ("hes drunk and driving with the kids in the car", "interrupt violence"),
    ("he wont let me leave the house and took my phone", "interrupt violence"),
    # a crisis buried in an exercise answer
    ("my triggers: fridays, payday. also right now hes on the floor not breathing", "interrupt overdose"),
])
def test_the_kind_of_crisis_picks_the_pathway(detector: CrisisDetector, text: str, expected: str) -> None:
    assert verdict(detector, text) == expected


@pytest.mark.parametrize("text", [
    "he overdosed once last spring but he's been clean since",  # past and over
    "my ex used to hit me but i left him years ago",
    "he has never hit me",  # negated
    "i'm not suicidal, just tired",
    "what should i do if he overdoses",  # a question about what to do if it happens
    "how do i know if he's having a seizure",
    "the lesson on overdose was really helpful",  # a lesson topic
    "this homework is killing me",  # an idiom
    "he won't stop drinking and it's killing our marriage",
    "my daughter is 12 and scared of spiders",  # "of" is not "off" (stopping): no withdrawal
    "he's got a cold and a fever of 100",
    "ugh kill me now, the in-laws are staying a month",  # an idiom
])
def test_what_is_over_negated_hypothetical_or_a_topic_stays_quiet(detector: CrisisDetector,
                                                                  text: str) -> None:
    assert verdict(detector, text) == "none"


@pytest.mark.parametrize(("text", "expected"), [
    ("he won't stop hitting me", "interrupt violence"),  # "won't stop" is no negation
    ("i can't wake him up", "interrupt overdose"),
    ("he overdosed last year and now he's not breathing", "interrupt overdose"),  # a new clause
    ("he overdosed last year and he's doing it again right now", "ask overdose"),  # past, but now
    # a lesson topic names its subject just before or after it; further on, it is where the
    # family member learnt what to do, and the crisis is now
    ("he's not breathing, i have the naloxone kit from the course", "interrupt overdose"),
    ("his breathing is very slow and i have the kit from the overdose course", "interrupt overdose"),
    ("of course he stopped breathing and his lips are blue", "interrupt overdose"),  # no topic
    ("we watched the suicide prevention video", "none"),
])
def test_negation_and_time_only_reach_their_own_words(detector: CrisisDetector, text: str,
                                                      expected: str) -> None:
    assert verdict(detector, text) == expected


@pytest.mark.parametrize("text", [
    "he's choking my mum in the kitchen",
    "my dad is beating my mother with a cricket bat",
    "my uncle is drunk and hitting my aunty with a belt",
])
def test_another_grown_up_of_the_family_hurt_now_is_violence(detector: CrisisDetector, text: str) -> None:
    assert verdict(detector, text) == "interrupt violence"


def test_the_family_s_violence_that_is_over_stays_quiet(detector: CrisisDetector) -> None:
    assert verdict(detector, "when i was little my dad drank and hit my mom") == "none"


@pytest.mark.parametrize(("text", "expected"), [
    ("he took like 10 xanax with beer", "ask overdose"),  # a frame: swallowed, how many, what
    ("he is so drunk and he has the baby", "ask violence"),  # a child and someone drunk
    ("he passed out and is slurring", "ask overdose"),
    ("the kids are home and he's wasted", "ask violence"),
])
def test_real_but_unsure_signs_ask_first(detector: CrisisDetector, text: str, expected: str) -> None:
    assert verdict(detector, text) == expected


def test_why_says_what_decided(detector: CrisisDetector) -> None:
    found = detector.detect("he overdosed last year and he's doing it again right now")
    assert found is not None and found.cue == "overdos* (past, but now)"
