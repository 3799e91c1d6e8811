"""The trained crisis model: a small linear classifier that scores how crisis-like a message is.

The rules of `detector` are precise but only know the phrases counselors wrote; this model,
trained on labelled lines (tests/data/crisis/training and tuning, see `bench/train_crisis_model.py`),
reads new wording. It is a multinomial logistic regression over:

- words, pairs of words and pairs with one word between (`w:`, `b:` and `s:` features:
  "he * himself"),
- each word's crude stem (one common ending cut, then its first 5 letters) and each pair of
  stems (`t:`, `u:`), so "killing myself" is read like "kill myself",
- letter groups of 3 and 4 inside each word, padded with spaces (`c:`), for typos,
- the meaning classes its words carry and each pair of them (`k:`, `K:`: "self" and "means"
  in the text scored), and, where the lexicon has a window, which class comes shortly before
  which (`N:`: "other_person>threat"), from the lexicon stored with the weights (`concepts`),

after the same folding as `words.fold` (NFKC, case fold, format characters and accents
removed), with letters typed three times or more cut to one ("diiiie" -> "die"). Features
are binary and the vector is scaled to unit length. A message is scored whole and, when it
has several sentences, sentence by sentence, so a crisis in a long exercise answer is read
on its own; the highest crisis score wins.

The weights are package data, one file per locale (`models/<locale>.npz`): a locale without
one is read by the rules alone. They are loaded once, with numpy, and never written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

from state.engine.safety.concepts import Concepts, class_features
from state.engine.safety.words import fold

MODELS = Path(__file__).parent / "models"
LOCALES = frozenset({"en", "es"})  # locales that ship a model: its file must be there
NONE = "none"
WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
SENTENCE = re.compile(r"[.!?;\n]+")
ELONGATED = re.compile(r"(.)\1{2,}")
CHAR_SIZES = (3, 4)
SUFFIXES = ("ing", "ed", "es", "s", "ly")  # cut once before a stem is taken
STEM_SIZE = 5  # letters a stem keeps
Floats = npt.NDArray[np.float32]
Reading = tuple[set[str], set[str], set[int]]  # pair and class features, words' own, rows


class ModelMissing(FileNotFoundError):
    """A locale that should have a crisis model has no weights file."""


def tokens(text: str) -> list[str]:
    """The words of a text, folded, without apostrophes, with long letter runs cut."""
    return [ELONGATED.sub(r"\1", w.replace("'", "")) for w in WORD.findall(fold(text))]


def features(words: list[str], concepts: Concepts | None = None) -> set[str]:
    """The binary features of a list of words: words, pairs of words, letter groups, and the
    meaning classes of `concepts` (with their pairs)."""
    found = word_features(words)
    for w in words:
        found.update(letter_groups(w))
    if concepts is not None:
        found |= concepts.features(words)
    return found


def word_features(words: list[str]) -> set[str]:
    """The features of whole words: each word, each pair, each pair with one word between,
    and each word's stem and each pair of stems."""
    found = pair_features(words)
    for w in words:
        found.update(single_features(w))
    return found


def pair_features(words: list[str]) -> set[str]:
    """The features of `word_features` that read two words: pairs, pairs with one word
    between, pairs of stems."""
    found = {f"b:{a} {b}" for a, b in pairwise(words)}
    found.update(f"s:{a} {b}" for a, b in zip(words, words[2:], strict=False))
    found.update(f"u:{stem(a)} {stem(b)}" for a, b in pairwise(words))
    return found


def single_features(word: str) -> tuple[str, str]:
    """The features of `word_features` that read one word: the word and its stem."""
    return f"w:{word}", f"t:{stem(word)}"


