"""Publishing a new curriculum to a running bot, and checking beforehand whom it moves.

`Reloader.reload` reads and validates the curriculum folder again. An invalid curriculum
changes nothing: the old one keeps serving and the outcome carries the errors. A valid
one is swapped in with a single assignment (`Conversations.engine = new`) on the event
loop, between two updates, so every update is answered wholly by one version. Users on
steps that changed or vanished are brought up to date lazily, by `state.curriculum.versions`.

`compare` answers "if I publish this, who is affected?" from the database: how many users
stand on steps that are unchanged, changed, or gone (and where moves.yaml sends them).
It is what `craftbot validate --against DB` prints, and what an admin is told after a
reload.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from state.contracts import Fingerprints
from state.curriculum.diagnostics import Diagnostic
from state.curriculum.loader import read_curriculum
from state.curriculum.model import Curriculum
from state.curriculum.versions import Destination, curriculum_fingerprints, resolve
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.storage import Store
from state.store.reports import Placement


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: swapped in `new_version`, or kept `old_version` because of errors."""

    ok: bool
    old_version: str
    new_version: str
    root: Path
    problems: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        """The problems that stopped the reload."""
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        """Problems that did not stop it."""
        return [p for p in self.problems if not p.is_error]

    def problem_lines(self, *, errors_only: bool = False) -> list[str]:
        """Each problem as `file:line:col: severity: message`, files relative to the folder."""
        chosen = self.errors if errors_only else self.problems
        return [str(_relative(p, self.root)) for p in chosen]


def _relative(problem: Diagnostic, root: Path) -> Diagnostic:
    try:
        name = str(Path(problem.file).resolve().relative_to(root.resolve()))
    except ValueError:
        name = problem.file
    return Diagnostic(name, problem.line, problem.col, problem.severity, problem.message)


class Reloader:
    """Reloads the curriculum of one running `Conversations`, one reload at a time."""

    def __init__(self, conversations: Conversations, root: Path, default_locale: str = "en",
                 build: Callable[[Curriculum], Engine] = Engine) -> None:
        """`build` makes the engine for a new curriculum the way the first one was made
        (with the configured crisis lines, for instance)."""
        self.conversations = conversations
        self.root = root
        self.default_locale = default_locale
        self.build = build
        self._lock = asyncio.Lock()

    async def reload(self) -> ReloadOutcome:
        """Validate the folder again; swap the new curriculum in only if it has no error."""
        async with self._lock:
            old = self.conversations.engine
            curriculum, problems = await asyncio.to_thread(read_curriculum, self.root,
                                                           self.default_locale)
            if any(p.is_error for p in problems):
                return ReloadOutcome(False, old.version, curriculum.version, self.root, problems)
            engine = await asyncio.to_thread(self.build, curriculum)
            await record_curriculum(self.conversations.store, curriculum)
            engine.earlier = {**old.earlier, old.version: curriculum_fingerprints(old.curriculum)}
            self.conversations.use(engine)  # the swap: the next update meets the new one
            return ReloadOutcome(True, old.version, engine.version, self.root, problems)


async def record_served(conversations: Conversations) -> None:
    """At start-up: record the served version's steps and learn those of earlier versions."""
    await record_curriculum(conversations.store, conversations.engine.curriculum)
    conversations.engine.earlier = await recorded_fingerprints(conversations.store)


async def record_curriculum(store: Store, curriculum: Curriculum) -> None:
    """Remember the fingerprint of every step of a served version, for later comparisons."""
    await store.curricula.record(curriculum.version, curriculum_fingerprints(curriculum))


async def recorded_fingerprints(store: Store) -> dict[str, Fingerprints]:
    """Every recorded version's fingerprints, so users of earlier versions are caught up well."""
    return await store.curricula.recorded()


# -- who is affected -----------------------------------------------------------------------------

@dataclass
class Standing:
    """Where users stand against a curriculum about to be (or just) published."""

    version: str
    unchanged: int = 0
    changed: Counter[tuple[str, str]] = field(default_factory=Counter)
    unknown: Counter[tuple[str, str]] = field(default_factory=Counter)
    moved: Counter[tuple[str, str, Destination]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Users standing on a step (users between modules are not affected)."""
        return (self.unchanged + sum(self.changed.values()) + sum(self.unknown.values())
                + sum(self.moved.values()))

    def lines(self) -> list[str]:
        """The standing as lines of text for a terminal or an admin message."""
        out = [f"{self.total} user(s) on a step; against version {self.version}:",
               f"  {self.unchanged} on unchanged steps"]
        out.append(f"  {sum(self.changed.values())} on steps whose content changed"
                   " (they stay there; buttons already shown are retired)")
        out += [f"    {module}:{step}  {n}" for (module, step), n in sorted(self.changed.items())]
        out.append(f"  {sum(self.moved.values())} on steps that no longer exist (moved when they"
                   " next write)")
        out += [f"    {module}:{step} -> {where}  {n}"
                for (module, step, where), n in sorted(self.moved.items(), key=lambda i: i[0][:2])]
        if self.unknown:
            out.append(f"  {sum(self.unknown.values())} on steps that still exist, from versions"
                       " never recorded here (changes unknown)")
            out += [f"    {module}:{step}  {n}" for (module, step), n in sorted(self.unknown.items())]
        return out


def compare(curriculum: Curriculum, placements: list[Placement],
            recorded: dict[str, Fingerprints]) -> Standing:
    """Sort users by what publishing `curriculum` would mean for the step they are on."""
    now = curriculum_fingerprints(curriculum)
    standing = Standing(curriculum.version)
    for place in placements:
        content = curriculum.content(place.locale)
        key = (content.code, place.module, place.step)
        if content.step(place.module, place.step) is None:
            standing.moved[(place.module, place.step, resolve(content, place.module, place.step))] \
                += place.users
        elif place.version == curriculum.version:
            standing.unchanged += place.users
        elif key not in recorded.get(place.version, {}):
            standing.unknown[(place.module, place.step)] += place.users
        elif recorded[place.version][key] != now[key]:
            standing.changed[(place.module, place.step)] += place.users
        else:
            standing.unchanged += place.users
    return standing
