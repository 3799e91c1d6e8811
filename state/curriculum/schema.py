"""The curriculum format: what a counselor may write in a module or locale YAML file.

This module is the single source of truth for the shape of curriculum files. It is checked
in two passes (the Rasa way): pydantic checks each file's shape here; `state.curriculum.crossref` then
checks what one part says about another (every `next` exists, every step is reachable ...).

A module file holds metadata and a list of steps. Every step has a stable `id` and a `kind`:

    message    one or more short messages; goes on to `next` by itself, or after a tap on
               `button` when that label is given
    choice     buttons; each option has its own `next` (or the step's), optional `feedback`,
               and a `value` saved under the step's `save` key; `set` saves more keys
    text       a free-text prompt saved under `save`; answers too short to mean anything
               are asked again, and `coach:` looks at what was written (see `TextStep`)
    scale      a number from `min` to `max` with end labels, saved under `save`
    quiz       a question with one correct option, an explanation per option, and a retry
    checklist  a multi-select list; the picked values are saved under `save` as a list
    homework   a practice task for the days ahead; remembered as the current homework
    branch     no message: goes to the first case whose `when` holds, else `otherwise`
    end        the end of the module

Branch conditions (`when:`, `open_when:`) and the risk vocabulary are in
`state.curriculum.conditions`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from state.curriculum.conditions import RISK_FLAGS as RISK_FLAGS
from state.curriculum.conditions import RISK_FLAGS_KEY as RISK_FLAGS_KEY
from state.curriculum.conditions import RISK_LEVEL_KEY as RISK_LEVEL_KEY
from state.curriculum.conditions import RISK_LEVELS as RISK_LEVELS
from state.curriculum.conditions import Condition as Condition
from state.curriculum.conditions import Strict as Strict

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
MAX_STEP_ID = 40
MAX_MODULE_ID = 24

Text = str | list[str]


class StepBase(Strict):
    """Fields every step kind has."""

    id: str = Field(pattern=ID_PATTERN, max_length=MAX_STEP_ID)
    text: Text = ""

    @property
    def texts(self) -> tuple[str, ...]:
        """The step's messages, one idea each, in order."""
        if isinstance(self.text, str):
            return (self.text,) if self.text.strip() else ()
        return tuple(t for t in self.text if t.strip())


class MessageStep(StepBase):
    """One or more messages, then on to `next` (after a tap on `button` if given)."""

    kind: Literal["message"]
    next: str
    button: str | None = None


class ChoiceOption(Strict):
    """One button of a choice step."""

    label: str = Field(min_length=1)
    next: str | None = None
    value: str | int | bool | None = None
    feedback: Text | None = None
    set: dict[str, str | int | bool] = Field(default_factory=dict)


class ChoiceStep(StepBase):
    """Buttons; each option leads on and may save a value."""

    kind: Literal["choice"]
    options: list[ChoiceOption] = Field(min_length=1)
    save: str | None = None
    next: str | None = None
    columns: int = Field(default=1, ge=1, le=4)

    def target(self, option: ChoiceOption) -> str | None:
        """Where the given option leads."""
        return option.next or self.next


DEFAULT_MIN_WORDS = 1  # a text step's answer needs this many words unless `min_words` says


class TextStep(StepBase):
    """A free-text prompt; the answer is saved under `save`.

    Answers under `min_words` words (or one letter, a bare number) are asked again; `coach`
    names the coaching.yaml patterns to look for, `if_clean` where to go when none is found,
    `coach_pieces` this step's stand-ins for a model's pieces (`state.curriculum.coaching`).
    """

    kind: Literal["text"]
    save: str
    next: str
    sensitive: bool = False
    # Left out of a step's fingerprint while unset, so adding these fields changed no step.
    min_words: int | None = Field(default=None, ge=0, le=20, exclude_if=lambda v: v is None)
    coach: list[str] = Field(default_factory=list, exclude_if=lambda v: not v)
    if_clean: str | None = Field(default=None, exclude_if=lambda v: v is None)
    coach_pieces: dict[str, str] = Field(default_factory=dict, exclude_if=lambda v: not v)

    @property
    def least_words(self) -> int:
        """How many words an answer needs."""
        return DEFAULT_MIN_WORDS if self.min_words is None else self.min_words


class ScaleStep(StepBase):
    """A number from `min` to `max`, shown as buttons with end labels."""

    kind: Literal["scale"]
    save: str
    next: str
    min: int = 1
    max: int = 10
    min_label: str | None = None
    max_label: str | None = None

    @model_validator(mode="after")
    def _range(self) -> ScaleStep:
        if not self.min < self.max or self.max - self.min > 10:
            raise ValueError("a scale needs min below max and at most 11 points (for example 1 to 10)")
        return self


class QuizOption(Strict):
    """One answer of a quiz question, with why it is right or not."""

    label: str = Field(min_length=1)
    correct: bool = False
    explain: Text


