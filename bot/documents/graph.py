"""A module's flow as the bot runs it, in the words a counselor reads: the model behind every drawing.

The arrows are `state.engine.machine.module_edges(module)`: the very list of transitions the
`CurriculumMachine` is built from, so a drawing cannot drift from what the bot does. We
draw them ourselves rather than through `transitions.extensions.diagrams`: its Mermaid and
Graphviz backends draw plain state boxes and label arrows with trigger names (`opt_0`,
`next`) and guard function names, while a counselor needs to see each step's kind, the
words on each button and each branch condition in words. Only the labels are added here;
which step leads where is the machine's.

The renderers are `bot.documents.mermaid` and `bot.documents.dot` (Graphviz); the book
(`bot.documents.book`) describes branches with the same words.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from state.curriculum.model import LocaleContent
from state.curriculum.schema import (
    ChecklistStep,
    ChoiceStep,
    Condition,
    EndStep,
    MessageStep,
    Module,
    QuizStep,
    ScaleStep,
    Step,
    TextStep,
)
from state.engine.machine import CLEAN, SEPARATOR, Edge, module_edges

# The fill colour of each step kind, the same in every drawing (and the order kinds are styled in).
KIND_FILLS: dict[str, str] = {
    "message": "#e8f0fe",
    "choice": "#fff4d6",
    "text": "#e6f4ea",
    "scale": "#e0f7f4",
    "quiz": "#f3e8fd",
    "checklist": "#fde8ef",
    "homework": "#fff0e0",
    "branch": "#eeeeee",
    "end": "#d7ecd9",
}

Labels = Mapping[str, Mapping[str, str]]
"""For each saved key, the button label that saves each value (`relationship` → `partner` → `My partner`)."""


@dataclass(frozen=True)
class Arrow:
    """One arrow of a drawing: the machine edges from one step to another, with the words a
    counselor reads on them (one label per edge: several buttons may lead to the same step)."""

    source: str
    dest: str
    labels: tuple[str, ...]

    def lines(self, width: int = 26) -> list[str]:
        """The labels wrapped to `width` characters a line."""
        return [line for label in self.labels if label for line in textwrap.wrap(label, width)]


def answer_labels(content: LocaleContent) -> dict[str, dict[str, str]]:
    """The button label behind each saved value, from every choice and checklist."""
    labels: dict[str, dict[str, str]] = {}
    for module in content.modules.values():
        for step in module.steps:
            if isinstance(step, ChoiceStep) and step.save:
                for option in step.options:
                    value = option.value if option.value is not None else option.label
                    labels.setdefault(step.save, {}).setdefault(str(value), option.label)
            elif isinstance(step, ChecklistStep):
                for item in step.options:
                    labels.setdefault(step.save, {}).setdefault(item.value or item.label, item.label)
    return labels


def describe_condition(condition: Condition, labels: Labels | None = None) -> str:
    """A branch condition in words, such as `relationship is partner (“My partner”)`."""
    known = (labels or {}).get(condition.key, {})

    def show(value: object) -> str:
        label = known.get(str(value))
        return f"{value} (“{label}”)" if label and label != str(value) else str(value)

    key = condition.key
    if condition.is_set is not None:
        return f"{key} is set" if condition.is_set else f"{key} is not set"
    if condition.equals is not None:
        return f"{key} is {show(condition.equals)}"
    if condition.in_ is not None:
        return f"{key} is one of " + ", ".join(show(v) for v in condition.in_)
    if condition.not_in is not None:
        return f"{key} is none of " + ", ".join(show(v) for v in condition.not_in)
    if condition.contains is not None:
        return f"{key} includes {show(condition.contains)}"
    if condition.at_least is not None:
        return f"{key} is at least {condition.at_least:g}"
    return f"{key} is at most {condition.at_most:g}"


def describe_conditions(conditions: Iterable[Condition], labels: Labels | None = None) -> str:
    """Several conditions that must all hold, in words."""
    return " and ".join(describe_condition(c, labels) for c in conditions)


def arrows(module: Module, labels: Labels | None = None) -> list[Arrow]:
    """The module's machine edges, labelled with what makes each one happen."""
    steps = {step.id: step for step in module.steps}
    merged: dict[tuple[str, str], list[str]] = {}
    for edge in module_edges(module):
        label = _edge_label(edge, steps[_step_id(edge.source)], labels)
        found = merged.setdefault((edge.source, edge.dest), [])
        found.append(f"or {label}" if found and label.startswith("if ") else label)
    return [Arrow(source, dest, tuple(found)) for (source, dest), found in merged.items()]


def _step_id(state: str) -> str:
    return state.split(SEPARATOR, 1)[1]


def _edge_label(edge: Edge, step: Step, labels: Labels | None) -> str:
    """What the family member does (or what holds) to go along this edge."""
    if edge.conditions:
        return "if " + describe_conditions(edge.conditions, labels)
    if isinstance(step, ChoiceStep) or edge.label == "otherwise":
        return edge.label
    if isinstance(step, MessageStep):
        return step.button or ""
    if isinstance(step, TextStep):
        if step.coach and step.if_clean:  # the coach decides which way
            return "nothing to coach" if edge.trigger == CLEAN else "coached, then a second try"
        return "types an answer, coached" if step.coach else "types an answer"
    if isinstance(step, ScaleStep):
        return f"picks {step.min}–{step.max}"
    if isinstance(step, QuizStep):
        return "right answer" if step.retry else "any answer"
    if isinstance(step, ChecklistStep):
        return step.done_label or "done"
    return ""


def node_text(step: Step, width: int = 30) -> list[str]:
    """A node's lines: its kind and id, then the start of its first message."""
    lines = [f"{step.kind} · {step.id}"]
    if isinstance(step, EndStep):
        if not step.complete:
            lines.append("early exit (not completed)")
        if step.suggest:
            lines.append(f"suggests: {step.suggest}")
    first = step.texts[0] if step.texts else ""
    first = first.replace("**", "").replace("__", "")
    if first:
        wrapped = textwrap.wrap(first, width)
        if len(wrapped) > 2:
            wrapped = [wrapped[0], textwrap.shorten(wrapped[1] + " " + wrapped[2], width, placeholder=" …")]
        lines.extend(wrapped)
    return lines


def suggested_links(modules: list[Module]) -> list[tuple[str, str]]:
    """(end step state, suggested module id) for each end step suggesting a module also drawn."""
    drawn = {m.id for m in modules}
    return [(f"{module.id}{SEPARATOR}{step.id}", step.suggest) for module in modules
            for step in module.steps
            if isinstance(step, EndStep) and step.suggest in drawn and len(modules) > 1]
