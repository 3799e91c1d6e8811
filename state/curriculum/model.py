"""A loaded curriculum: its locales, their modules and steps, and the curriculum's version.

Plain data built by `state.curriculum.loader`; everything else reads it. It imports only
the schema, so every part of the curriculum room (and the engine) can use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from state.curriculum.coaching import Coach
from state.curriculum.diagnostics import Diagnostic
from state.curriculum.schema import Locale, Module, Step
from state.curriculum.yamlsource import Located


@dataclass
class LocaleContent:
    """Everything one locale's folder holds, with where each module came from."""

    code: str
    folder: Path
    locale: Locale | None = None
    locale_source: Located | None = None
    modules: dict[str, Module] = field(default_factory=dict)
    sources: dict[str, Located] = field(default_factory=dict)
    # Module files that failed pass one, by id (or file name): their raw data, None if
    # unreadable. Pass two uses them to avoid reporting the same mistake again elsewhere.
    rejected: dict[str, Any] = field(default_factory=dict)
    # Where people on removed steps go, from moves.yaml (see state.curriculum.versions).
    moves: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    # The rehearsal coach's patterns from coaching.yaml, compiled; None: rehearsals go uncoached.
    coach: Coach | None = None
    coach_source: Located | None = None
    # Each module's steps by id, for `step` (every turn looks steps up several times).
    _by_id: dict[str, tuple[Module, dict[str, Step]]] = field(default_factory=dict, repr=False,
                                                              compare=False)

    @property
    def onboarding(self) -> Module:
        """The onboarding module (validation guarantees there is exactly one)."""
        return next(m for m in self.modules.values() if m.onboarding)

    @property
    def path_modules(self) -> list[Module]:
        """The teaching modules in their order, onboarding excluded."""
        return sorted((m for m in self.modules.values() if not m.onboarding),
                      key=lambda m: (m.order, m.id))

    def step(self, module_id: str, step_id: str) -> Step | None:
        """A step by module and step id, or None when it does not exist."""
        module = self.modules.get(module_id)
        if module is None:
            return None
        indexed = self._by_id.get(module_id)
        if indexed is None or indexed[0] is not module:  # built on first use, again if replaced
            indexed = self._by_id[module_id] = (module, {s.id: s for s in module.steps})
        return indexed[1].get(step_id)


@dataclass
class Curriculum:
    """A validated curriculum: its locales, a content hash as version, and any warnings."""

    root: Path
    locales: dict[str, LocaleContent]
    default_locale: str
    version: str
    warnings: list[Diagnostic] = field(default_factory=list)

    def content(self, locale: str | None) -> LocaleContent:
        """The content for a locale, falling back to the default one."""
        if locale and locale in self.locales:
            return self.locales[locale]
        if locale and locale.split("-")[0] in self.locales:
            return self.locales[locale.split("-")[0]]
        return self.locales[self.default_locale]
