"""How crisis phrases are matched: text folded into words, and phrases found in them.

A message and every phrase go through the same steps:

1. fold: Unicode NFKC (full-width letters, ligatures), format characters removed (a
   zero-width space in "ki\u200bll" or a soft hyphen), case folded, accents taken off,
   curly apostrophes made straight;
2. rewrite: words the locale lists under `rewrites` are replaced ("gonna" -> "going to");
3. match word by word, tolerating what people type in a hurry:
   - repeated letters ("diiiie", "killll") and missing doubles ("stoped", "kil");
   - one slip (a wrong, missing, extra or swapped letter) in words of 7 letters or more,
     two in words of 10 or more, when the first letter is right ("sucidal", "breathng");
     short words must be right, because "hit"/"hot" or "choked"/"cooked" are different words;
   - `word*` in a phrase matches any word that starts with `word` (suicid* -> suicidal);
   - `{name}` matches any word of the locale's word list `name` ({child} -> son, baby ...);
   - a lone `*` stands for up to three other words ("he * kill me" -> "he said he'd kill me").

Messages are also cut into clauses (at . ! ? ; and line ends here, at the locale's break
words in the detector), because what a word like "years ago" changes stops there.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache

from rapidfuzz.distance import OSA

GAP = "*"
MAX_GAP = 3  # words a lone `*` may stand for
FUZZY_MIN = 7  # letters a word needs before one slip is forgiven
FUZZY_TWO = 10  # ... and before two are
STEM_FUZZY_MIN = 6  # letters a `word*` stem needs before one slip is forgiven
CLASS = re.compile(r"\{(\w+)\}")

TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*\*?|\*|@\w+")
TOKEN_OR_END = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*|[.!?;\n]+")  # a message's words and sentence ends
RUN = re.compile(r"(.)\1+")
ELONGATED = re.compile(r"(.)\1\1")  # a letter typed three times or more: "diiie"
APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})


def fold(text: str) -> str:
    """Lowercase text without accents or invisible characters, with straight apostrophes."""
    folded = text.casefold()
    if folded.isascii():  # most messages: nothing to normalize, and no curly apostrophes
        return folded.replace("`", "'")
    if max(text) < LATIN_END:  # Spanish and most European text: one table lookup a letter
        return text.translate(LATIN)
    return _fold_unicode(text)


def _fold_unicode(text: str) -> str:
    # Apostrophes first: NFKC would turn "´" into a space and an accent.
    folded = unicodedata.normalize("NFKC", text.translate(APOSTROPHES)).casefold()
    # Format characters (category Cf: zero-width space and joiner, soft hyphen) hide words
    # from matching without changing how they look; accents come off after NFKD.
    folded = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))


# Below U+0250 no character is a combining mark, so no two characters compose under NFKC
# and folding letter by letter gives what `_fold_unicode` gives for the whole text.
LATIN_END = "\u0250"
LATIN = str.maketrans({chr(c): _fold_unicode(chr(c)) for c in range(ord(LATIN_END))})


def squeeze(word: str) -> str:
    """A word with every run of one letter cut to one: "diiiie" -> "die", "kill" -> "kil"."""
    return RUN.sub(r"\1", word)


class Words:
    """Turns text into the words that are matched, applying a locale's rewrites."""

    def __init__(self, rewrites: Mapping[str, str] | None = None) -> None:
        self.rewrites = {fold(k): tuple(TOKEN.findall(fold(v))) for k, v in (rewrites or {}).items()}

    def __call__(self, text: str) -> tuple[str, ...]:
        """The words of `text`, folded and rewritten (`{name}` in a phrase becomes `@name`)."""
        return tuple(self._rewrite(TOKEN.findall(CLASS.sub(r"@\1", fold(text)))))

    def sentences(self, text: str) -> tuple[list[str], list[int]]:
        """The words of a message, and where each of its sentences starts among them."""
        words: list[str] = []
        starts: list[int] = []
        for raw in TOKEN_OR_END.findall(fold(text)):
            if raw[0] in ".!?;\n":
                starts.append(len(words))
            else:
                words.extend(self._rewrite((raw,)))
        return words, [0, *starts]

    def _rewrite(self, raws: Iterable[str]) -> Iterator[str]:
        for raw in raws:
            bare = raw.replace("'", "")
            found = self.rewrites.get(raw, self.rewrites.get(bare))
            yield from (found if found is not None else (bare,))


