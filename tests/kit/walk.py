"""Walking a curriculum through the real engine, the way a family member would.

`Chat` is one person talking to a real `state.engine.engine.Engine`: it presses the buttons the
engine showed, types answers, and keeps everything it was shown. `explore_module` drives
many such chats through one module, breadth first, until every path the module's branches
allow has been tried: every step reached and every option of every choice, quiz, scale
and checklist pressed. Coverage is computed from the curriculum itself, so a new step or
option is checked without anyone listing it.

Which steps a chat passes through is read from the engine's own moves: a `StepTap`
records each `CurriculumMachine.move` (and each module start), so steps that need no
answer (messages without a button, branches, homework) count too.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from state.contracts import Button, Command, Input, Press, Progress, Reply, TextIn
from state.curriculum.markup import to_plain
from state.curriculum.model import LocaleContent
from state.curriculum.schema import (
    RISK_FLAGS_KEY,
    RISK_LEVEL_KEY,
    BranchStep,
    ChecklistStep,
    ChoiceStep,
    Condition,
    MessageStep,
    Module,
    QuizStep,
    ScaleStep,
    Step,
    TextStep,
)
from state.engine import risk
from state.engine.engine import Engine
from state.engine.machine import CurriculumMachine, module_edges
from state.service.driver import Dialogue, EngineDriver
from state.service.transcripts import PROFILE_DEFAULTS, prerequisites

DEFAULT_PROFILE: Mapping[str, str] = PROFILE_DEFAULTS
"""Onboarding answers used unless a walk asks for others (those of a previewed person)."""

SAMPLE_ANSWER = "I will take a short walk after dinner."
"""What walks type at free-text steps (plain words, no crisis phrase)."""
CLEAN_ANSWER = ("I feel worried and I love you. Would you take a walk with me on Saturday morning?"
                " I'll come with you.")
"""What walks also type at coached rehearsals: a line with nothing to coach (`if_clean`)."""

MAX_STATES = 50_000  # a guard against a module whose state space explodes


@dataclass(frozen=True)
class Shown:
    """One message the engine showed: the module it belongs to and its plain text."""

    module: str | None
    text: str


@dataclass
class Visit:
    """Steps passed through during one input: (module id, step id) pairs."""

    steps: list[tuple[str, str]] = field(default_factory=list)


class StepTap:
    """Records the steps the engine moves through, by observing its state machine.

    The tap wraps `CurriculumMachine.move` on the engine's machines; behaviour is unchanged.
    """

    def __init__(self, engine: Engine) -> None:
        self.sink: Visit | None = None
        for machine in engine.machines.values():
            self._wrap(machine)

    def _wrap(self, machine: CurriculumMachine) -> None:
        move = machine.move

        def recorded(module_id: str, step_id: str, trigger: str, answers: dict[str, Any]) -> str:
            target = move(module_id, step_id, trigger, answers)
            if self.sink is not None:
                self.sink.steps += [(module_id, step_id), (module_id, target)]
            return target

        machine.move = recorded  # type: ignore[method-assign]


def tap(engine: Engine) -> StepTap:
    """The engine's step tap, installed once."""
    existing = getattr(engine, "_walk_tap", None)
    if isinstance(existing, StepTap):
        return existing
    installed = StepTap(engine)
    engine._walk_tap = installed  # type: ignore[attr-defined]
    return installed