class QuizStep(StepBase):
    """A question with one correct option; a wrong answer explains and, with retry, asks again."""

    kind: Literal["quiz"]
    options: list[QuizOption] = Field(min_length=2)
    next: str
    retry: bool = True
    save: str | None = None

    @model_validator(mode="after")
    def _one_correct(self) -> QuizStep:
        correct = sum(1 for o in self.options if o.correct)
        if correct != 1:
            raise ValueError(f"a quiz needs exactly one option with `correct: true` (found {correct})")
        return self


class ChecklistOption(Strict):
    """One item of a checklist."""

    label: str = Field(min_length=1)
    value: str | None = None


class ChecklistStep(StepBase):
    """A multi-select list; the chosen values are saved as a list."""

    kind: Literal["checklist"]
    options: list[ChecklistOption] = Field(min_length=1)
    save: str
    next: str
    min_selected: int = Field(default=0, ge=0)
    done_label: str | None = None


class HomeworkStep(StepBase):
    """A practice task for the days ahead, remembered as the user's current homework."""

    kind: Literal["homework"]
    next: str
    check_in_days: int | None = Field(default=None, ge=1, le=30)


class Case(Strict):
    """One case of a branch: all conditions in `when` must hold."""

    when: Condition | list[Condition]
    next: str

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The case's conditions as a tuple."""
        return tuple(self.when) if isinstance(self.when, list) else (self.when,)


class BranchStep(StepBase):
    """No message of its own: goes to the first case that holds, else `otherwise`."""

    kind: Literal["branch"]
    cases: list[Case] = Field(min_length=1)
    otherwise: str


class EndStep(StepBase):
    """The end of the module; `suggest` names the module to offer next instead of the usual.

    `complete: false` makes an early exit (for example a safety exit) that does not count
    the module as done or open the modules after it; the module starts afresh next time.
    """

    kind: Literal["end"]
    suggest: str | None = None
    complete: bool = True


Step = Annotated[
    MessageStep
    | ChoiceStep
    | TextStep
    | ScaleStep
    | QuizStep
    | ChecklistStep
    | HomeworkStep
    | BranchStep
    | EndStep,
    Field(discriminator="kind"),
]

STEP_KINDS = (
    "message", "choice", "text", "scale", "quiz", "checklist", "homework", "branch", "end",
)


class Module(Strict):
    """One CRAFT module: metadata and its steps."""

    id: str = Field(pattern=ID_PATTERN, max_length=MAX_MODULE_ID)
    title: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=200)
    order: int
    requires: list[str] = Field(default_factory=list)
    minutes: int = Field(ge=1, le=120)
    onboarding: bool = False
    start: str | None = None
    open_when: Condition | list[Condition] | None = None
    steps: list[Step] = Field(min_length=1)

    @property
    def open_conditions(self) -> tuple[Condition, ...]:
        """Conditions that, all holding, open the module before its `requires` are done."""
        if self.open_when is None:
            return ()
        return tuple(self.open_when) if isinstance(self.open_when, list) else (self.open_when,)

    @property
    def first_step(self) -> str:
        """The id of the step the module begins at."""
        return self.start or self.steps[0].id


NextStep = Literal["safety_plan", "overdose", "grounding"]
DEFAULT_NEXT_STEPS: tuple[NextStep, ...] = ("safety_plan", "grounding")
PATHWAY_PATTERN = r"^[a-z][a-z0-9_]{0,23}$"  # short: it travels in callback data


def _check_phrases(phrases: list[str]) -> list[str]:
    """Crisis phrases and exclusions: not blank, `*` never first or last, no `**`."""
    for phrase in phrases:
        words = phrase.split()
        if not words:
            raise ValueError("crisis phrases must not be empty")
        if words[0] == "*" or words[-1] == "*" or "**" in phrase:
            raise ValueError(f"'{phrase}': a lone `*` stands between two words (\"he * kill me\");"
                             " it cannot start or end a phrase")
    return phrases


Phrases = Annotated[list[str], AfterValidator(_check_phrases)]


class Question(Strict):
    """A crisis question answered with a button: its text, Yes and No labels, what No brings."""

    text: str
    yes: str
    no: str
    after_no: str


class Pathway(Strict):
    """One crisis pathway: what the bot says and offers, and (older form) the words that reveal it.

    `message` may use `{resources}` (the configured crisis resources for this pathway),
    `{emergency}` (the emergency number) and the locale's `defaults` keys; `question` is
    asked first (when absent: "Are you safe right now?"); `next_steps` are offered after it.
    """

    phrases: Phrases = Field(default_factory=list)
    message: Text
    question: Question | None = None
    next_steps: list[NextStep] = Field(default_factory=lambda: list(DEFAULT_NEXT_STEPS))


