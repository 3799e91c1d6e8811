"""Spotting words of crisis in free text, by pathway, so any step can be interrupted with help.

Counselors write the phrases per locale (`crisis.pathways` in `locale.yaml`); this module
only knows how to match them. A message and every phrase go through the same steps:

1. fold: lowercase, accents and punctuation removed, curly apostrophes made straight;
2. rewrite: words the locale lists under `rewrites` are replaced ("gonna" -> "going to",
   "won't" -> "will not", "od'd" -> "overdosed"), so a phrase need not list every spelling;
3. match word by word, tolerating what people type in a hurry:
   - repeated letters ("diiiie", "killll") and missing doubles ("stoped", "kil");
   - one slip (a wrong, missing, extra or swapped letter) in words of 7 letters or more,
     two in words of 10 or more, when the first letter is right ("sucidal", "breathng");
     short words must be right, because "hit"/"hot" or "choked"/"cooked" are different words;
   - `word*` in a phrase matches any word that starts with `word` (suicid* -> suicidal);
   - a lone `*` stands for up to three other words ("he * kill me" -> "he said he'd kill me").

A match is cancelled when an exclusion phrase (`crisis.exclusions`) overlaps it: "this
homework is killing me" is not a threat. Exclusions match strictly (whole words, or
`stem*`), so "worried he might overdose" can be excluded without excluding "worried he
overdosed". When phrases of several pathways match, the
longest match names the pathway (ties go to the pathway written first), so a phrase with
its subject ("he * kill himself") wins over a shorter one inside it ("kill himself").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

from state.curriculum.schema import Crisis

GAP = "*"
MAX_GAP = 3  # words a lone `*` may stand for
FUZZY_MIN = 7  # letters a word needs before one slip is forgiven
FUZZY_TWO = 10  # ... and before two are
STEM_FUZZY_MIN = 6  # letters a `word*` stem needs before one slip is forgiven
LEGACY_PATHWAY = "crisis"  # the one pathway of a locale that still has a flat `phrases` list

TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*\*?|\*")
RUN = re.compile(r"(.)\1+")
ELONGATED = re.compile(r"(.)\1\1")  # a letter typed three times or more: "diiie"
APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})


def fold(text: str) -> str:
    """Lowercase text without accents, with straight apostrophes."""
    folded = text.casefold()
    if folded.isascii():  # most messages: nothing to take off, and no curly apostrophes
        return folded
    folded = unicodedata.normalize("NFKD", folded.translate(APOSTROPHES))
    return "".join(c for c in folded if not unicodedata.combining(c))


def squeeze(word: str) -> str:
    """A word with every run of one letter cut to one: "diiiie" -> "die", "kill" -> "kil"."""
    return RUN.sub(r"\1", word)


class Words:
    """Turns text into the words that are matched, applying a locale's rewrites."""

    def __init__(self, rewrites: Mapping[str, str] | None = None) -> None:
        self.rewrites = {fold(k): tuple(TOKEN.findall(fold(v))) for k, v in (rewrites or {}).items()}

    def __call__(self, text: str) -> tuple[str, ...]:
        """The words of `text`, folded and rewritten."""
        out: list[str] = []
        for raw in TOKEN.findall(fold(text)):
            bare = raw.replace("'", "")
            found = self.rewrites.get(raw, self.rewrites.get(bare))
            out.extend(found if found is not None else (bare,))
        return tuple(out)


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
    if short_token == short_word and (len(token) < len(word) or ELONGATED.search(token)):
        return True
    if len(word) < FUZZY_MIN or token[:1] != word[:1]:
        return False
    slips = 2 if len(word) >= FUZZY_TWO else 1
    return OSA.distance(short_token, short_word, score_cutoff=slips) <= slips or \
        OSA.distance(token, word, score_cutoff=slips) <= slips


def word_is(token: str, word: str) -> bool:
    """Strict matching, for exclusions: the same word, or a word starting with a `stem*`."""
    return token.startswith(word[:-1]) if word.endswith("*") else token == word


Matcher = Callable[[str, str], bool]
Parts = tuple[str, ...]