class Chat:
    """One person talking to the engine; keeps what they were shown and where they went.

    It builds on the shipped driver (`EngineDriver`): `driver.press(label)` taps a button by
    its label; `press(data)` here taps one by its callback data, as the walks enumerate them.
    """

    def __init__(self, engine: Engine, progress: Progress | None = None, *, user_id: int = 1,
                 now: float = 1_000.0, dialogue: Dialogue | None = None) -> None:
        self.engine = engine
        self.tap = tap(engine)
        progress = progress or engine.new_progress(user_id, "en", now)
        # Each input comes a second after the one before; the first a second after `now`.
        self.driver = EngineDriver(engine, progress, now + 1.0, step=1.0, dialogue=dialogue)
        self.shown: list[Shown] = []
        self.visited: list[tuple[str, str]] = []

    @property
    def progress(self) -> Progress:
        """The person's progress as it stands."""
        return self.driver.progress

    @property
    def last(self) -> Reply:
        """The engine's latest reply."""
        return self.driver.dialogue.last

    @property
    def content(self) -> LocaleContent:
        """The locale content this chat is served."""
        return self.engine.content(self.progress)

    def clone(self) -> Chat:
        """An independent copy of this chat; the progress goes through JSON like the store's."""
        data = json.loads(json.dumps(vars(self.progress)))
        return Chat(self.engine, Progress.from_json(data), now=self.driver.now - self.driver.step,
                    dialogue=self.driver.dialogue.copy())

    def send(self, message: Input) -> Reply:
        """Send one input; record the messages shown and the steps passed.

        A press is sent with the text of the message its button was under, as Telegram
        does, so the engine can edit that message instead of sending the step again.
        """
        if isinstance(message, Press) and message.message_html is None:
            message = self.driver.dialogue.press_data(message.data)
        module = self.progress.module
        visit = Visit()
        self.tap.sink = visit
        try:
            reply = self.driver.input(message)
        finally:
            self.tap.sink = None
        for event in reply.events:
            if event.kind == "module_started" and event.module:
                visit.steps.insert(0, (event.module, self.content.modules[event.module].first_step))
        owner = module or self.progress.module
        self.shown += [Shown(owner, to_plain(m.html)) for m in reply.messages]
        self.visited += visit.steps
        return reply

    def press(self, data: str) -> Reply:
        """Press a button by its callback data."""
        return self.send(Press(data))

    def type(self, text: str) -> Reply:
        """Type a text message."""
        return self.send(TextIn(text))

    def command(self, name: str) -> Reply:
        """Send a slash command such as /menu."""
        return self.send(Command(name))

    def buttons(self) -> list[Button]:
        """Every button under the messages of the last reply."""
        return [b for m in self.last.messages for row in m.buttons for b in row]

    def step(self) -> Step | None:
        """The step the person is on, or None between modules."""
        p = self.progress
        return self.content.step(p.module, p.step) if p.module and p.step else None

    def open(self, module_id: str) -> Reply:
        """Open a module the way the menu's button does."""
        return self.press(f"m:{module_id}")


# -- one step's possible answers -------------------------------------------------------------


DAY = 24 * 3600.0


@dataclass(frozen=True)
class Action:
    """One answer a person can give at a step: inputs to send and the option it presses."""

    inputs: tuple[Input, ...]
    option: int | None = None


def actions(step: Step, seq: int, *, text: str = SAMPLE_ANSWER) -> list[Action]:
    """Every distinct answer to a step, as the buttons or typing a person would use."""
    if isinstance(step, ChoiceStep | QuizStep):
        return [Action((Press(f"o:{seq}:{i}"),), i) for i in range(len(step.options))]
    if isinstance(step, ScaleStep):
        return [Action((Press(f"o:{seq}:{i}"),), i) for i in range(step.max - step.min + 1)]
    if isinstance(step, ChecklistStep):
        out = []
        for i in range(len(step.options)):
            ticks = [i, *[j for j in range(len(step.options)) if j != i][:max(0, step.min_selected - 1)]]
            presses = tuple(Press(f"t:{seq}:{j}") for j in ticks)
            out.append(Action((*presses, Press(f"d:{seq}")), i))
        if step.min_selected == 0:
            out.append(Action((Press(f"d:{seq}"),)))
        return out
    if isinstance(step, TextStep):  # a safety-plan answer may be skipped: try that too
        skip = [Action((TextIn("skip"),))] if step.sensitive else []
        clean = [Action((TextIn(CLEAN_ANSWER),))] if step.coach else []  # coached, and not
        return [Action((TextIn(text),)), *skip, *clean]
    if isinstance(step, MessageStep) and step.button:
        return [Action((Press(f"c:{seq}"),))]
    return []


# -- onboarding and prerequisites ---------------------------------------------------------------


