"""The rehearsal coach's patterns: `curriculum/<locale>/coaching.yaml`, read, checked, compiled.

A CRAFT trainer listens to a rehearsed line and corrects what gets in its way first: a
threat, a label, blame, "always" and "never", a lecture, sarcasm, no feeling named, no
clear request, no offer to help, too many words. Each such *pattern* is language data,
written by counselors in the locale's coaching.yaml, never in code:

    patterns:
      always_never:
        words: [always, never, "every time"]   # whole words or phrases; `word*` = any ending
        regex: ["\\\\bnothing ever\\\\b"]          # Python regular expressions
        unless: ["\\\\bI('ll| will) always\\\\b"]   # a near miss: cancels a find it overlaps
        explain: "..."        # why it matters, kindly ({found}: the words that matched)
        model: "..."          # a better line, from the person's own words where possible
        improved: "..."       # said after the second try when the pattern is gone
        still: "..."          # said when it is still there (and the step goes on anyway)
      no_feeling:
        missing: true         # found when none of the words is there
        words: [worried, scared, ...]
      too_long:
        over_words: 50        # found when the answer has more words than this
    pieces:                   # parts of the person's words a model may quote
      feeling: {words: [worried, scared], default: worried}     # {feeling}
      request: {regex: ["would you (?P<x>[^.?!]+)"], default: "..."}   # group `x` is the piece

All matching ignores case and accents (the patterns are written without them: "nino",
"mama", "despues"), and {found} quotes the words as the person typed them. A text step
names the patterns it looks for (`coach:` in `state.curriculum.schema.TextStep`); the
engine's `state.engine.coaching` runs the talk.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pydantic import Field, model_validator

from state.curriculum.conditions import Strict
from state.curriculum.diagnostics import Diagnostic
from state.curriculum.schema import Text, TextStep, placeholders
from state.curriculum.yamlsource import Located, PathKey

COACHING_FILE = "coaching.yaml"
PATTERN_ID = r"^[a-z][a-z0-9_]{0,31}$"
PIECE_GROUP = "x"  # the named group of a piece's regex that holds the piece
TEXTS = ("explain", "model", "improved", "still")
# Besides the pieces, what coaching texts may quote: the words that showed the pattern,
# the whole answer as a sentence, and the loved one's name.
QUOTED = ("found", "wrote", "loved_one")


class Pattern(Strict):
    """One thing a trainer would point out, how to find it, and what to say about it."""

    words: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)
    missing: bool = False
    over_words: int | None = Field(default=None, ge=1)
    explain: Text
    model: Text = ""
    improved: Text
    still: Text

    @model_validator(mode="after")
    def _finds_something(self) -> Pattern:
        if self.over_words is None and not self.words and not self.regex:
            raise ValueError("a pattern needs `words:`, `regex:` or `over_words:` to be found by")
        if self.over_words is not None and (self.words or self.regex or self.missing):
            raise ValueError("`over_words:` counts words; leave out `words:`, `regex:` and `missing:`")
        return self


class Piece(Strict):
    """A part of the person's words that a model quotes, with a stand-in when it is not there."""

    words: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)
    default: str = Field(min_length=1)


class Coaching(Strict):
    """A locale's coaching.yaml: its patterns, the pieces their models quote, and `rewrites`
    (texting words read as their full form before matching: `u: you`, `im: "i'm"`)."""

    patterns: dict[str, Pattern] = Field(min_length=1)
    pieces: dict[str, Piece] = Field(default_factory=dict)
    rewrites: dict[str, str] = Field(default_factory=dict)


# -- compiled, for finding -----------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A pattern found in a text, with the words that showed it ("" for a missing thing)."""

    pattern: str
    words: str


