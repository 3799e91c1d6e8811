"""The crisis detector: what kind of crisis a message shows, and whether to interrupt or ask.

Counselors write the language data per locale (`crisis:` in `locale.yaml`): the phrases of
each kind of crisis, in two tiers (`interrupt` and `ask`), the word lists phrases share
(`{child}`, `{self3}`), and the context words that change what a phrase says. This module
only knows how to read a message with them (matching itself is in `words`):

1. the message is cut into clauses (sentence ends, the locale's `breaks` such as "but");
2. every phrase of every kind is found, with its tier, unless an exclusion overlaps it;
3. each find is read in its clause, as clinical NLP does with NegEx/ConText:
   - a negation just before it ("he never hit me") cancels it;
   - words of the past and over ("years ago"), of a hypothetical ("what if", "in case")
     or of a lesson topic ("the module on") in its clause cancel it, unless a word of now
     ("right now", "tonight") is there too: then it asks;
   - a kind with `others` becomes that kind when the nearest subject before it is someone
     else ("he says he'd be better off dead" is the loved one's threat, not the reader's);
4. the strongest find decides: an interrupt beats an ask, then the longer phrase, then the
   kind written first;
5. where the locale has a trained model (`model`), it reads what the rules did not: a
   message the rules leave alone or only ask about is asked about when the model's crisis
   score reaches its `ask` threshold, and interrupted when it reaches its `interrupt`
   threshold, with the model's kind. A find the rules cancelled ("he never hit me"), a
   past, hypothetical or lesson-topic word with no word of now, or a guess about what
   someone might do (the locale's `hedges`: "he might shout"), vetoes the model's call (a cancelled find
   or a topic word only in the sentence the model read as most crisis-like: `vetoed`);
6. a rule's interrupt that the model scores below its `calm` threshold (it reads as an
   everyday line: "she shot me a text", "my toddler threw a tantrum") is asked about
   instead: the one-tap question still opens the pathway on "yes". A message of LONG_WORDS
   or more gives the model more to read, and its threshold there is `calm_long` (higher);
   a short plain "i'm suicidal" keeps `calm`. Only when the model knows every word the
   phrase matched: a phrase counselors add later, in words the model never saw, keeps its
   interrupt. The model never silences a rule's find;
7. an interrupt in a message that laughs (the locale's `jokes`: "jaja") is asked about
   instead;
8. a message of one or two words ("ya", "me voy") is too little for the model to read a
   crisis in: alone, it asks about one only from its `interrupt` threshold, and never
   interrupts it (the rules still do: "overdosing", "no respira").

Nothing is logged and nothing is kept but the word-matching caches (in memory).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

from state.curriculum.schema import Crisis, Kind
from state.engine.safety.model import CrisisModel, Score, model_for
from state.engine.safety.words import Parts, Phrasebook, Words, word_is, word_matches

Level = Literal["interrupt", "ask"]
INTERRUPT, ASK, CANCELLED = 2, 1, 0  # a find's strength
LEVELS: dict[int, Level] = {INTERRUPT: "interrupt", ASK: "ask"}
NEGATION_REACH = 4  # words between a negation and the phrase it cancels
LEGACY_PATHWAY = "crisis"  # the one pathway of a locale that still has a flat `phrases` list
FRAME = " + "  # joins the word lists of a frame: "{breath} + {faint}"
SCOPES = ("past", "hypothetical", "topic")
TIMES = SCOPES[:2]  # the scopes that reach over sentences (see `vetoed`)
TOPIC_AFTER = 2  # a lesson topic names its subject before it ("the module on overdose") or just
# after ("overdose awareness", "the suicide video"); further after, it is part of what happened
# ("he's not breathing, i have the naloxone from the course")
LONG_WORDS = 16  # from this many words the model may calm a rule's interrupt up to `calm_long`
SHORT_WORDS = 2  # a message this short the model alone asks about only when sure, never interrupts
CONTEXT = ("negation", "pseudo", "current", "breaks", *SCOPES)


@dataclass(frozen=True)
class Detection:
    """What a message showed: interrupt or ask, the kind and pathway, and why."""

    level: Level
    kind: str
    pathway: str
    pathways: tuple[str, ...]  # every pathway found at this level, the chosen one first
    cue: str  # the phrase that decided, with what its context did ("hit* me (asked: now)")
    score: float | None = None  # the model's crisis score, when the model made the call
    words: tuple[str, ...] = ()  # the message's words the deciding phrase matched


@dataclass(frozen=True)
class _Phrase:
    kind: str
    strength: int
    text: str
    parts: Parts

    @cached_property
    def own(self) -> frozenset[str]:
        """The phrase's words and lists, to tell its words in a match from a gap's."""
        return frozenset(self.parts)


@dataclass(frozen=True)
class _Find:
    phrase: _Phrase
    kind: str
    strength: int
    start: int
    end: int
    note: str = ""
    words: tuple[str, ...] = ()  # the message's words the phrase matched


def legacy_kinds(crisis: Crisis) -> dict[str, Kind]:
    """Kinds for a locale that lists phrases per pathway (or in one flat list): all interrupt."""
    kinds = {name: Kind(pathway=name, interrupt=p.phrases)
             for name, p in crisis.pathways.items() if p.phrases}
    if crisis.phrases:
        kinds[LEGACY_PATHWAY] = Kind(pathway=LEGACY_PATHWAY, interrupt=crisis.phrases)
    return kinds


class _Scopes:
    """The locale's context words and exclusions, all found in one pass over a message."""

    def __init__(self, crisis: Crisis, words: Words, lists: Mapping[str, Sequence[str]]) -> None:
        context = crisis.context
        named = [("exclusions", crisis.exclusions),
                 *((name, getattr(context, name)) for name in CONTEXT)]
        phrases = [(name, parts) for name, texts in named for text in texts if (parts := words(text))]
        self.names = [name for name, _ in phrases]
        self.book = Phrasebook([parts for _, parts in phrases], word_is, lists)
        self.first = frozenset(context.first_person)
        self.third = frozenset(context.third_person)

    def spans(self, tokens: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
        """Where each kind of context word (and each exclusion) is in the tokens."""
        found: dict[str, list[tuple[int, int]]] = {name: [] for name in ("exclusions", *CONTEXT)}
        for k, start, end in self.book.find(tokens):
            found[self.names[k]].append((start, end))
        pseudo = found["pseudo"]
        for name in ("negation", *SCOPES):  # "won't stop hitting": no negation; "at once": not past
            found[name] = [(s, e) for s, e in found[name] if not any(ps <= s < pe for ps, pe in pseudo)]
        return found

    @staticmethod
    def clauses(size: int, firsts: Iterable[int], breaks: Iterable[tuple[int, int]]) -> list[int]:
        """The clause number of each token: a new one at each sentence start and break word."""
        starts = set(firsts) | {start for start, _ in breaks}
        numbers, n = [], 0
        for i in range(size):
            n += i in starts
            numbers.append(n)
        return numbers


def _frame_spans(parts: Parts, marks: Sequence[frozenset[str]],
                 clause: Sequence[int]) -> Iterator[tuple[int, int]]:
    """(start, end) of each clause that holds a word of every list of a frame."""
    for number in sorted(set(clause)):
        at = [next((i for i, n in enumerate(clause) if n == number and part in marks[i]), -1)
              for part in parts]
        if min(at) >= 0:
            yield min(at), max(at) + 1


class CrisisDetector:
    """Reads a message with a locale's crisis words and says which crisis it shows, if any."""

    def __init__(self, crisis: Crisis, model: CrisisModel | None = None) -> None:
        self.model = model
        self.words = Words(crisis.rewrites)
        self.kinds = dict(crisis.kinds) or legacy_kinds(crisis)
        every = [_Phrase(name, strength, text, parts)
                 for name, kind in self.kinds.items()
                 for strength, texts in ((INTERRUPT, kind.interrupt), (ASK, kind.ask))
                 for text in texts if (parts := self.words(text))]
        # "{a} + {b}": a frame, its word lists anywhere in one clause; else words in order.
        self.phrases = tuple(p for p in every if FRAME not in p.text)
        self.frames = tuple(p for p in every if FRAME in p.text)
        lists = {name: [w for word in words for w in self.words(word)]
                 for name, words in crisis.words.items()}
        self.book = Phrasebook([p.parts for p in self.phrases], word_matches, lists)
        self.scopes = _Scopes(crisis, self.words, lists)
        self.rank = {name: i for i, name in enumerate(self.kinds)}
        self.hedges = frozenset(w for hedge in crisis.context.hedges for w in self.words(hedge))
        self.jokes = [w for joke in crisis.context.jokes for w in self.words(joke)]

    @classmethod
    def from_locale(cls, crisis: Crisis, locale: str | None = None) -> CrisisDetector:
        """The detector for one locale's `crisis:` section, with the locale's model if it has one."""
        return cls(crisis, model_for(locale) if locale else None)

    def detect(self, text: str) -> Detection | None:
        """What `text` shows: interrupt or ask with a pathway, or None. An interrupt in a
        message that laughs (the locale's `jokes`: "me va a matar si me como el alfajor
        jaja") becomes the one-tap question: "Yes" still opens the pathway."""
        found = self._detect(text)
        if found is None or found.level != "interrupt" or not self.jokes:
            return found
        if not any(word_is(word, joke) for word in self.words(text) for joke in self.jokes):
            return found
        return replace(found, level="ask", cue=f"{found.cue}; laughter")

    def _detect(self, text: str) -> Detection | None:
        every = self.finds(text)
        rules = self._decide(every)
        if self.model is None:
            return rules
        model = self.model
        interrupting = rules is not None and rules.level == "interrupt"
        known = rules is not None and model.knows(rules.words)
        calm, calm_long = (model.calm, model.calm_long) if known else (0.0, 0.0)
        if interrupting and max(calm, calm_long) <= 0.0:
            return rules  # the model cannot judge words it never saw: the rules' call stands
        score = model.score(text)
        if not interrupting and (score.crisis < model.ask or score.kind not in self.kinds):
            return rules
        vetoed = not interrupting and self.vetoed(text, score, every)
        return self.blend(rules, score, vetoed, model.ask, model.interrupt, calm, calm_long)

    def blend(self, rules: Detection | None, score: Score, vetoed: bool, ask: float, interrupt: float,
              calm: float = 0.0, calm_long: float = 0.0) -> Detection | None:
        """The rules' call joined with the model's: it may ask, or interrupt above `interrupt`;
        a rule's interrupt it scores under `calm` (`calm_long` in a message of LONG_WORDS or
        more) becomes a question."""
        if rules is not None and rules.level == "interrupt":
            if score.crisis >= (max(calm, calm_long) if score.words >= LONG_WORDS else calm):
                return rules
            return Detection("ask", rules.kind, rules.pathway, rules.pathways,
                             f"{rules.cue}; model calm {score.crisis:.2f}", score.crisis)
        if 0 < score.words <= SHORT_WORDS:  # "ya", "ya no": too little to read a crisis in
            ask, interrupt = interrupt, 2.0
        if vetoed or score.crisis < ask or score.kind not in self.kinds:
            return rules
        level: Level = "interrupt" if score.crisis >= interrupt else "ask"
        if rules is not None and level == "ask":
            return rules  # the rules asked already, with their own pathway
        pathway = self.kinds[score.kind].pathway
        if rules is not None:  # the rules asked; the model is sure enough to interrupt
            return Detection(level, rules.kind, rules.pathway, rules.pathways,
                             f"{rules.cue}; model {score.kind} {score.crisis:.2f}", score.crisis)
        return Detection(level, score.kind, pathway, (pathway,),
                         f"model {score.kind} {score.crisis:.2f}", score.crisis)

    def vetoed(self, text: str, score: Score, every: Sequence[_Find] = ()) -> bool:
        """Whether context forbids the model to call on `text`: a past or hypothetical word or
        a guess anywhere in it, or, in the part the model read as most crisis-like
        (`score.part`: the whole text or one sentence), a find the rules cancelled ("he never
        hit me") or a lesson-topic word; each with no word of now beside it. A topic only
        counts in that part, because exercise answers open with one ("For lesson 3: ...")
        and then tell what happened; a past or a what-if reaches over the next sentences
        ("What if he stops breathing? I want to be ready"). `every`: the text's finds."""
        part = score.part or text
        finds = every if part == text else self.finds(part)
        return (any(f.strength == CANCELLED for f in finds) or self._out_of_now(text, TIMES)
                or self._out_of_now(part, ("topic",), hedges=False))

    def _out_of_now(self, text: str, scopes: Sequence[str] = SCOPES, *, hedges: bool = True) -> bool:
        """Whether a word of these scopes (or a guess) is there with no word of now."""
        tokens = self.words.sentences(text)[0]
        context = self.scopes.spans(tokens)
        guess = hedges and not self.hedges.isdisjoint(tokens)  # a guess, not an event
        return (guess or any(context[name] for name in scopes)) and not context["current"]

    def _decide(self, every: Sequence[_Find]) -> Detection | None:
        """The rules' call: the strongest find that context did not cancel."""
        finds = [f for f in every if f.strength > CANCELLED]
        if not finds:
            return None
        best = max(finds, key=lambda f: (f.strength, f.end - f.start, -self.rank[f.kind]))
        level = LEVELS[best.strength]
        pathway = self.kinds[best.kind].pathway
        others = [self.kinds[f.kind].pathway for f in sorted(finds, key=lambda f: self.rank[f.kind])
                  if f.strength == best.strength]
        cue = best.phrase.text + (f" ({best.note})" if best.note else "")
        return Detection(level, best.kind, pathway, tuple(dict.fromkeys((pathway, *others))), cue,
                         words=best.words)

    def heard(self, text: str) -> bool:
        """Whether any crisis phrase or frame is in `text`, even one that its context or an
        exclusion cancelled: then this detector has read the message, and another locale's
        words, which do not know its context, should not read it again."""
        tokens, _ = self.words.sentences(text)
        if next(self.book.find(tokens), None) is not None:
            return True
        present = frozenset().union(*self.book.marks(tokens))
        return any(present.issuperset(f.parts) for f in self.frames)

    def finds(self, text: str) -> list[_Find]:
        """Every phrase found in `text`, each read in its clause (cancelled ones included)."""
        tokens, firsts = self.words.sentences(text)
        found = [(self.phrases[k], start, end) for k, start, end in self.book.find(tokens)]
        marks = self.book.marks(tokens)
        present = frozenset().union(*marks)
        frames = [f for f in self.frames if present.issuperset(f.parts)]
        if not found and not frames:  # most messages: nothing to read in context
            return []
        context = self.scopes.spans(tokens)
        clause = self.scopes.clauses(len(tokens), firsts, context["breaks"])
        found += [(f, start, end) for f in frames for start, end in _frame_spans(f.parts, marks, clause)]
        excluded = context["exclusions"]
        finds = []
        for phrase, start, end in found:
            if any(start < x_end and x_start < end for x_start, x_end in excluded):
                continue
            kind = self._speaker(phrase.kind, tokens, clause, start)
            strength, note = self._read(phrase, start, end, tokens, clause, context)
            # The words the phrase's own words matched: not a gap's or a frame's clause filler
            # (the model may calm a find only when it knows these, see `_detect`).
            words = tuple(tokens[i] for i in range(start, end) if marks[i] & phrase.own)
            finds.append(_Find(phrase, kind, strength, start, end, note, words))
        return finds

    def _speaker(self, kind: str, tokens: Sequence[str], clause: Sequence[int], start: int) -> str:
        """The kind, or its `others` kind when the nearest subject before it is someone else."""
        others = self.kinds[kind].others
        if not others:
            return kind
        for i in range(start - 1, -1, -1):
            if clause[i] != clause[start] or tokens[i] in self.scopes.first:
                return kind
            if tokens[i] in self.scopes.third:
                return others
        return kind

    @staticmethod
    def _read(phrase: _Phrase, start: int, end: int, tokens: Sequence[str], clause: Sequence[int],
              context: Mapping[str, list[tuple[int, int]]]) -> tuple[int, str]:
        """A find's strength once the words around it are read, and what changed it."""
        strength = phrase.strength
        for n_start, _ in context["negation"]:
            # Just before the phrase, or inside it where a gap let it in ("he is not suicidal"
            # in "{person} * suicid*"), but not a word of the phrase ("not breathing").
            near = start - NEGATION_REACH <= n_start < end and tokens[n_start] not in phrase.parts
            if near and clause[n_start] == clause[start]:
                return CANCELLED, "negated"
        same = [name for name in SCOPES if any(clause[s] == clause[start] and tokens[s] not in phrase.parts
                                               and (name != "topic" or s < end + TOPIC_AFTER)
                                               for s, _ in context[name])]
        if not same:
            return strength, ""
        if any(clause[s] == clause[start] for s, _ in context["current"]):
            return min(strength, ASK), f"{same[0]}, but now"
        return CANCELLED, same[0]