def onboard(engine: Engine, profile: Mapping[str, str] | None = None, *, user_id: int = 1) -> Chat:
    """A fresh user who has finished onboarding, answering as `profile` says."""
    answers = {**DEFAULT_PROFILE, **(profile or {})}
    chat = Chat(engine, user_id=user_id)
    chat.command("start")
    onboarding = chat.content.onboarding.id
    for _ in range(200):
        if onboarding in chat.progress.completed:
            return chat
        step = chat.step()
        assert step is not None, "onboarding stopped before its end"
        chat.send(_onboarding_answer(step, chat.progress.seq, answers))
    raise AssertionError("onboarding did not finish in 200 inputs")


def _onboarding_answer(step: Step, seq: int, answers: Mapping[str, str]) -> Input:
    if isinstance(step, TextStep):
        return TextIn(answers.get(step.save, SAMPLE_ANSWER))
    if isinstance(step, ChoiceStep):
        wanted = answers.get(step.save or "")
        index = next((i for i, o in enumerate(step.options) if wanted is not None
                      and str(o.value) == wanted), 0)
        return Press(f"o:{seq}:{index}")
    found = actions(step, seq)
    assert found, f"onboarding step {step.id} takes no answer"
    return found[0].inputs[0]


def requirements(content: LocaleContent, module_id: str) -> list[str]:
    """Every module that must be finished before `module_id` opens, in a workable order."""
    return prerequisites(content, module_id)


def finish(chat: Chat, module_id: str) -> Chat:
    """A copy of the chat after opening `module_id` and walking it to an end.

    A plain walk (`first_answer`) is tried first; if it does not finish the module (it
    loops, or leaves by an early exit that does not count), the shortest way is searched for.
    """
    try:
        done = walk_through(chat.clone(), module_id)
        if completed(done, module_id):
            return done
    except AssertionError:
        pass
    result = explore_module(chat.engine, module_id, [chat], stop_at_first_end=True)
    assert result.finished, f"no way to finish module {module_id}"
    return result.finished


def completed(chat: Chat, module_id: str) -> bool:
    """Whether the chat's last input finished the module (an early exit does not)."""
    return any(e.kind == "module_completed" and e.module == module_id for e in chat.last.events)


def ready_for(chat: Chat, module_id: str) -> Chat:
    """A copy of the chat with every prerequisite of `module_id` finished."""
    current = chat.clone()
    for need in requirements(current.content, module_id):
        if need not in current.progress.completed:
            current = finish(current, need)
    current.driver.now += DAY  # they come back another day: homework is old enough to review
    return current


# -- exploring a module ---------------------------------------------------------------------------


@dataclass
class Coverage:
    """What the walks of one module reached, and what the module holds."""

    module: Module
    steps: set[str] = field(default_factory=set)
    options: set[tuple[str, int]] = field(default_factory=set)
    shown: list[Shown] = field(default_factory=list)
    states: int = 0
    finished: Chat | None = None  # a chat that finished the module (not by an early exit)

    @property
    def all_steps(self) -> set[str]:
        """Every step id of the module."""
        return {s.id for s in self.module.steps}

    @property
    def all_options(self) -> set[tuple[str, int]]:
        """(step id, option index) for every option of every choice, quiz, scale and checklist."""
        out: set[tuple[str, int]] = set()
        for s in self.module.steps:
            if isinstance(s, ChoiceStep | QuizStep | ChecklistStep):
                out |= {(s.id, i) for i in range(len(s.options))}
            elif isinstance(s, ScaleStep):
                out |= {(s.id, i) for i in range(s.max - s.min + 1)}
        return out

    @property
    def missing_steps(self) -> set[str]:
        """Steps no walk reached."""
        return self.all_steps - self.steps

    @property
    def missing_options(self) -> set[tuple[str, int]]:
        """Options no walk pressed."""
        return self.all_options - self.options

    def texts(self) -> list[str]:
        """Each distinct message shown while inside the module, in first-shown order."""
        return list(dict.fromkeys(s.text for s in self.shown if s.module == self.module.id))


def conditions(module: Module) -> list[Condition]:
    """Every branch condition of a module."""
    return [c for s in module.steps if isinstance(s, BranchStep) for case in s.cases
            for c in case.conditions]