@dataclass(frozen=True)
class CompiledPattern:
    """A pattern's words and regexes, compiled: its words as one expression, then each regex."""

    id: str
    find: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    missing: bool
    over_words: int | None

    def search(self, text: str) -> Found | None:
        """The pattern in `text`, if it is there."""
        if self.over_words is not None:
            return Found(self.id, "") if count_words(text) > self.over_words else None
        match = next((m for r in self.find for m in r.finditer(text) if not self._cancelled(m, text)),
                     None)
        if self.missing:
            return None if match else Found(self.id, "")
        return Found(self.id, match.group(0)) if match else None


    def _cancelled(self, match: re.Match[str], text: str) -> bool:
        """Whether a near miss of `unless` overlaps the match ("I'll always love you")."""
        return any(u.start() < match.end() and match.start() < u.end()
                   for r in self.unless for u in r.finditer(text))


@dataclass(frozen=True)
class CompiledPiece:
    """A piece's words and regexes, compiled."""

    find: tuple[re.Pattern[str], ...]
    default: str

    def take(self, text: str) -> str:
        """The piece as the person wrote it (the first way that finds it), or the stand-in."""
        match = next((m for r in self.find if (m := r.search(text))), None)
        if match is None:
            return self.default
        piece = match.group(PIECE_GROUP) if PIECE_GROUP in match.groupdict() else match.group(0)
        return (piece or self.default).strip(" ,;:")


@dataclass(frozen=True)
class Coach:
    """A locale's compiled patterns and pieces: what the engine looks for in a rehearsal."""

    source: Coaching
    patterns: dict[str, CompiledPattern]
    pieces: dict[str, CompiledPiece]
    rewrites: re.Pattern[str] | None = None

    def find(self, text: str, wanted: list[str]) -> list[Found]:
        """The patterns of `wanted` found in `text`, in the order of `wanted`."""
        plain = self.read(text)
        found = (self.patterns[p].search(plain) for p in wanted if p in self.patterns)
        typed = normalise(text)
        return [Found(f.pattern, as_typed(f.words, typed)) for f in found if f is not None]

    def take(self, text: str) -> dict[str, str]:
        """Every piece of `text` a model may quote, by name (as the person wrote it)."""
        plain = normalise(text)
        return {name: piece.take(plain) for name, piece in self.pieces.items()}

    def read(self, text: str) -> str:
        """The text as the patterns read it: normalised, texting words written out."""
        plain = fold(normalise(text))
        if self.rewrites is None:
            return plain
        table = {k.casefold(): v for k, v in self.source.rewrites.items()}
        return self.rewrites.sub(lambda m: table[m.group(0).casefold()], plain)


WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def count_words(text: str) -> int:
    """How many words (runs of letters; a bare number is none) a text has."""
    return len(WORD.findall(text))


