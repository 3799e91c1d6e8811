"""Catching a person up after a new curriculum was published while they were mid-module.

The rules (which step still counts, where people on a removed step go) are the
curriculum's: `state.curriculum.versions`. This applies them to one person's progress
on their next input, and says so in one short message when they were moved.
"""

from __future__ import annotations

from collections.abc import Mapping

from state.contracts import Event, Fingerprints
from state.curriculum.model import LocaleContent
from state.curriculum.versions import resolve, step_fingerprint
from state.engine.turn import Turn


def catch_up(turn: Turn, version: str, earlier: Mapping[str, Fingerprints]) -> bool:
    """Bring a user served by an older curriculum up to `version`; True if they were moved.

    When moved, the reply already holds the short explanation and the step they are on now.
    """
    p, content = turn.p, turn.content
    if p.version == version:
        return False
    _remap_positions(content, p.positions, p.module)
    if p.module is None or p.step is None:
        return False
    step = content.step(p.module, p.step)
    if step is not None:
        before = earlier.get(p.version, {}).get((content.code, p.module, p.step))
        if before is not None and before != step_fingerprint(step):
            p.seq += 1  # the buttons already shown belong to the old wording: retire them
            p.pending = {}
        return False
    destination = resolve(content, p.module, p.step)
    p.positions.pop(p.module, None)
    p.seq += 1
    if destination.module is None or destination.step is None:
        p.module = p.step = None
        turn.say_ui("module_retired")
        turn.show_current()
        return True
    title = content.modules[destination.module].title
    if destination.module not in p.started:  # moved into a module never opened: it starts now
        p.started[destination.module] = turn.now
        turn.reply.events.append(Event("module_started", destination.module))
    turn.say_ui("step_moved" if destination.how == "mapped" else "step_restarted", title=title)
    turn.enter(destination.module, destination.step)
    return True


def _remap_positions(content: LocaleContent, positions: dict[str, str], current: str | None) -> None:
    """Paused modules whose saved step is gone resume where moves.yaml says, or restart."""
    for module_id, step_id in list(positions.items()):
        if module_id == current or content.step(module_id, step_id) is not None:
            continue
        target = resolve(content, module_id, step_id)
        if target.how == "mapped" and target.module == module_id and target.step:
            positions[module_id] = target.step
        else:
            del positions[module_id]
