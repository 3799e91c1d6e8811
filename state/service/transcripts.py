"""Transcript tests: conversations written next to the curriculum, replayed through the engine.

A file `curriculum/<locale>/tests/<name>.yaml` holds a list of conversations (the loader
skips these folders; `bot.cli.transcripts` reads them for `craftbot test-curriculum`). Each
conversation opens either as a brand-new user sending /start, or, with
`start: module[:step]`, as a family member described by `profile:` who has finished
onboarding and stands at that step (the same start `craftbot chat --start` previews).
Then each turn does one thing (`say:` types, `press:` taps the button with that label,
`command:` sends /command) and checks the bot's answer:

    - name: the quiz, answered wrong then right
      start: triggers:quiz_when
      profile: {relationship: partner, substance: opioids}
      turns:
        - expect: ["best time"]          # no action: checks the opening
        - press: "While they are high"
          expect: ["Not then"]
        - press: "When they are calm"
          saved: {quiz_first_try: false}
          at: triggers:homework

`expect:` lists texts the reply must contain, `expect_not:` texts it must not, `saved:`
answers that must be stored (`null`: not stored), `at:` where the user must stand
(`module:step`, or `menu`). Texts are compared with `**`/`__` markup, runs of spaces and
curly quotes made plain. Every failure names `file:line` of the turn and shows what the bot said.

This module knows nothing of Telegram or the database: it drives the engine directly, through
the shipped conversation driver (`state.service.driver.EngineDriver`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from state.contracts import Progress, Reply
from state.curriculum.model import LocaleContent
from state.curriculum.schema import ChoiceStep, ScaleStep, TextStep
from state.engine.engine import Engine
from state.service.driver import EngineDriver, NoSuchButton, plain, reply_text

CLOCK_START = 1_800_000_000.0  # transcript time: fixed, one minute per turn
PROFILE_DEFAULTS: Mapping[str, str] = {
    "consent": "yes",
    "loved_one": "Sam",
    "relationship": "parent",
    "substance": "alcohol",
    "safety_fear": "no",
    "safety_weapons": "no",
    "shared_phone": "no",
}
"""Onboarding answers a previewed family member has unless the profile says otherwise
(only the keys the locale's onboarding actually saves are used)."""


class StartError(ValueError):
    """A preview start or profile that does not fit the curriculum; the message says why."""


# -- profiles and starting points (shared with `craftbot chat --start`) ---------------------


def parse_profile(text: str) -> dict[str, str | int]:
    """`relationship=partner,substance=opioids` as answers (whole numbers become numbers)."""
    answers: dict[str, str | int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise StartError(f"'{part}' is not key=value; write it like relationship=partner")
        value = value.strip()
        answers[key.strip()] = int(value) if re.fullmatch(r"-?\d+", value) else value
    return answers


def onboarding_choices(content: LocaleContent) -> dict[str, list[str] | None]:
    """Each key onboarding saves, with its allowed values (None for typed answers)."""
    keys: dict[str, list[str] | None] = {}
    for step in content.onboarding.steps:
        if isinstance(step, ChoiceStep) and step.save:
            keys[step.save] = [str(o.value if o.value is not None else o.label) for o in step.options]
        elif isinstance(step, TextStep | ScaleStep):
            keys[step.save] = None
    return keys


def profile_answers(content: LocaleContent, given: Mapping[str, Any]) -> dict[str, Any]:
    """The saved answers of a family member who finished onboarding as `given` says."""
    choices = onboarding_choices(content)
    for key, value in given.items():
        allowed = choices.get(key)
        if allowed is not None and str(value) not in allowed:
            raise StartError(f"{key}={value} is not an answer onboarding saves; choose one of: "
                             + ", ".join(allowed))
    defaults = {k: v for k, v in PROFILE_DEFAULTS.items() if k in choices}
    return {**defaults, **given}


def parse_start(content: LocaleContent, where: str) -> tuple[str, str]:
    """`module` or `module:step` as (module id, step id); StartError names the closest ids."""
    module_id, _, step_id = where.strip().partition(":")
    module = content.modules.get(module_id)
    if module is None:
        raise StartError(f"no module '{module_id}'{_closest(module_id, list(content.modules))};"
                         " the modules are: " + ", ".join(sorted(content.modules)))
    if not step_id:
        return module.id, module.first_step
    if content.step(module.id, step_id) is None:
        raise StartError(f"module '{module.id}' has no step '{step_id}'"
                         f"{_closest(step_id, [s.id for s in module.steps])}")
    return module.id, step_id


def _closest(name: str, names: list[str]) -> str:
    guess = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean '{guess[0]}'?)" if guess else ""


def prerequisites(content: LocaleContent, module_id: str) -> list[str]:
    """Every module that must be done before `module_id` opens, transitively."""
    found: list[str] = []

    def visit(current: str) -> None:
        for required in content.modules[current].requires:
            if required not in found:
                visit(required)
                found.append(required)

    visit(module_id)
    return found


def start_at(engine: Engine, progress: Progress, module_id: str, step_id: str, now: float) -> Reply:
    """Put a family member at a step, as if they had just arrived there; the reply shows it.

    Onboarding (unless that is the module) and the module's prerequisites are marked done.
    No events are recorded, so a preview never counts in the statistics.
    """
    content = engine.content(progress)
    if module_id != content.onboarding.id:
        for done in [content.onboarding.id, *prerequisites(content, module_id)]:
            progress.started.setdefault(done, now)
            progress.completed.setdefault(done, now)
    progress.started[module_id] = now
    return engine.enter_at(progress, module_id, step_id, now)


def preview(engine: Engine, user_id: int, locale: str | None, where: str,
            profile: Mapping[str, Any], now: float) -> tuple[Progress, Reply]:
    """A fresh family member with `profile`'s answers, placed at `where` (`module[:step]`)."""
    known = engine.curriculum.locales
    if locale and locale not in known and locale.split("-")[0] not in known:
        raise StartError(f"no locale '{locale}'; the curriculum has: {', '.join(sorted(known))}")
    progress = engine.new_progress(user_id, locale, now)
    content = engine.content(progress)
    module_id, step_id = parse_start(content, where)
    progress.answers.update(profile_answers(content, profile))
    return progress, start_at(engine, progress, module_id, step_id, now)


# -- conversations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One turn of a transcript: at most one action, then the checks on the reply."""

    line: int
    action: str | None = None  # "say", "press" or "command"
    value: str = ""
    expect: tuple[str, ...] = ()
    expect_not: tuple[str, ...] = ()
    saved: Mapping[str, Any] = field(default_factory=dict)
    at: str | None = None
    lines: Mapping[str, int] = field(default_factory=dict)  # "expect.0", "saved.tone", "at" ...

    def line_of(self, part: str) -> int:
        """The line a part of this turn is written on (the turn's own line if unknown)."""
        return self.lines.get(part, self.line)


@dataclass(frozen=True)
class Conversation:
    """One scripted conversation from a transcript file."""

    file: Path
    line: int
    name: str
    locale: str
    start: str | None
    profile: Mapping[str, Any]
    turns: tuple[Exchange, ...]


# -- running them ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A turn whose reply did not match, with what was expected and what the bot said."""

    file: Path
    line: int
    conversation: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.conversation}: {self.message}"


