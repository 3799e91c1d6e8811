"""A module's words as translation units, and a translated module built back from them.

A unit is one text a translator translates: a module's title or description, one message
of a step's `text`, a button, a scale's end label, an option's label, feedback or
explanation, a rehearsal coach's stand-in words. Its context names it for good —
`self_care/intro/text/1`: module, step id, field, message — so an export and an import
agree on it even when other steps are added around it.

`translated_module` builds a translated module from the source module's YAML data and the
translated texts: everything but the words is the source's, so a translation can never
differ in structure (`state.curriculum.locales` checks hand-made ones). The file formats
(PO) are the command line's (`bot.cli.translate`); nothing here reads or writes files.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from state.curriculum.locales import MODULE_KEY, MODULE_TEXTS, OPTION_TEXTS, STEP_TEXTS

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Unit:
    """One text to translate: where it is (`context`, `path` in the YAML data) and its words."""

    context: str
    path: Path
    text: str
    step: str  # the step id, or MODULE_KEY for the title and description
    note: str  # what it is, for the translator: "choice step, option 2, feedback"


def units(module: Mapping[str, Any]) -> Iterator[Unit]:
    """Every text of a module's YAML data, in file order."""
    module_id = str(module["id"])
    for field in MODULE_TEXTS:
        if isinstance(module.get(field), str):
            yield Unit(f"{module_id}/{field}", (field,), module[field], MODULE_KEY, f"module {field}")
    for index, step in enumerate(module.get("steps") or []):
        step_id, kind = str(step.get("id")), step.get("kind")
        base: Path = ("steps", index)
        for field in STEP_TEXTS:
            yield from _texts(step.get(field), f"{module_id}/{step_id}/{field}", (*base, field), step_id,
                              f"{kind} step, {field}")
        pieces = step.get("coach_pieces")
        for key, words in (pieces.items() if isinstance(pieces, Mapping) else ()):
            yield from _texts(words, f"{module_id}/{step_id}/coach_pieces/{key}",
                              (*base, "coach_pieces", key), step_id,
                              f"{kind} step, the coach's stand-in {key} (words that follow"
                              " \"Would you like to ...?\")")
        for i, option in enumerate(step.get("options") or []):
            for field in OPTION_TEXTS:
                yield from _texts(option.get(field), f"{module_id}/{step_id}/options/{i + 1}/{field}",
                                  (*base, "options", i, field), step_id,
                                  f"{kind} step, option {i + 1}, {field}")


def _texts(value: Any, context: str, path: Path, step: str, note: str) -> Iterator[Unit]:
    if isinstance(value, str):
        if value.strip():
            yield Unit(context, path, value, step, note)
    elif isinstance(value, list):
        for i, text in enumerate(value):
            if isinstance(text, str):
                yield Unit(f"{context}/{i + 1}", (*path, i), text, step,
                           f"{note}, message {i + 1} of {len(value)}")


def translated_module(source: Mapping[str, Any],
                      texts: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The source module's data with every text replaced by its translation, by context.

    Returns the data and the contexts that have no translation (then the data is unusable).
    """
    data = copy.deepcopy(dict(source))
    missing = []
    for unit in units(source):
        words = texts.get(unit.context, "")
        if not words.strip():
            missing.append(unit.context)
            continue
        node: Any = data
        for part in unit.path[:-1]:
            node = node[part]
        node[unit.path[-1]] = words
    return data, missing