def normalise(text: str) -> str:
    """Curly quotes straight, runs of space single, accents composed, so patterns need one
    spelling."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", text).strip())


def fold(text: str) -> str:
    """A normalised text without its accents, letter for letter ("niño" -> "nino"), so a
    pattern finds words typed with or without them."""
    return "".join(unicodedata.normalize("NFD", c)[0] for c in text)


def as_typed(words: str, typed: str) -> str:
    """The words a pattern found, as they stand in the typed (normalised) text: with their
    accents back. Words changed by `rewrites` are quoted as read."""
    at = re.search(re.escape(words), fold(typed), re.IGNORECASE) if words else None
    return typed[at.start():at.end()] if at else words


def word_regex(word: str) -> str:
    """A word or phrase as a regex: whole words, any space between them, `*` any ending."""
    parts = [re.escape(w.rstrip("*")) + (r"\w*" if w.endswith("*") else "") for w in word.split()]
    return r"(?<![\w'])" + r"\s+".join(parts) + r"(?![\w'])"


def _compiled(words: list[str], regexes: list[str]) -> tuple[re.Pattern[str], ...]:
    joined = [re.compile("|".join(word_regex(w) for w in words), re.IGNORECASE)] if words else []
    return (*joined, *(re.compile(r, re.IGNORECASE) for r in regexes))


def compile_coaching(coaching: Coaching) -> Coach:
    """A checked coaching file, compiled (`check_regexes` has ruled out bad expressions)."""
    patterns = {pid: CompiledPattern(pid, _compiled(p.words, p.regex), _compiled([], p.unless),
                                     p.missing, p.over_words)
                for pid, p in coaching.patterns.items()}
    pieces = {name: CompiledPiece(_compiled(p.words, p.regex), p.default)
              for name, p in coaching.pieces.items()}
    rewrites = re.compile("|".join(word_regex(w) for w in coaching.rewrites), re.IGNORECASE) \
        if coaching.rewrites else None
    return Coach(coaching, patterns, pieces, rewrites)


# -- reading and checking ------------------------------------------------------------------------


def check_file(coaching: Coaching, located: Located) -> Iterator[Diagnostic]:
    """What the shape cannot say: ids, regular expressions, placeholders of the texts."""
    for pid, pattern in coaching.patterns.items():
        if not re.match(PATTERN_ID, pid):
            yield located.diagnostic(("patterns", pid), f"pattern id '{pid}': use lowercase letters,"
                                     " digits and _, starting with a letter", key=True)
        for field in ("regex", "unless"):
            yield from check_regexes(getattr(pattern, field), ("patterns", pid, field), located)
        for field in TEXTS:
            for name in _text_placeholders(getattr(pattern, field)):
                if name not in coaching.pieces and name not in QUOTED:
                    yield located.diagnostic(("patterns", pid, field), f"{{{name}}} is not one of"
                                             f" {', '.join('{' + q + '}' for q in QUOTED)} nor a"
                                             f" piece; add `{name}:` under `pieces:`")
    for name, piece in coaching.pieces.items():
        yield from check_regexes(piece.regex, ("pieces", name, "regex"), located)


def _text_placeholders(text: Text) -> list[str]:
    return [n for t in ([text] if isinstance(text, str) else text) for n in placeholders(t)]


def check_regexes(regexes: list[str], path: PathKey, located: Located) -> Iterator[Diagnostic]:
    """A diagnostic for every regular expression that does not compile."""
    for i, regex in enumerate(regexes):
        try:
            re.compile(regex)
        except re.error as exc:
            yield located.diagnostic((*path, i), f"this regular expression does not work: {exc}"
                                                 " (in YAML, write a backslash as \\\\ inside"
                                                 " double quotes, or use single quotes)")


def check_steps(coaching: Coaching | None, steps: Sequence[tuple[TextStep, PathKey]], located: Located,
                code: str) -> Iterator[Diagnostic]:
    """Every `coach:` of a module's text steps names a pattern of its locale's coaching.yaml."""
    for step, base in steps:
        if not step.coach:
            continue
        if coaching is None:
            yield located.diagnostic((*base, "coach"), f"locale '{code}' has no {COACHING_FILE};"
                                     " add one (see docs/authoring.md) or remove `coach:`")
            continue
        for j, pid in enumerate(step.coach):
            if pid not in coaching.patterns:
                guess = difflib.get_close_matches(pid, sorted(coaching.patterns), n=1)
                hint = f"did you mean '{guess[0]}'?" if guess else \
                    "the patterns are: " + ", ".join(sorted(coaching.patterns))
                yield located.diagnostic((*base, "coach", j), f"unknown pattern '{pid}'; {hint}")
        if len(set(step.coach)) != len(step.coach):
            yield located.diagnostic((*base, "coach"), "a pattern is named twice; name each once")
        for name in step.coach_pieces:
            if name not in coaching.pieces:
                yield located.diagnostic((*base, "coach_pieces", name), f"'{name}' is not a piece"
                                         " of coaching.yaml; the pieces are: "
                                         + ", ".join(sorted(coaching.pieces)), key=True)
    for step, base in steps:
        if not step.coach and (step.if_clean or step.coach_pieces):
            field = "if_clean" if step.if_clean else "coach_pieces"
            yield located.diagnostic((*base, field), f"`{field}:` works with `coach:`; add"
                                     " `coach: [...]` (the patterns to look for) or remove it",
                                     key=True)
