"""Curriculum versions: what changed between two, and where people on a removed step go.

Every loaded curriculum has a version, a hash of its files; each user's progress records
the version it was last served with. When content is published while someone is in the
middle of a module, nobody is stranded:

* a user whose step still exists continues there. If the step's content changed (its
  fingerprint differs from the one recorded for the user's version), their old buttons are
  retired, so a press on an option that moved can never pick a different answer;
* a user whose step was removed goes where the counselor's `moves.yaml` sends them, or
  else to the start of the same module, or, when the whole module is gone, to the menu,
  and is told so in one short message (ui texts `step_moved`, `step_restarted`,
  `module_retired`).

This happens lazily, when the user's next update arrives (`state.engine.catchup`),
so no batch job has to run at publish time.

`curriculum/<locale>/moves.yaml` maps, per module, old step ids to new ones:

    basics:                # the module the removed steps were in
      shield: quiz         # a step of the same module
      old_recap: next:hello   # `module:step` sends people to another module
      "*": intro           # any other removed step of `basics`

`read_moves` checks it as part of validation (every target must exist) and attaches the
result to each `LocaleContent`.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from state.contracts import Fingerprints
from state.curriculum.diagnostics import Diagnostic
from state.curriculum.model import Curriculum, LocaleContent
from state.curriculum.schema import ID_PATTERN, Step
from state.curriculum.yamlsource import Located, load_located

MOVES_FILE = "moves.yaml"
ANY_STEP = "*"

_ID = re.compile(ID_PATTERN)


@dataclass(frozen=True)
class Destination:
    """Where someone on a removed step goes: a step, or the menu when `module` is None.

    `how` is "mapped" (by moves.yaml), "start" (the same module's start) or "menu".
    """

    module: str | None
    step: str | None
    how: str

    def __str__(self) -> str:
        if self.module is None:
            return "the menu (module retired)"
        where = f"{self.module}:{self.step}"
        return f"{where} (moves.yaml)" if self.how == "mapped" else f"{where} (module start)"


# -- fingerprints ----------------------------------------------------------------------------

def step_fingerprint(step: Step) -> str:
    """A short hash of everything a step says and does; equal when the step is unchanged."""
    return hashlib.sha256(step.model_dump_json(by_alias=True).encode()).hexdigest()[:12]


def curriculum_fingerprints(curriculum: Curriculum) -> Fingerprints:
    """The fingerprint of every step of every module of every locale."""
    return {
        (code, module.id, step.id): step_fingerprint(step)
        for code, content in curriculum.locales.items()
        for module in content.modules.values()
        for step in module.steps
    }


# -- where people go -------------------------------------------------------------------------

def resolve(content: LocaleContent, module_id: str, step_id: str) -> Destination:
    """Where someone whose step `module_id:step_id` no longer exists is sent."""
    rules = content.moves.get(module_id, {})
    target = rules.get(step_id) or rules.get(ANY_STEP)
    if target is not None:
        return Destination(target[0], target[1], "mapped")
    module = content.modules.get(module_id)
    if module is not None:
        return Destination(module.id, module.first_step, "start")
    return Destination(None, None, "menu")


# -- moves.yaml --------------------------------------------------------------------------------

def read_moves(curriculum: Curriculum) -> list[Diagnostic]:
    """Read and check every locale's moves.yaml; attach the moves to each locale's content."""
    problems: list[Diagnostic] = []
    for content in curriculum.locales.values():
        file = content.folder / MOVES_FILE
        if not file.exists():
            continue
        located, syntax = load_located(file)
        problems.extend(syntax)
        if located is None:
            continue
        if not isinstance(located.data, dict):
            problems.append(located.diagnostic((), "moves.yaml holds module ids, each with"
                                                   " `old_step: new_step` lines under it"))
            continue
        problems.extend(_check_moves(located, content))
    return problems


def _check_moves(located: Located, content: LocaleContent) -> Iterator[Diagnostic]:
    for module_id, rules in located.data.items():
        here = (module_id,)
        if not isinstance(module_id, str) or not _ID.match(module_id):
            yield located.diagnostic(here, f"'{module_id}' is not a module id; write the id of"
                                           " the module the removed steps were in", key=True)
            continue
        if not isinstance(rules, dict):
            yield located.diagnostic(here, f"under '{module_id}' write `old_step: new_step`"
                                           " lines, indented")
            continue
        module = content.modules.get(module_id)
        for old, target in rules.items():
            at = (module_id, old)
            if old != ANY_STEP and (not isinstance(old, str) or not _ID.match(old)):
                yield located.diagnostic(at, f"'{old}' is not a step id (or \"*\" for any other"
                                             " removed step)", key=True)
                continue
            if module is not None and old != ANY_STEP and any(s.id == old for s in module.steps):
                yield located.diagnostic(at, f"step '{old}' still exists in '{module_id}', so this"
                                             " line never applies; remove it", key=True,
                                         severity="warning")
                continue
            if not isinstance(target, str):
                yield located.diagnostic(at, "write the target as a step id, or module:step for"
                                             " a step of another module")
                continue
            destination, problem = _target(target, module_id, content)
            if problem:
                yield located.diagnostic(at, problem)
            elif destination:
                content.moves.setdefault(module_id, {})[old] = destination


def _target(text: str, module_id: str, content: LocaleContent) -> tuple[tuple[str, str] | None, str]:
    """The (module, step) a target names, or a message saying what is wrong with it."""
    if not text:
        return None, "no target; write the id of the step people go to instead"
    target_module, _, target_step = text.rpartition(":")
    target_module = target_module or module_id
    module = content.modules.get(target_module)
    if module is None:
        if target_module == module_id:
            return None, (f"module '{module_id}' no longer exists, so write the target as"
                          " module:step")
        guess = difflib.get_close_matches(target_module, list(content.modules), n=1)
        hint = f"did you mean '{guess[0]}'?" if guess else "use the id of an existing module"
        return None, f"unknown module '{target_module}' in '{text}'; {hint}"
    ids = [s.id for s in module.steps]
    if target_step not in ids:
        guess = difflib.get_close_matches(target_step, ids, n=1)
        hint = f"did you mean '{guess[0]}'?" if guess else f"use a step of '{target_module}'"
        return None, f"unknown step '{target_step}' in module '{target_module}'; {hint}"
    return (target_module, target_step), ""
