"""Reading YAML while remembering where every value stands, for `file:line:col` messages.

PyYAML's composer gives each node its start mark; we build plain Python data from the
nodes and keep a map from each value's path (``("steps", 3, "next")``) to its line and
column. Two YAML 1.1 traps are closed here because counselors write prose, not code:
``yes``/``no``/``on``/``off`` stay strings (only ``true``/``false`` are booleans), and a
key written twice in one mapping is an error instead of silently keeping the last one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from state.curriculum.diagnostics import Diagnostic

PathKey = tuple[str | int, ...]


class CurriculumLoader(yaml.SafeLoader):
    """A safe loader whose booleans are only `true` and `false`."""


CurriculumLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CurriculumLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass
class Located:
    """A YAML document's data with the position of every value and key in it."""

    file: Path
    data: Any
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: PathKey, *, key: bool = False) -> tuple[int, int]:
        """The 1-based (line, column) of the value (or key) at `path`, or its nearest parent."""
        table = self.keys if key else self.values
        probe = path
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), (1, 1))

    def diagnostic(self, path: PathKey, message: str, *, severity: str = "error",
                   key: bool = False) -> Diagnostic:
        """A diagnostic pointing at the value (or key) at `path`."""
        line, col = self.where(path, key=key)
        return Diagnostic(str(self.file), line, col, severity, message)


def load_located(file: Path) -> tuple[Located | None, list[Diagnostic]]:
    """Parse one YAML file; on a syntax error return no data and the error's position."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Diagnostic(str(file), 1, 1, "error", f"cannot read the file: {exc}")]
    try:
        node = yaml.compose(text, Loader=CurriculumLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        return None, [Diagnostic(str(file), line, col, "error",
                                 f"YAML syntax: {problem}; {_syntax_hint(problem)}")]
    located = Located(file, None)
    if node is None:
        return None, [Diagnostic(str(file), 1, 1, "error",
                                 "the file is empty (or only comments); write its fields or"
                                 " delete the file")]
    problems: list[Diagnostic] = []
    located.data = _build(node, (), located, problems)
    return located, problems


def _build(node: yaml.Node, path: PathKey, located: Located, problems: list[Diagnostic],
           ancestors: frozenset[int] = frozenset()) -> Any:
    located.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if id(node) in ancestors:  # `&a [*a]`: an alias inside itself would never end
        problems.append(Diagnostic(str(located.file), *located.values[path], "error",
                                   "this YAML alias refers to itself; write the value out instead"))
        return None
    inner = ancestors | {id(node)}
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = CurriculumLoader(" ").construct_object(key_node)
            if not isinstance(key, str | int):
                key = str(key)
            child = (*path, key)
            mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                problems.append(Diagnostic(
                    str(located.file), mark[0], mark[1], "error",
                    f"the key '{key}' is written twice in this mapping; keep one",
                ))
            located.keys[child] = mark
            result[key] = _build(value_node, child, located, problems, inner)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), located, problems, inner)
                for i, item in enumerate(node.value)]
    return CurriculumLoader(" ").construct_object(node)


def _syntax_hint(problem: str) -> str:
    """What a counselor most likely has to change for a YAML syntax error."""
    if "'\\t'" in problem:
        return "indent with spaces, not tabs"
    if "mapping values" in problem:
        return "put text that contains ': ' in quotes, or fix the indentation"
    return "check the indentation, and put text containing ': ' or ' #' in quotes"