class Kind(Strict):
    """One kind of crisis: the pathway it opens and the phrases that show it.

    `interrupt` phrases open the pathway at once, `ask` phrases first ask whether someone is
    in danger; a phrase "{a} + {b}" is a frame: a word of each list anywhere in one clause.
    `others` is the kind it becomes when someone else is the one speaking of it ("he says
    he wants to die").
    """

    pathway: str
    interrupt: Phrases = Field(default_factory=list)
    ask: Phrases = Field(default_factory=list)
    others: str = ""


class Context(Strict):
    """Words around a crisis phrase that change what it says, as NegEx/ConText do.

    `negation` just before a phrase cancels it; `past` (over), `hypothetical` and `topic` (a
    lesson) in its clause cancel it (none of them inside a `pseudo` phrase: "won't stop"),
    unless a `current` word ("right now") makes it ask;
    `breaks` end a clause; `first_person`/`third_person` tell who is speaking of themselves;
    `hedges` ("might", "podría") make a message a guess about what someone may do, which the
    trained model alone does not call a crisis; `jokes` (laughter: "jaja") turn an interrupt
    into the one-tap question.
    """

    negation: Phrases = Field(default_factory=list)
    pseudo: Phrases = Field(default_factory=list)
    past: Phrases = Field(default_factory=list)
    hypothetical: Phrases = Field(default_factory=list)
    topic: Phrases = Field(default_factory=list)
    current: Phrases = Field(default_factory=list)
    breaks: Phrases = Field(default_factory=list)
    first_person: list[str] = Field(default_factory=list)
    third_person: list[str] = Field(default_factory=list)
    hedges: list[str] = Field(default_factory=list)
    jokes: list[str] = Field(default_factory=list)


class Crisis(Strict):
    """The locale's crisis words, pathways and messages; they interrupt any step.

    `kinds` name the kinds of crisis, their phrases and pathway; `words` are the word lists
    phrases use as `{name}`; `context` the words that change a phrase's meaning; `check` the
    question asked when a message may be a crisis. The older form, phrases per pathway (or a
    flat `phrases` list, one pathway named `crisis`), still works. `message` is what /safety
    shows; `exclusions` cancel a match they overlap ("this homework is killing me");
    `rewrites` turn a word into others before matching ("gonna" -> "going to").
    """

    phrases: Phrases = Field(default_factory=list)
    message: Text
    pathways: dict[str, Pathway] = Field(default_factory=dict)
    kinds: dict[str, Kind] = Field(default_factory=dict)
    words: dict[str, list[str]] = Field(default_factory=dict)
    context: Context = Field(default_factory=Context)
    check: Question | None = None
    exclusions: Phrases = Field(default_factory=list)
    rewrites: dict[str, str] = Field(default_factory=dict)
    overdose_steps: Text = ""
    grounding: Text = ""
    safety_plan: dict[str, str] = Field(default_factory=dict)
    skip_words: list[str] = Field(default_factory=lambda: ["skip"])

    @model_validator(mode="after")
    def _some_phrases(self) -> Crisis:
        if not self.phrases and not self.pathways:
            raise ValueError("crisis needs `pathways:` (or at least a `phrases:` list)")
        for name in self.pathways:
            if not re.match(PATHWAY_PATTERN, name):
                raise ValueError(f"pathway name '{name}': use lowercase letters, digits and _,"
                                 " starting with a letter, at most 24 characters")
        for name, kind in self.kinds.items():
            if kind.pathway not in self.pathways:
                raise ValueError(f"kind '{name}': no pathway '{kind.pathway}' under `pathways:`")
            if kind.others and kind.others not in self.kinds:
                raise ValueError(f"kind '{name}': `others: {kind.others}` is not a kind")
            for phrase in (*kind.interrupt, *kind.ask):
                for word in re.findall(r"\{(\w+)\}", phrase):
                    if word not in self.words:
                        raise ValueError(f"'{phrase}': no word list `{word}` under `words:`")
        return self


class Discreet(Strict):
    """Neutral words for whatever can show outside the open chat, for discreet mode.

    `neutral` maps a kind of notification (`reminder`, `check_in` ...) to its neutral text;
    `default` is used for any other kind. `hidden` stands in for a private answer.
    """

    neutral: dict[str, str] = Field(default_factory=lambda: {"default": "You have a new message."})
    hidden: str = "(private)"

    @field_validator("neutral")
    @classmethod
    def _has_default(cls, neutral: dict[str, str]) -> dict[str, str]:
        if "default" not in neutral:
            raise ValueError("discreet.neutral needs a `default:` text, used for any other kind")
        return neutral


class Locale(Strict):
    """Per-locale data: the language name, crisis words and message, and the bot's own words."""

    locale: str = Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    name: str
    crisis: Crisis
    ui: dict[str, str]
    defaults: dict[str, str] = Field(default_factory=dict)
    commands: dict[str, str] = Field(default_factory=dict)
    discreet: Discreet = Field(default_factory=Discreet)


PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def placeholders(text: str) -> list[str]:
    """The placeholder names used in a text, such as `loved_one` in `{loved_one}`."""
    return PLACEHOLDER.findall(text)
