"""The crisis model's meaning lexicon: classes of words, phrases and prefixes, as stored."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import yaml

from state.engine.safety.concepts import Concepts
from state.engine.safety.model import MODELS, CrisisModel, tokens

REPO = Path(__file__).parent.parent
LEXICONS = REPO / "tests" / "data" / "crisis" / "concepts"

WRITTEN = {
    "self": ["i", "me", "I'm"],
    "means": ["pills", "rope", "overdos*", "the bridge"],
    "burden": ["better off", "without me", "a burden"],
}


def test_words_phrases_and_prefixes_carry_their_classes() -> None:
    lexicon = Concepts.from_mapping(WRITTEN, tokens)
    assert lexicon.classes(tokens("Im looking at the PILLS")) == {"self", "means"}
    assert lexicon.classes(tokens("they'd be better off without me")) == {"burden", "self"}
    assert lexicon.classes(tokens("he overdosed")) == {"means"}
    assert lexicon.classes(tokens("off the bridge")) == {"means"}
    assert lexicon.classes(tokens("better than the bus")) == set()  # half a phrase is nothing
    assert lexicon.features(tokens("i have the rope")) == {"k:means", "k:self", "K:means|self"}


def test_a_window_reads_who_did_what_to_whom() -> None:
    written = {"other": ["he", "him"], "self": ["i", "me"], "threat": ["threatened"]}
    plain = Concepts.from_mapping(written, tokens)
    lexicon = Concepts.from_mapping(written, tokens, window=3)
    his, mine = tokens("he threatened me"), tokens("i threatened him")
    # The same classes, so without a window the two read alike ...
    assert plain.features(his) == plain.features(mine)
    # ... and with one, which class came before which tells them apart.
    assert lexicon.read(his)[1] == {"N:other>threat", "N:threat>self", "N:other>self"}
    assert lexicon.read(mine)[1] == {"N:self>threat", "N:threat>other", "N:self>other"}
    far = tokens("he said it was the weather that threatened the trip")
    assert lexicon.read(far)[1] == set()  # more than `window` words apart: no pair


def test_the_stored_form_reads_back_the_same() -> None:
    lexicon = Concepts.from_mapping(WRITTEN, tokens)
    again = Concepts.from_stored(lexicon.stored, tokens)
    text = tokens("i'd be better off gone, the pills are here")
    assert again.stored == lexicon.stored and again.features(text) == lexicon.features(text)


def test_the_written_lexicons_load_and_the_shipped_models_carry_them() -> None:
    for locale in ("en", "es"):
        written = yaml.safe_load((LEXICONS / f"{locale}.yaml").read_text(encoding="utf-8"))
        assert all(isinstance(e, str) and e.strip() for entries in written.values() for e in entries)
        lexicon = Concepts.from_mapping(written, tokens)
        model = CrisisModel.load(MODELS / f"{locale}.npz")
        assert model.concepts is not None and model.concepts.stored == lexicon.stored, (
            f"{locale}: the model was trained with another lexicon: retrain it")
        # and the model has learnt weights for its classes
        assert any(f.startswith("K:") for f in model.index)
        assert np.isfinite(model.weights).all()


def test_the_spanish_model_was_trained_on_the_current_lines() -> None:
    sys.path.insert(0, str(REPO / "bench"))  # the trainer imports its neighbours
    spec = importlib.util.spec_from_file_location("train_crisis_model_es",
                                                  REPO / "bench" / "train_crisis_model_es.py")
    assert spec is not None and spec.loader is not None
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    stored = CrisisModel.load(MODELS / "es.npz")
    fit = sys.modules["_crisis_fit"]
    assert list(stored.index) == fit.vocabulary(train.read_lines(), fit.lexicon("es")), (
        "the Spanish lines changed since es.npz was trained: run bench/train_crisis_model_es.py")
