"""The texts of a locale's `crisis:` section, and the placeholders they may use.

Validation (`state.curriculum.crossref`) checks them; the engine's crisis guide
(`state.engine.safety`) fills them.
"""

from __future__ import annotations

from collections.abc import Iterator

from state.curriculum.schema import Crisis, Question

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

    def question(path: TextPath, found: Question | None) -> Iterator[tuple[TextPath, str]]:
        if found is not None:
            yield from (((*path, key), getattr(found, key)) for key in ("text", "yes", "no", "after_no"))

    yield from items(("crisis", "message"), crisis.message)
    yield from question(("crisis", "check"), crisis.check)
    for name, pathway in crisis.pathways.items():
        yield from items(("crisis", "pathways", name, "message"), pathway.message)
        yield from question(("crisis", "pathways", name, "question"), pathway.question)
    yield from items(("crisis", "overdose_steps"), crisis.overdose_steps)
    yield from items(("crisis", "grounding"), crisis.grounding)