@lru_cache(maxsize=1 << 16)
def word_matches(token: str, word: str) -> bool:
    """Whether a typed word matches a phrase word (or `stem*`), forgiving small slips."""
    if word.endswith("*"):
        stem = word[:-1]
        if token.startswith(stem) or squeeze(token).startswith(squeeze(stem)):
            return True
        if len(stem) < STEM_FUZZY_MIN or token[:1] != stem[:1]:
            return False
        return any(OSA.distance(token[:k], stem, score_cutoff=1) <= 1
                   for k in (len(stem) - 1, len(stem), len(stem) + 1))
    if token == word:
        return True
    short_token, short_word = squeeze(token), squeeze(word)
    # A missing double letter ("kil", "stoped"), not in words of three letters: "of" is not
    # "off", "to" is not "too", Spanish "se" is not "see".
    if short_token == short_word and ((len(token) < len(word) and len(word) > 3)
                                      or ELONGATED.search(token)):
        return True
    if len(word) < FUZZY_MIN or token[:1] != word[:1]:
        return False
    slips = 2 if len(word) >= FUZZY_TWO else 1
    return OSA.distance(short_token, short_word, score_cutoff=slips) <= slips or \
        OSA.distance(token, word, score_cutoff=slips) <= slips


def word_is(token: str, word: str) -> bool:
    """Strict matching, for context words: the same word, or a word starting with a `stem*`."""
    return token.startswith(word[:-1]) if word.endswith("*") else token == word


Matcher = Callable[[str, str], bool]
Parts = tuple[str, ...]


def _match_at(marks: Sequence[frozenset[str]], i: int, parts: Parts) -> int | None:
    """The end of a match of `parts` starting exactly at token `i`, or None.

    `marks[i]` holds the phrase words (and `@lists`) that token `i` matches.
    """
    if not parts:
        return i
    head, rest = parts[0], parts[1:]
    if head == GAP:
        for skip in range(MAX_GAP + 1):
            end = _match_at(marks, i + skip, rest) if i + skip <= len(marks) else None
            if end is not None:
                return end
        return None
    if i < len(marks) and head in marks[i]:
        return _match_at(marks, i + 1, rest)
    return None


class Phrasebook:
    """Phrases indexed for speed: their words by first letter, the phrases by first word.

    A typed word can only match a phrase word with the same first letter (a slip in the
    first letter is never forgiven), so each token is compared with a few dozen words, not
    with every phrase; then only the phrases that start with a matched word are tried.
    """

    def __init__(self, phrases: Sequence[Parts], same: Matcher,
                 lists: Mapping[str, Sequence[str]] | None = None) -> None:
        self.phrases = tuple(phrases)
        # A phrase can only match where all its words are somewhere in the message: checking
        # that first (a set test) spares the word-by-word walk for most phrases tried.
        self.needs = tuple(frozenset(w for w in parts if w != GAP) for parts in self.phrases)
        self.same = same
        letters: dict[str, set[str]] = {}
        self.by_head: dict[str, list[int]] = {}
        for k, parts in enumerate(self.phrases):
            for word in parts:
                if word != GAP and not word.startswith("@"):
                    letters.setdefault(word[:1], set()).add(word)
            self.by_head.setdefault(parts[0], []).append(k)
        # A word of a list `{name}` marks its tokens with `@name` as well as with itself.
        self.lists: dict[str, set[str]] = {}
        for name, words in (lists or {}).items():
            for word in words:
                letters.setdefault(word[:1], set()).add(word)
                self.lists.setdefault(word, set()).add(f"@{name}")
        self.by_letter = {letter: tuple(sorted(words)) for letter, words in letters.items()}
        # Everyday words come back in message after message: what each matches is kept
        # (like `word_matches`, in memory only, never written anywhere).
        self._token_marks = lru_cache(maxsize=1 << 14)(self._marks_of)
        self._token_starts = lru_cache(maxsize=1 << 14)(self._starts_of)

    def _marks_of(self, token: str) -> frozenset[str]:
        found = {w for w in self.by_letter.get(token[:1], ()) if self.same(token, w)}
        return frozenset(found.union(*(self.lists.get(w, ()) for w in found)))

    def _starts_of(self, token: str) -> tuple[int, ...]:
        return tuple(k for word in self._token_marks(token) for k in self.by_head.get(word, ()))

    def marks(self, tokens: Sequence[str]) -> list[frozenset[str]]:
        """For each token, the phrase words it matches."""
        return [self._token_marks(t) for t in tokens]

    def find(self, tokens: Sequence[str]) -> Iterator[tuple[int, int, int]]:
        """(phrase index, start, end) for every match in the tokens."""
        marks = self.marks(tokens)
        present = frozenset().union(*marks)
        for i, token in enumerate(tokens):
            for k in self._token_starts(token):
                if self.needs[k] <= present:
                    end = _match_at(marks, i, self.phrases[k])
                    if end is not None:
                        yield k, i, end
