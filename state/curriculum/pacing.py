"""Pacing: no long run of messages before the person has something to tap or answer.

A person on a phone reads a run of messages as a wall. From every place a person arrives
at (a module's start, and wherever an answer leads), this counts the messages the bot sends
before the next button or question: the texts of messages without `button:`, of branches
and homework, an option's feedback, and the question itself; an `end` that completes the
module adds its closing message (an early exit's buttons go under its last text). A run
longer than `MAX_RUN` is a warning at the step it starts from, with the count and how to fix
it (add `button:` to a message step in the middle).

Steps this module does not know (new kinds) count as questions: they stop a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from state.curriculum.diagnostics import Diagnostic
from state.curriculum.model import Curriculum
from state.curriculum.schema import (
    BranchStep,
    ChoiceStep,
    EndStep,
    HomeworkStep,
    MessageStep,
    Module,
    Step,
    TextStep,
)

MAX_RUN = 6  # messages in a row without a button (issue 16)


def check_pacing(curriculum: Curriculum) -> list[Diagnostic]:
    """A warning for every place a run of more than `MAX_RUN` messages starts."""
    out: list[Diagnostic] = []
    for content in curriculum.locales.values():
        for module in content.modules.values():
            source = content.sources[module.id]
            for index, count in _long_runs(module):
                out.append(source.diagnostic(
                    ("steps", index, "id"),
                    f"{count} messages in a row without a button from here (at most {MAX_RUN});"
                    " add `button:` to a message step in the middle, or split a long text list",
                    severity="warning"))
    return out


def _long_runs(module: Module) -> Iterator[tuple[int, int]]:
    steps = {step.id: step for step in module.steps}
    index = {step.id: i for i, step in enumerate(module.steps)}

    @cache
    def run(step_id: str, depth: int = 0) -> int:
        """Messages from arriving at this step until the next button (the longest way)."""
        step = steps.get(step_id)
        if step is None or depth > len(steps):
            return 0
        texts = len(step.texts)
        if isinstance(step, MessageStep) and step.button is None:
            return texts + run(step.next, depth + 1)
        if isinstance(step, HomeworkStep):
            return texts + run(step.next, depth + 1)
        if isinstance(step, BranchStep):
            targets = [case.next for case in step.cases] + [step.otherwise]
            return texts + max(run(t, depth + 1) for t in targets)
        if isinstance(step, EndStep):  # a finished module adds its closing message; an early
            return texts + (1 if step.complete else 0)  # exit puts its buttons on the last one
        return max(texts, 1)  # a question, or a message with its button

    seen: set[str] = set()
    for start_id, extra in _arrivals(module):
        if start_id in seen and extra == 0:
            continue
        seen.add(start_id)
        count = extra + run(start_id)
        if count > MAX_RUN and start_id in index:
            yield index[start_id], count


def _arrivals(module: Module) -> Iterator[tuple[str, int]]:
    """Where a person arrives after answering something, with the feedback said on the way."""
    yield module.first_step, 0
    for step in module.steps:
        yield from _after(step)


def _after(step: Step) -> Iterator[tuple[str, int]]:
    if isinstance(step, ChoiceStep):
        for option in step.options:
            target = step.target(option)
            if target:
                feedback = option.feedback
                said = 0 if not feedback else (len(feedback) if isinstance(feedback, list) else 1)
                yield target, said
        return
    if isinstance(step, MessageStep):
        if step.button is not None:
            yield step.next, 0
        return
    if isinstance(step, BranchStep | HomeworkStep | EndStep):
        return
    if isinstance(step, TextStep) and step.if_clean:
        yield step.if_clean, 0
        yield step.next, 1  # after a second try: what improved, or a gentle note
        return
    target = getattr(step, "next", None)
    if isinstance(target, str):
        yield target, 1 if getattr(step, "options", None) and hasattr(step, "retry") else 0
