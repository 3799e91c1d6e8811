"""The finite-state machine built from the curriculum with `transitions`.

One `Machine` per locale holds every step of every module as a state named
``module:step``; its transitions are the curriculum's `next` links, one trigger per kind of
move (``next``, or ``opt_<i>`` for a choice's i-th option). A branch step's cases become
conditional transitions tried in order, so the machine, not ad-hoc code, decides where a
user goes.

Users are not bound to the machine. A single light `Walker` model is bound once; for each
move the engine puts the user's stored state and answers on it, fires one trigger and
reads the new state. Idle users therefore cost no memory at all, and a move costs one
trigger (microseconds) instead of the 100-250 µs of binding a model (measured in
`bench/engine.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from transitions import EventData, Machine

from state.curriculum.schema import BranchStep, ChoiceStep, Condition, EndStep, Module, Step, TextStep

# transitions logs every move at INFO and binding policy at WARNING; neither is useful here.
logging.getLogger("transitions").setLevel(logging.ERROR)

SEPARATOR = ":"
CLEAN = "clean"  # the trigger from a coached text step when nothing was found to coach


def state_name(module_id: str, step_id: str) -> str:
    """The machine's name for a step."""
    return f"{module_id}{SEPARATOR}{step_id}"


@dataclass
class Walker:
    """The one model the machine moves: a user's place and answers, lent for one move."""

    state: str = ""
    answers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Edge:
    """One transition of the machine, as plain data (also used to draw diagrams)."""

    trigger: str
    source: str
    dest: str
    label: str = ""
    conditions: tuple[Condition, ...] = ()


def module_edges(module: Module) -> list[Edge]:
    """Every transition of one module, in the order the machine tries them."""
    edges: list[Edge] = []
    for step in module.steps:
        edges.extend(_step_edges(module.id, step))
    return edges


def _step_edges(module_id: str, step: Step) -> list[Edge]:
    source = state_name(module_id, step.id)
    if isinstance(step, EndStep):
        return []
    if isinstance(step, ChoiceStep):
        return [
            Edge(f"opt_{i}", source, state_name(module_id, target), option.label)
            for i, option in enumerate(step.options)
            if (target := step.target(option))
        ]
    if isinstance(step, BranchStep):
        cases = [Edge("next", source, state_name(module_id, case.next), "", case.conditions)
                 for case in step.cases]  # drawn from the conditions (bot/documents/graph.py)
        return [*cases, Edge("next", source, state_name(module_id, step.otherwise), "otherwise")]
    if isinstance(step, TextStep) and step.if_clean:  # the coach found nothing to point out
        return [Edge("next", source, state_name(module_id, step.next), "coached"),
                Edge(CLEAN, source, state_name(module_id, step.if_clean), "nothing to coach")]
    return [Edge("next", source, state_name(module_id, step.next))]


def _guard(conditions: tuple[Condition, ...]) -> Callable[[EventData], bool]:
    def holds(event: EventData) -> bool:
        return all(c.holds(cast(Walker, event.model).answers) for c in conditions)

    return holds


class CurriculumMachine:
    """All modules of one locale as one `transitions` machine."""

    def __init__(self, modules: list[Module]) -> None:
        states = [state_name(m.id, s.id) for m in modules for s in m.steps]
        self.walker = Walker()
        self.machine = Machine(
            model=self.walker,
            states=states,
            initial=states[0],
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for module in modules:
            for edge in module_edges(module):
                guard: list[str | Callable[..., bool | None]] | None = (
                    [_guard(edge.conditions)] if edge.conditions else None)
                self.machine.add_transition(edge.trigger, edge.source, edge.dest, conditions=guard)

    def move(self, module_id: str, step_id: str, trigger: str, answers: dict[str, Any]) -> str:
        """Fire `trigger` from a step with the given answers; return the step id reached.

        Raises `transitions.MachineError` when the trigger is not valid from that step.
        """
        self.walker.state = state_name(module_id, step_id)
        self.walker.answers = answers
        # `trigger` is bound onto the model by transitions when the machine is built.
        fire: Callable[[str], bool] = self.walker.trigger  # type: ignore[attr-defined]
        fire(trigger)
        return self.walker.state.split(SEPARATOR, 1)[1]