@dataclass
class Outcome:
    """What replaying one conversation found: failures, turns run, modules visited."""

    failures: list[Failure] = field(default_factory=list)
    turns: int = 0
    modules: set[str] = field(default_factory=set)


class Replay:
    """One conversation replayed against the engine, the way Telegram would deliver it."""

    def __init__(self, engine: Engine, conversation: Conversation) -> None:
        self.engine = engine
        self.conversation = conversation
        progress = engine.new_progress(1, conversation.locale, CLOCK_START)
        self.driver = EngineDriver(engine, progress, CLOCK_START, step=60)
        self.outcome = Outcome()

    @property
    def progress(self) -> Progress:
        """The family member's progress as it stands."""
        return self.driver.progress

    @property
    def reply(self) -> Reply:
        """The bot's latest reply."""
        return self.driver.dialogue.last

    def run(self) -> Outcome:
        """Open the conversation, then play every turn; stop at the first failure."""
        conversation = self.conversation
        try:
            if conversation.start is None:
                self.driver.command("start")
            else:
                profile = dict(conversation.profile)
                self.driver.opened(*preview(self.engine, 1, conversation.locale, conversation.start,
                                            profile, CLOCK_START))
        except StartError as exc:
            self._fail(conversation.line, str(exc))
            return self.outcome
        self._note_modules()
        for turn in conversation.turns:
            self.outcome.turns += 1
            problems = self._play(turn)
            for i, (line, problem) in enumerate(problems, start=1):
                quote = "\n" + _quote(reply_text(self.reply)) if i == len(problems) else ""
                self._fail(line, problem + quote)
            if problems:  # what follows depends on this turn: stop here
                break
        return self.outcome

    def _fail(self, line: int, message: str) -> None:
        self.outcome.failures.append(Failure(self.conversation.file, line, self.conversation.name,
                                             message))

    def _note_modules(self) -> None:
        if self.progress.module:
            self.outcome.modules.add(self.progress.module)
        self.outcome.modules.update(self.progress.started)

    def _play(self, turn: Exchange) -> list[tuple[int, str]]:
        if turn.action is not None:
            try:
                self._act(turn)
            except NoSuchButton as exc:
                return [(turn.line_of(turn.action), str(exc))]
            self._note_modules()
        return self._check(turn)

    def _act(self, turn: Exchange) -> None:
        if turn.action == "say":
            self.driver.send(turn.value)
        elif turn.action == "command":
            name, _, arg = turn.value.partition(" ")
            self.driver.command(name, arg)
        else:
            self.driver.press(turn.value)

    def _check(self, turn: Exchange) -> list[tuple[int, str]]:
        """Every check of the turn that the reply or the saved progress does not meet."""
        said = reply_text(self.reply)
        flat = plain(said)
        found = [(turn.line_of(f"expect.{i}"), _missing(text, said))
                 for i, text in enumerate(turn.expect) if plain(text) not in flat]
        found += [(turn.line_of(f"expect_not.{i}"), f'the reply contains "{text}", which it must not')
                  for i, text in enumerate(turn.expect_not) if plain(text) in flat]
        for key, value in turn.saved.items():
            stored = self.progress.answers.get(key)
            if stored != value and not (value is None and stored in (None, "", [])):
                now = "nothing" if key not in self.progress.answers else repr(stored)
                found.append((turn.line_of(f"saved.{key}"),
                              f"saved {key}: expected {value!r}, but {now} is saved"))
        here = f"{self.progress.module}:{self.progress.step}" if self.progress.module else "menu"
        if turn.at is not None and here != turn.at:
            found.append((turn.line_of("at"), f"expected to be at {turn.at}, but the user is at {here}"))
        return sorted(found)


def _quote(said: str) -> str:
    body = "\n".join(f"    | {line}" for line in said.splitlines()) or "    | (nothing)"
    return "  the bot said:\n" + body


def _missing(expected: str, said: str) -> str:
    """The message for an expected text that is not there, with the nearest words said."""
    words = plain(expected).split()
    candidates = [" ".join(ws[i:i + len(words)]) for line in said.splitlines()
                  for ws in [plain(line).split()] for i in range(max(1, len(ws) - len(words) + 1))]
    close = difflib.get_close_matches(plain(expected), candidates, n=1, cutoff=0.5)
    hint = f'\n  closest:  "{close[0]}"' if close else ""
    return f'the reply does not contain the expected text\n  expected: "{expected}"{hint}'


def run_conversations(engine: Engine, conversations: list[Conversation]) -> list[Outcome]:
    """Replay each conversation against the engine; one outcome each."""
    return [Replay(engine, conversation).run() for conversation in conversations]