def _match_at(marks: Sequence[frozenset[str]], i: int, parts: Parts) -> int | None:
    """The end of a match of `parts` starting exactly at token `i`, or None.

    `marks[i]` holds the phrase words that token `i` matches.
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

    def __init__(self, phrases: Sequence[Parts], same: Matcher) -> None:
        self.phrases = tuple(phrases)
        self.same = same
        letters: dict[str, set[str]] = {}
        self.by_head: dict[str, list[int]] = {}
        for k, parts in enumerate(self.phrases):
            for word in parts:
                if word != GAP:
                    letters.setdefault(word[:1], set()).add(word)
            self.by_head.setdefault(parts[0], []).append(k)
        self.by_letter = {letter: tuple(sorted(words)) for letter, words in letters.items()}
        # Everyday words come back in message after message: what each matches is kept
        # (like `word_matches`, in memory only, never written anywhere).
        self._token_marks = lru_cache(maxsize=1 << 14)(self._marks_of)

    def _marks_of(self, token: str) -> frozenset[str]:
        return frozenset(w for w in self.by_letter.get(token[:1], ()) if self.same(token, w))

    def marks(self, tokens: Sequence[str]) -> list[frozenset[str]]:
        """For each token, the phrase words it matches."""
        return [self._token_marks(t) for t in tokens]

    def find(self, tokens: Sequence[str]) -> Iterator[tuple[int, int, int]]:
        """(phrase index, start, end) for every match in the tokens."""
        marks = self.marks(tokens)
        for i, words in enumerate(marks):
            for word in words:
                for k in self.by_head.get(word, ()):
                    end = _match_at(marks, i, self.phrases[k])
                    if end is not None:
                        yield k, i, end


@dataclass(frozen=True)
class Hit:
    """One phrase found in a message."""

    pathway: str
    phrase: str
    start: int
    end: int

    @property
    def length(self) -> int:
        """How many words of the message the phrase covered."""
        return self.end - self.start


@dataclass(frozen=True)
class Detection:
    """What a message showed: the pathway to follow, and every pathway that matched."""

    pathway: str
    pathways: tuple[str, ...]
    phrase: str


@dataclass(frozen=True)
class _Phrase:
    pathway: str
    text: str
    parts: tuple[str, ...]


class CrisisDetector:
    """Finds a locale's crisis phrases in a message and names the pathway they show."""

    def __init__(self, pathways: Mapping[str, Iterable[str]], exclusions: Iterable[str] = (),
                 rewrites: Mapping[str, str] | None = None) -> None:
        self.words = Words(rewrites)
        self.order = tuple(pathways)
        self.phrases = tuple(_Phrase(name, text, parts) for name, texts in pathways.items()
                             for text in texts if (parts := self.words(text)))
        self.book = Phrasebook([p.parts for p in self.phrases], word_matches)
        self.exclusions = Phrasebook([parts for text in exclusions if (parts := self.words(text))],
                                     word_is)

    @classmethod
    def from_locale(cls, crisis: Crisis) -> CrisisDetector:
        """The detector for one locale's `crisis:` section."""
        pathways: dict[str, list[str]] = {name: p.phrases for name, p in crisis.pathways.items()}
        if crisis.phrases:
            pathways.setdefault(LEGACY_PATHWAY, []).extend(crisis.phrases)
        return cls(pathways, crisis.exclusions, crisis.rewrites)

    def hits(self, text: str) -> list[Hit]:
        """Every crisis phrase found in `text` that no exclusion overlaps."""
        tokens = self.words(text)
        if not tokens:
            return []
        excluded = [(start, end) for _, start, end in self.exclusions.find(tokens)]
        return [Hit(self.phrases[k].pathway, self.phrases[k].text, start, end)
                for k, start, end in self.book.find(tokens)
                if not any(start < x_end and x_start < end for x_start, x_end in excluded)]

    def detect(self, text: str) -> Detection | None:
        """The pathway `text` shows (the longest match wins), or None."""
        hits = self.hits(text)
        if not hits:
            return None
        rank = {name: i for i, name in enumerate(self.order)}
        best = min(hits, key=lambda h: (-h.length, rank[h.pathway]))
        others = sorted({h.pathway for h in hits} - {best.pathway}, key=rank.__getitem__)
        return Detection(best.pathway, (best.pathway, *others), best.phrase)


