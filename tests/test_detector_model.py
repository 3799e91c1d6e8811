"""The trained crisis model: reproducible training, what it adds to the rules, and its loading."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from state.curriculum.loader import load_curriculum
from state.curriculum.schema import Crisis
from state.engine.safety.detector import LONG_WORDS, CrisisDetector
from state.engine.safety.model import MODELS, SENTENCE, CrisisModel, ModelMissing, model_for, tokens

REPO = Path(__file__).parent.parent


def trainer() -> ModuleType:
    """bench/train_crisis_model.py, imported as a module."""
    path = REPO / "bench" / "train_crisis_model.py"
    spec = importlib.util.spec_from_file_location("train_crisis_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    locale = load_curriculum(REPO / "curriculum").locales["en"].locale
    assert locale is not None
    return CrisisDetector.from_locale(locale.crisis, "en")


def test_training_is_reproducible_and_matches_the_stored_weights() -> None:
    train = trainer()
    rows, _ = train.split(train.read_lines())
    rows = rows[::4]  # a quarter of the lines keeps this test quick
    lexicon = train.lexicon("en")
    first, second = train.train(rows, lexicon), train.train(rows, lexicon)
    assert first[0] == second[0] and first[1] == second[1]
    assert np.array_equal(first[2], second[2]) and np.array_equal(first[3], second[3])
    stored = CrisisModel.load(MODELS / "en.npz")
    assert list(stored.index) == train.vocabulary(train.read_lines(), lexicon)  # trained on every line
    assert stored.concepts is not None and stored.concepts.stored == lexicon.stored  # and this lexicon
    # read as it was trained: with the order of its classes, which it has learnt weights for
    assert stored.concepts.window == lexicon.window > 0
    assert any(f.startswith("N:") for f in stored.index)


def test_the_split_is_fixed_by_the_seed() -> None:
    train = trainer()
    rows = train.read_lines()
    assert train.split(rows) == train.split(list(rows))
    share = len(train.split(rows)[1]) / len(rows)
    assert 0.15 < share < 0.25


# Indirect lines the rules miss. The shipped model is trained on every line (its thresholds
# are chosen out of fold), so these are in its training data: out-of-sample figures are the
# cross-validation's (`bench/train_crisis_model.py --folds 5`, see the model card).
@pytest.mark.parametrize("text", [
    "the kids are living with needles on the floor",
    "my brother said he bought a gun to end it",
    "i'm so tired. i want to close my eyes forever",
    "my son keeps hinting that he won't be here for his birthday",
])
def test_the_model_catches_indirect_wording(detector: CrisisDetector, text: str) -> None:
    assert CrisisDetector(rules()).detect(text) is None
    found = detector.detect(text)
    assert found is not None and found.score is not None and found.cue.startswith("model ")


def rules() -> Crisis:
    """The English crisis words, for a detector without the model."""
    locale = load_curriculum(REPO / "curriculum").locales["en"].locale
    assert locale is not None
    return locale.crisis


@pytest.mark.parametrize("text", [
    "he never hit me, he just yells",
    "years ago he overdosed, but he's been clean for five years now",
    "what if he overdoses? what should i have ready?",
    "the module on safety was really helpful",
    "i'm not suicidal, just exhausted",
    "he won't talk to me",
])
def test_negations_and_the_past_stay_none(detector: CrisisDetector, text: str) -> None:
    assert detector.detect(text) is None


def test_a_locale_without_a_model_uses_the_rules_and_missing_weights_fail_clearly(tmp_path: Path) -> None:
    assert model_for("fr") is None
    with pytest.raises(ModelMissing, match="crisis model weights not found"):
        CrisisModel.load(tmp_path / "en.npz")


@pytest.mark.parametrize("text", [
    "that movie was so sad i wanted to die",
    "i'm going to kill him if he forgets the milk again lol",
])
def test_a_rule_interrupt_the_model_reads_as_everyday_is_asked_instead(detector: CrisisDetector,
                                                                      text: str) -> None:
    assert (found := CrisisDetector(rules()).detect(text)) is not None and found.level == "interrupt"
    calmed = detector.detect(text)
    assert calmed is not None and calmed.level == "ask" and calmed.pathway == found.pathway
    assert "model calm" in calmed.cue


def test_a_long_message_the_model_reads_as_everyday_is_asked_about_below_calm_long(
        detector: CrisisDetector) -> None:
    # Twenty words give the model more to read than "i'm suicidal": there a rule's interrupt it
    # scores under `calm_long` (not only under `calm`) becomes the question.
    text = ("my husband says he will kill me if i eat his last biscuit again,"
            " the man really loves his biscuits")
    model = detector.model
    assert model is not None and model.calm < model.calm_long
    assert (found := CrisisDetector(rules()).detect(text)) is not None and found.level == "interrupt"
    score = model.score(text)
    assert score.words >= LONG_WORDS and model.calm <= score.crisis < model.calm_long
    calmed = detector.detect(text)
    assert calmed is not None and calmed.level == "ask" and "model calm" in calmed.cue


@pytest.mark.parametrize("text", [
    "i'm considering suicide",
    "i'm suicidal",  # scored about 0.3: a short line keeps `calm`
    "he overdosed",
    "i'm not safe at home",
    "im hiding in the closet from him",
    "he broke my phone so i couldnt call for help",
    "i want to kill myself",
])
def test_plain_crisis_words_keep_their_interrupt(detector: CrisisDetector, text: str) -> None:
    found = detector.detect(text)
    assert found is not None and found.level == "interrupt"


def test_words_the_model_never_saw_keep_the_rules_interrupt(detector: CrisisDetector) -> None:
    model = detector.model
    assert model is not None and not model.knows(["zorblax"]) and model.knows(["kill", "myself"])


@pytest.mark.parametrize(("text", "words"), [
    ("he threw the zorblax at me", ("threw", "at", "me")),  # a gap's word is not the phrase's
    ("my husband quit drinking in kisumu and he is seeing bugs", ("quit", "seeing")),  # a frame
])
def test_the_words_a_rule_matched_are_its_own_not_its_gaps_or_clause(text: str,
                                                                     words: tuple[str, ...]) -> None:
    # The model may calm a rule's interrupt only when it knows the words the rule matched: an
    # unknown word in a gap or elsewhere in a frame's clause must not keep the interrupt.
    found = CrisisDetector(rules()).detect(text)
    assert found is not None and found.level == "interrupt" and found.words == words


@pytest.mark.parametrize("text", [
    "For lesson 3: fridays are hard. Right now he is not breathing and his lips are blue.",
    "He drank all day. I hid the keys! Tomorrow we talk; he's asleep now\nok",
    "one. two words. three more words here",
    "just one sentence without an end",
])
def test_a_message_scores_as_its_best_reading_whole_or_sentence_by_sentence(text: str) -> None:
    # The score reads the whole text from its sentences' features and the pairs across their
    # ends; it must be what reading the whole and each sentence from scratch gives.
    model = model_for("en")
    assert model is not None
    parts = [part for part in SENTENCE.split(text) if tokens(part)]
    readings = [(text, model.probabilities(tokens(text)))]
    if len(parts) > 1:
        readings += [(part, model.probabilities(tokens(part))) for part in parts]
    part, best = min(readings, key=lambda reading: reading[1][model.none])
    score = model.score(text)
    assert score.crisis == pytest.approx(1.0 - float(best[model.none]), abs=1e-6)
    assert score.part == part
    assert score.words == len(tokens(text))