def conditions_ahead(module: Module) -> dict[str, list[Condition]]:
    """For each step, the branch conditions of every step that can still come after it."""
    edges: dict[str, set[str]] = {}
    for edge in module_edges(module):
        edges.setdefault(edge.source.split(":", 1)[1], set()).add(edge.dest.split(":", 1)[1])
    own = {s.id: [c for case in s.cases for c in case.conditions]
           for s in module.steps if isinstance(s, BranchStep)}
    ahead: dict[str, list[Condition]] = {}
    for step in module.steps:
        seen, stack = {step.id}, [step.id]
        while stack:
            for target in edges.get(stack.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        ahead[step.id] = [c for s in module.steps if s.id in seen for c in own.get(s.id, [])]
    return ahead


def _state_key(chat: Chat, ahead: dict[str, list[Condition]]) -> tuple[Any, ...]:
    """Where a chat is, and what the branches still ahead of it would decide."""
    p = chat.progress
    tests = ahead.get(p.step or "", [])
    return (p.module, p.step, tuple(c.holds(p.answers) for c in tests), p.pending.get("coached"))


def explore_module(engine: Engine, module_id: str, starts: Iterable[Chat], *,
                   stop_at_first_end: bool = False) -> Coverage:
    """Open the module from each start and try every answer at every step, breadth first.

    Two chats at the same step whose answers satisfy the same branch conditions still
    ahead of that step behave alike from there on, so only one of them is walked further.
    Each start must have the module's prerequisites finished.
    """
    module = engine.curriculum.content("en").modules[module_id]
    ahead = conditions_ahead(module)
    coverage = Coverage(module)
    queue: deque[Chat] = deque()
    seen: set[tuple[Any, ...]] = set()
    for start in starts:
        chat = start.clone()
        chat.open(module_id)
        _absorb(coverage, chat, module_id)
        queue.append(chat)
    while queue:
        chat = queue.popleft()
        if chat.progress.module != module_id:
            if coverage.finished is None and completed(chat, module_id):
                coverage.finished = chat
                if stop_at_first_end:
                    return coverage
            continue
        key = _state_key(chat, ahead)
        if key in seen:
            continue
        seen.add(key)
        coverage.states += 1
        assert coverage.states <= MAX_STATES, f"{module_id}: more than {MAX_STATES} states"
        step = chat.step()
        assert step is not None
        found = actions(step, chat.progress.seq)
        assert found, f"{module_id}:{step.id} waits for an answer no button or text gives"
        for action in found:
            nxt = chat.clone()
            for message in action.inputs:
                nxt.send(message)
            if action.option is not None:
                coverage.options.add((step.id, action.option))
            _absorb(coverage, nxt, module_id)
            queue.append(nxt)
    return coverage


def _absorb(coverage: Coverage, chat: Chat, module_id: str) -> None:
    coverage.steps |= {s for m, s in chat.visited if m == module_id}
    if chat.progress.module == module_id and chat.progress.step:
        coverage.steps.add(chat.progress.step)
    coverage.shown += chat.shown
    chat.visited.clear()
    chat.shown.clear()


# -- profiles: the onboarding answers worth trying for a module ------------------------------------


def onboarding_values(content: LocaleContent) -> dict[str, list[str]]:
    """For each answer onboarding saves from a choice, the values a person can pick."""
    out: dict[str, list[str]] = {}
    for step in content.onboarding.steps:
        if isinstance(step, ChoiceStep) and step.save:
            values = [str(o.value) for o in step.options if o.value is not None]
            if values:
                out[step.save] = values
    return out


def profiles(content: LocaleContent, module: Module) -> list[dict[str, str]]:
    """Onboarding answers that, between them, meet every outcome of the module's conditions.

    Only answers the module's branches test are varied; combinations that look the same to
    every condition are kept once.
    """
    choices = onboarding_values(content)
    tests = [c for c in conditions(module) if c.key in choices or c.key in RISK_KEYS]
    keys = sorted({c.key for c in tests if c.key in choices}
                  | ({k for k in RISK_SOURCES if k in choices}
                     if any(c.key in RISK_KEYS for c in tests) else set()))
    kept: dict[tuple[bool, ...], dict[str, str]] = {}
    for combo in itertools.product(*(choices[k] for k in keys)):
        profile = {**DEFAULT_PROFILE, **dict(zip(keys, combo, strict=True))}
        answers: dict[str, Any] = dict(profile)
        risk.refresh(answers)  # a risk test reads the profile onboarding's answers make
        kept.setdefault(tuple(c.holds(answers) for c in tests), profile)
    return list(kept.values()) or [dict(DEFAULT_PROFILE)]


RISK_KEYS = frozenset({RISK_LEVEL_KEY, RISK_FLAGS_KEY})
RISK_SOURCES = ("safety_fear", "safety_weapons", "safety_strangled")  # onboarding's screen


ProfileKey = tuple[tuple[str, str], ...]


class Starts:
    """Chats ready to open a module, built from fresh users and kept for reuse.

    Onboarding and finishing prerequisites are done once per profile and per chain of
    finished modules, so walking all modules does not redo the shared beginnings.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.content = engine.curriculum.content("en")
        self._chats: dict[tuple[ProfileKey, tuple[str, ...]], Chat] = {}

    def ready(self, profile: Mapping[str, str], module_id: str) -> Chat:
        """A fresh user answering as `profile`, with the module's prerequisites finished."""
        key: ProfileKey = tuple(sorted(profile.items()))
        done: tuple[str, ...] = ()
        if (key, done) not in self._chats:
            self._chats[key, done] = onboard(self.engine, profile)
        chat = self._chats[key, done]
        for need in requirements(self.content, module_id):
            done = (*done, need)
            if (key, done) not in self._chats:
                self._chats[key, done] = finish(chat, need)
            chat = self._chats[key, done]
        chat = chat.clone()
        chat.driver.now += DAY  # they come back another day: homework is old enough to review
        return chat

    def for_module(self, module_id: str) -> list[Chat]:
        """One start per useful profile, one with homework from days ago waiting, one coming back.

        That last one runs the module's homework review even where no earlier module sets
        homework (opening a finished module again no longer reviews it: docs/reminders.md).
        """
        found = profiles(self.content, self.content.modules[module_id])
        chats = [self.ready(profile, module_id) for profile in found]
        waiting = chats[0].clone()
        waiting.progress.answers.update(homework="Notice one sober moment.", homework_module=module_id,
                                        homework_set_at=waiting.driver.now - 2 * DAY)
        waiting.progress.answers.pop("treatment_status", None)  # as before orientation asked it
        return [*chats, waiting, finish(chats[0], module_id)]  # and a second visit


def explore(engine: Engine, module_id: str, starts: Starts | None = None) -> Coverage:
    """Every path through one module, from every useful profile and from a second visit."""
    starts = starts or Starts(engine)
    return explore_module(engine, module_id, starts.for_module(module_id))


Policy = Callable[[Step, list[Action]], Action]


def first_answer(step: Step, found: list[Action]) -> Action:
    """A policy for linear walks: the correct quiz answer, else the last choice option.

    Practice questions loop back on weaker replies, so the last option that moves on is
    taken.
    """
    if isinstance(step, QuizStep):
        return found[next(i for i, o in enumerate(step.options) if o.correct)]
    if isinstance(step, ChoiceStep):
        onward = [i for i, o in enumerate(step.options) if step.target(o) != step.id]
        return found[onward[-1] if onward else -1]
    if isinstance(step, ScaleStep):
        return found[len(found) // 2]
    return found[0]


def walk_through(chat: Chat, module_id: str, policy: Policy = first_answer,
                 limit: int = 500) -> Chat:
    """Walk one module from the chat's state with a policy; return the chat at the end."""
    chat.open(module_id)
    for _ in range(limit):
        if chat.progress.module != module_id:
            return chat
        step = chat.step()
        assert step is not None
        for message in policy(step, actions(step, chat.progress.seq)).inputs:
            chat.send(message)
    raise AssertionError(f"{module_id}: no end after {limit} answers")
