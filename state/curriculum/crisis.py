"""The texts of a locale's `crisis:` section, and the placeholders they may use.

Validation (`state.curriculum.crossref`) checks them; the engine's crisis guide
(`state.engine.safety`) fills them.
"""

from __future__ import annotations

from collections.abc import Iterator

from state.curriculum.schema import Crisis

CRISIS_PLACEHOLDERS = frozenset({"resources", "emergency"})
TextPath = tuple[str | int, ...]


def crisis_texts(crisis: Crisis) -> Iterator[tuple[TextPath, str]]:
    """Every text of a locale's `crisis:` section with its place in the file, for validation.

    They may use `{resources}`, `{emergency}` and the locale's `defaults` keys.
    """
    def items(path: TextPath, text: str | list[str]) -> Iterator[tuple[TextPath, str]]:
        if isinstance(text, str):
            yield from ((path, text),) if text else ()
        else:
            yield from (((*path, i), t) for i, t in enumerate(text))

    yield from items(("crisis", "message"), crisis.message)
    for name, pathway in crisis.pathways.items():
        yield from items(("crisis", "pathways", name, "message"), pathway.message)
    yield from items(("crisis", "overdose_steps"), crisis.overdose_steps)
    yield from items(("crisis", "grounding"), crisis.grounding)
