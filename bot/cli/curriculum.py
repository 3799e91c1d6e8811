"""How the commands load a curriculum and pick a locale or module from it, saying what went wrong.

Every function prints its problem to standard error and returns None, so a command can end
with its exit code instead of a traceback.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping
from pathlib import Path

from state.curriculum.diagnostics import CurriculumError
from state.curriculum.helplines import US_KEYS
from state.curriculum.loader import load_curriculum, own_default_locale
from state.curriculum.model import Curriculum, LocaleContent
from state.curriculum.schema import Module
from state.engine.engine import Engine
from state.engine.safety.detection import Resource


def load_or_report(path: Path) -> Curriculum | None:
    """Load a curriculum with its own default locale (`en` if it has one, else its first);
    print its problems and return None when it has errors."""
    try:
        return load_curriculum(path, own_default_locale(path))
    except CurriculumError as exc:
        print(exc.report(), file=sys.stderr)
        print(f"craftbot: the curriculum in {path} has errors; run `craftbot validate {path}`.",
              file=sys.stderr)
        return None


def load_engine(path: Path, default_locale: str = "en",
                resources: Mapping[str, Resource] | None = None,
                wording: Mapping[str, Mapping[str, tuple[str, str]]] | None = None) -> Engine | None:
    """Load and validate the curriculum; print the problems and return None if invalid.

    `resources` are the crisis lines from the configuration (default: the US ones); a lesson
    placeholder that none of them fills (`{lifeline}` without a `lifeline`) is an error.
    """
    try:
        keys = US_KEYS if resources is None else resources
        return Engine(load_curriculum(path, default_locale, keys), resources, wording)
    except CurriculumError as exc:
        print(exc.report(), file=sys.stderr)
        print(f"craftbot: the curriculum in {path} has errors; not starting.", file=sys.stderr)
        return None


def pick_locale(curriculum: Curriculum, locale: str | None) -> LocaleContent | None:
    """The locale asked for (or the default one); None, with a message, if there is none."""
    if locale is None:
        return curriculum.content(None)
    if locale not in curriculum.locales:
        print(f"craftbot: no locale '{locale}' in {curriculum.root}; it has: "
              + ", ".join(sorted(curriculum.locales)), file=sys.stderr)
        return None
    return curriculum.locales[locale]


def pick_module(content: LocaleContent, module_id: str) -> Module | None:
    """A module by id; None, with a message naming the closest id, if there is none."""
    if module_id in content.modules:
        return content.modules[module_id]
    guess = difflib.get_close_matches(module_id, list(content.modules), n=1)
    hint = f" Did you mean '{guess[0]}'?" if guess else ""
    print(f"craftbot: no module '{module_id}' in locale {content.code}.{hint} The modules are: "
          + ", ".join(sorted(content.modules)), file=sys.stderr)
    return None