# -- resources and one locale's crisis guide ----------------------------------------------------

GENERAL = "safety"  # the pseudo-pathway of /safety: every resource, every next step


@dataclass(frozen=True)
class Resource:
    """A crisis line or service, from the configuration.

    `show_for` lists the pathways whose message shows it (and `safety` for /safety); empty
    means every one.
    """

    name: str
    details: str
    show_for: tuple[str, ...] = ()

    def shown_for(self, pathway: str) -> bool:
        """Whether this resource belongs in a pathway's message."""
        return not self.show_for or pathway in self.show_for


# The United States defaults, as verified in the clinical reference (craft.md, safety table).
US_RESOURCES: dict[str, Resource] = {
    "emergency": Resource("911", "immediate danger or medical emergency"),
    "lifeline": Resource(
        "988 Suicide & Crisis Lifeline",
        "call or text 988, chat at 988lifeline.org; covers substance-use crises too;"
        " press 1 for veterans, 2 for Spanish"),
    "dv_hotline": Resource(
        "National Domestic Violence Hotline",
        "1-800-799-7233 (TTY 1-800-787-3224), text START to 88788, chat at thehotline.org",
        ("own_danger", LEGACY_PATHWAY, GENERAL)),
    "samhsa": Resource(
        "SAMHSA National Helpline",
        "1-800-662-4357 (TTY 1-800-487-4889), free, confidential, 24/7, English and Spanish;"
        " treatment referral, not counselling",
        ("loved_one_emergency", LEGACY_PATHWAY, GENERAL)),
}
EMERGENCY = "emergency"  # the resource whose name fills `{emergency}` ("911")


class CrisisGuide:
    """One locale's crisis words and texts together with the configured resources."""

    def __init__(self, crisis: Crisis, resources: Mapping[str, Resource] | None = None) -> None:
        self.crisis = crisis
        self.detector = CrisisDetector.from_locale(crisis)
        self.resources = dict(US_RESOURCES if resources is None else resources)

    @property
    def emergency(self) -> str:
        """The emergency number's name ("911"), for `{emergency}`."""
        found = self.resources.get(EMERGENCY)
        return found.name if found else next((r.name for r in self.resources.values()), "")

    def resource_lines(self, pathway: str, shown: set[str] | None = None) -> str:
        """The resources a pathway shows, one `**name**: details` line each.

        Resources whose ids are in `shown` are left out, and the others are added to it, so
        a message that follows another does not repeat its numbers.
        """
        ids = [i for i, r in self.resources.items()
               if r.shown_for(pathway) and (shown is None or i not in shown)]
        if shown is not None:
            shown.update(ids)
        return "\n".join(f"**{self.resources[i].name}**: {self.resources[i].details}" for i in ids)

    def fill(self, text: str, pathway: str, shown: set[str] | None = None) -> str:
        """A crisis text with `{resources}` and `{emergency}` filled in (still light markup)."""
        if "{resources}" in text:
            lines = self.resource_lines(pathway, shown)
            if not lines:
                return ""  # every resource was shown already: drop the message
            text = text.replace("{resources}", lines)
        return text.replace("{emergency}", self.emergency)

    def messages(self, pathway: str, shown: set[str] | None = None) -> list[str]:
        """What a pathway says when it interrupts (the general message for /safety)."""
        found = self.crisis.pathways.get(pathway)
        text = found.message if found is not None else self.crisis.message
        items = [text] if isinstance(text, str) else text
        return [filled for t in items if (filled := self.fill(t, pathway, shown)).strip()]

    def next_steps(self, pathway: str) -> list[str]:
        """The in-bot next steps a pathway offers, in order, leaving out those with no text."""
        found = self.crisis.pathways.get(pathway)
        steps: list[str] = (list(found.next_steps) if found is not None
                            else ["safety_plan", "overdose", "grounding"])
        present = {"safety_plan": True, "overdose": bool(self.crisis.overdose_steps),
                   "grounding": bool(self.crisis.grounding)}
        return [s for s in steps if present[s]]