@lru_cache(maxsize=1 << 14)
def stem(word: str) -> str:
    """A crude stem: one common ending cut, then the first STEM_SIZE letters ("killing",
    "killed", "kills" -> "kill"; "overdosed", "overdoses" -> "overd"), so a pair of words
    learnt in one form is read in another."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[:-len(suffix)]
            break
    return word[:STEM_SIZE]


@lru_cache(maxsize=1 << 14)
def letter_groups(word: str) -> frozenset[str]:
    """The letter-group features of one word (kept in memory: words come back in message
    after message, like the matching caches of `words`; never written anywhere)."""
    padded = f" {word} "
    return frozenset(f"c:{padded[i:i + n]}" for n in CHAR_SIZES for i in range(len(padded) - n + 1))


def sentences(text: str) -> list[tuple[str, list[str]]]:
    """Each sentence of a text that has words, with its words (together, the text's words:
    no word spans a sentence end)."""
    return [(part, t) for part in SENTENCE.split(text) if (t := tokens(part))]


def crossing_features(words: list[str], starts: set[int]) -> set[str]:
    """The pair features of `word_features(words)` that span a sentence start in `starts`
    (the index of a sentence's first word): what a text has beyond its sentences'."""
    found: set[str] = set()
    for i in starts:
        a, b = words[i - 1], words[i]
        found.update((f"b:{a} {b}", f"u:{stem(a)} {stem(b)}"))
        if i >= 2:
            found.add(f"s:{words[i - 2]} {b}")
        if i + 1 < len(words):
            found.add(f"s:{a} {words[i + 1]}")
    return found


@dataclass(frozen=True)
class Score:
    """How crisis-like a message is (1 - the chance of `none`), the most likely kind, the
    part that scored it: the whole text or one of its sentences (kept in memory only), and
    how many words the whole message has."""

    crisis: float
    kind: str
    part: str = ""
    words: int = 0


class CrisisModel:
    """Weights and vocabulary of one locale's model, with the thresholds chosen for them."""

    def __init__(self, vocabulary: list[str], kinds: list[str], weights: Floats, bias: Floats,
                 ask: float, interrupt: float, calm: float = 0.0,
                 concepts: Concepts | None = None, calm_long: float | None = None) -> None:
        self.index = {feature: i for i, feature in enumerate(vocabulary)}
        self.kinds = kinds
        self.none = kinds.index(NONE)
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.ask = ask  # crisis score from which the model asks
        self.interrupt = interrupt  # ... and from which it may interrupt
        self.calm = calm  # under this, a rule's interrupt is asked about instead
        # ... and under this in a long message, where the model has more words to read
        self.calm_long = calm if calm_long is None else calm_long
        self.concepts = concepts  # the meaning lexicon the weights were trained with
        # A word's own features and their rows, and a set of meaning classes' features and
        # their rows, kept in memory as `letter_groups` is.
        self._word_rows = lru_cache(maxsize=1 << 14)(self._rows_of)
        self._class_rows = lru_cache(maxsize=1 << 12)(self._rows_of_classes)

    @classmethod
    def load(cls, path: Path) -> CrisisModel:
        """The model stored in an .npz file (no pickles); ModelMissing if there is none."""
        if not path.is_file():
            raise ModelMissing(f"crisis model weights not found: {path} (retrain with"
                               " `python bench/train_crisis_model.py`)")
        with np.load(path, allow_pickle=False) as data:
            ask, interrupt, *calm = (float(t) for t in data["thresholds"])  # calm(s): newer files
            window = int(data["window"]) if "window" in data.files else 0  # newer files
            concepts = (Concepts.from_stored((str(c) for c in data["concepts"]), tokens, window)
                        if "concepts" in data.files else None)  # a lexicon: newer files
            return cls([str(v) for v in data["vocabulary"]], [str(k) for k in data["kinds"]],
                       data["weights"], data["bias"], ask, interrupt, calm[0] if calm else 0.0,
                       concepts, calm[1] if len(calm) > 1 else None)

    def knows(self, words: Iterable[str]) -> bool:
        """Whether every one of these words was in the training lines often enough to be read."""
        found = [f"w:{w}" for w in words]
        return bool(found) and all(f in self.index for f in found)

    def _rows_of(self, word: str) -> tuple[frozenset[str], frozenset[int]]:
        """A word's own features (itself, its stem, its letter groups) and their rows."""
        own = letter_groups(word).union(single_features(word))
        return own, frozenset(i for f in own if (i := self.index.get(f)) is not None)

    def _rows_of_classes(self, classes: frozenset[str]) -> tuple[frozenset[str], frozenset[int]]:
        found = class_features(classes)
        return found, frozenset(i for f in found if (i := self.index.get(f)) is not None)

    def _concepts(self, words: list[str]) -> tuple[frozenset[str], frozenset[int]]:
        """The meaning-class features of a list of words, and their rows (none without a lexicon)."""
        if self.concepts is None:
            return frozenset(), frozenset()
        present, near = self.concepts.read(words)
        found, rows = self._class_rows(present)
        if near:
            found |= near
            rows |= {i for f in near if (i := self.index.get(f)) is not None}
        return found, rows

    def probabilities(self, words: list[str]) -> Floats:
        """The chance of each kind (and `none`) for one list of words (as `features` reads them)."""
        return self._chances(self._read(words))

    def _read(self, words: list[str]) -> Reading:
        """The pair and meaning-class features of a list of words, each word's own features
        (the word, its stem, its letter groups), and their rows."""
        found = pair_features(words)  # a word's own features come from `_word_rows`
        rows = {i for f in found if (i := self.index.get(f)) is not None}
        meaning, meaning_rows = self._concepts(words)
        found |= meaning
        rows |= meaning_rows
        groups: set[str] = set()
        for word in set(words):
            word_groups, word_rows = self._word_rows(word)
            groups |= word_groups
            rows |= word_rows
        return found, groups, rows

    def _chances(self, reading: Reading) -> Floats:
        """The chance of each kind for one reading."""
        found, groups, rows = reading
        logits = self.bias.copy()
        if rows:
            size = len(found) + len(groups)  # the same count as len(features(words))
            logits += self.weights[sorted(rows)].sum(axis=0) / np.float32(np.sqrt(size))
        logits -= logits.max()
        exp = np.exp(logits)
        result: Floats = exp / exp.sum()
        return result

    def score(self, text: str) -> Score:
        """The highest crisis score over the message and its sentences, with its kind."""
        parts = sentences(text)
        readings = [self._read(words) for _, words in parts]
        whole = [w for _, words in parts for w in words]
        if len(parts) > 1:
            # The whole text's features are its sentences' and the pairs across their ends,
            # so each sentence is read once (what most of a long answer's cost was); its
            # meaning classes are read whole, as they pair over sentences.
            starts, start = set(), 0
            for _, words in parts[:-1]:
                start += len(words)
                starts.add(start)
            crossing = crossing_features(whole, starts)
            meaning, meaning_rows = self._concepts(whole)
            found = crossing.union(meaning, *(f for f, _, _ in readings))
            groups = set().union(*(g for _, g, _ in readings))
            rows = {i for f in crossing if (i := self.index.get(f)) is not None}
            rows = rows.union(meaning_rows, *(r for _, _, r in readings))
            scored = [(text, self._chances((found, groups, rows)))]
            scored += [(part, self._chances(reading))
                       for (part, _), reading in zip(parts, readings, strict=True)]
        else:
            scored = [(text, self._chances(readings[0] if readings else (set(), set(), set())))]
        part, best = scored[0]
        for segment, p in scored[1:]:
            if p[self.none] < best[self.none]:  # the first of equals: the whole text
                best, part = p, segment
        crisis = best.copy()
        crisis[self.none] = -1.0
        return Score(float(1.0 - best[self.none]), self.kinds[int(crisis.argmax())], part, len(whole))


def model_for(locale: str) -> CrisisModel | None:
    """The crisis model a locale ships, None if it has none; ModelMissing if its file is gone."""
    if locale not in LOCALES:
        return None
    return CrisisModel.load(MODELS / f"{locale}.npz")
