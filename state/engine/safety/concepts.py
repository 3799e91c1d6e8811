"""The crisis model's meaning lexicon: which broad classes of meaning a message's words carry.

Words and word pairs only generalise to wording seen in training. A lexicon maps many words
to one class ("pills", "tablets", "rope", "bridge" -> `means`; "burden", "better off" ->
`burden`), so the model can learn that `self` with `means` in one sentence is a warning sign
whichever of those words a person used. The model reads each class present (`k:` features)
and each pair of classes present together (`K:` features) in the words it scores.

Entries are single words, phrases of consecutive words, or prefixes ("overdos*"), folded as
the model folds text (`model.tokens`: case, accents and apostrophes dropped). The lexicon is
written by counselors as training data (tests/data/crisis/concepts/<locale>.yaml), and the
trainer stores it inside the model file, so a model reads messages with the very lexicon it
was trained with.

A lexicon may also read which class comes shortly before which (`N:` features, `window`
words apart at most): "he ... threatened ... me" gives `other>threat` and `threat>self`,
"i ... pills" `self>means`, so the model can tell who did what to whom, which a set of
classes present cannot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import combinations, pairwise

PREFIX = "*"
SEPARATOR = "\t"  # between a class and an entry in the stored form ("means\tpills")
Tokenize = Callable[[str], list[str]]


class Concepts:
    """A lexicon of meaning classes, and the features it gives a list of (folded) words."""

    def __init__(self, entries: Iterable[tuple[str, str]], tokenize: Tokenize, window: int = 0) -> None:
        self.window = window  # words from one class to a later one read as a pair; 0: none
        self.stored = sorted({f"{name}{SEPARATOR}{entry}" for name, entry in entries})
        words: dict[str, set[str]] = defaultdict(set)
        prefixes: dict[str, set[str]] = defaultdict(set)
        # Phrases by their first two words: most messages' pairs start no phrase, and a
        # common first word ("no", "me") starts dozens.
        phrases: dict[tuple[str, str], set[tuple[tuple[str, ...], str]]] = defaultdict(set)
        for line in self.stored:
            name, _, entry = line.partition(SEPARATOR)
            parts = tokenize(entry.removesuffix(PREFIX))
            if not parts:
                continue
            if entry.endswith(PREFIX) and len(parts) == 1:
                prefixes[parts[0]].add(name)
            elif len(parts) == 1:
                words[parts[0]].add(name)
            else:
                phrases[parts[0], parts[1]].add((tuple(parts[2:]), name))
        self._words = {w: frozenset(n) for w, n in words.items()}
        self._prefixes = {p: frozenset(n) for p, n in prefixes.items()}
        self._phrases = {w: tuple(sorted(p)) for w, p in phrases.items()}
        self._sizes = sorted({len(p) for p in self._prefixes}, reverse=True)
        # A word's classes, kept in memory as the model's other per-word caches are.
        self._of_word = lru_cache(maxsize=1 << 14)(self._classes_of)

    @classmethod
    def from_mapping(cls, lexicon: Mapping[str, Sequence[str]], tokenize: Tokenize,
                     window: int = 0) -> Concepts:
        """A lexicon from its written form: class name -> entries."""
        return cls(((name, entry) for name, entries in lexicon.items() for entry in entries), tokenize,
                   window)

    @classmethod
    def from_stored(cls, lines: Iterable[str], tokenize: Tokenize, window: int = 0) -> Concepts:
        """A lexicon from its stored form (`stored`: "class<TAB>entry" lines)."""
        return cls(((name, entry) for name, _, entry in (line.partition(SEPARATOR) for line in lines)),
                   tokenize, window)

    def __len__(self) -> int:
        return len(self.stored)

    def _classes_of(self, word: str) -> frozenset[str]:
        found = set(self._words.get(word, ()))
        for size in self._sizes:
            found.update(self._prefixes.get(word[:size], ()))
        return frozenset(found)

    def classes(self, words: Sequence[str]) -> frozenset[str]:
        """The classes the words carry, phrases included."""
        found: set[str] = set()
        for word in words:
            found |= self._of_word(word)
        found.update(name for _, name in self._phrase_matches(words))
        return frozenset(found)

    def read(self, words: Sequence[str]) -> tuple[frozenset[str], frozenset[str]]:
        """The classes the words carry, and the `N:` features of their order (none when the
        lexicon has no window)."""
        if not self.window:
            return self.classes(words), frozenset()  # the quicker way, with no order to keep
        spans = self._spans(words)
        present = frozenset(name for _, name in spans)
        if len(present) < 2:
            return present, frozenset()
        spans.sort()
        near: set[str] = set()
        for i, (at, first) in enumerate(spans):
            for later, second in spans[i + 1:]:
                if later - at > self.window:
                    break
                if later > at and second != first:
                    near.add(f"N:{first}>{second}")
        return present, frozenset(near)

    def _spans(self, words: Sequence[str]) -> list[tuple[int, str]]:
        """Each class the words carry, with the index of the word (or phrase) that starts it."""
        found = [(i, name) for i, word in enumerate(words) for name in self._of_word(word)]
        found.extend(self._phrase_matches(words))
        return found

    def _phrase_matches(self, words: Sequence[str]) -> Iterator[tuple[int, str]]:
        """Each phrase's class, with the index of the phrase's first word."""
        for i, pair in enumerate(pairwise(words)):
            for rest, name in self._phrases.get(pair, ()):
                if not rest or tuple(words[i + 2:i + 2 + len(rest)]) == rest:
                    yield i, name

    def features(self, words: Sequence[str]) -> set[str]:
        """Each class the words carry (`k:`), each pair of them (`K:`) and, with a window,
        which comes shortly before which (`N:`)."""
        present, near = self.read(words)
        return set(class_features(present) | near)


@lru_cache(maxsize=1 << 12)
def class_features(classes: frozenset[str]) -> frozenset[str]:
    """The features of a set of classes: each class (`k:`) and each pair of them (`K:`);
    kept in memory, as sentences' sets of classes come back often."""
    present = sorted(classes)
    return frozenset([f"k:{name}" for name in present]
                     + [f"K:{a}|{b}" for a, b in combinations(present, 2)])
