"""Mermaid flowcharts of modules: needs nothing installed (GitHub and mermaid.live draw them).

What is drawn (arrows, labels, node text, colours) is `bot.documents.graph`'s; this module
only writes it as Mermaid.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.documents.graph import KIND_FILLS, Labels, arrows, node_text, suggested_links
from state.curriculum.schema import Module
from state.engine.machine import SEPARATOR

# Per step kind: the brackets of its node shape.
BRACKETS: dict[str, tuple[str, str]] = {
    "message": ("[", "]"),
    "choice": ("(", ")"),
    "text": ("[/", "/]"),
    "scale": ("[/", "/]"),
    "quiz": ("{{", "}}"),
    "checklist": ("[[", "]]"),
    "homework": ("[(", ")]"),
    "branch": ("{", "}"),
    "end": ("([", "])"),
}


def mermaid_text(lines: Iterable[str]) -> str:
    """Lines for inside a quoted Mermaid label: quotes and markup characters as entities."""
    def escape(line: str) -> str:
        for char, entity in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
            line = line.replace(char, entity)
        return line

    return "<br/>".join(escape(line) for line in lines)


def to_mermaid(modules: list[Module], labels: Labels | None = None) -> str:
    """A Mermaid flowchart of one module, or of several as one subgraph each."""
    out = ["flowchart TD"]
    ids: dict[str, str] = {}
    for m, module in enumerate(modules):
        out.extend(_module_lines(m, module, len(modules) > 1, ids, labels))
    drawn = {module.id: m for m, module in enumerate(modules)}
    out.extend(f'  {ids[state]} -.->|"suggests"| start{drawn[suggested]}'
               for state, suggested in suggested_links(modules))
    for kind, fill in KIND_FILLS.items():
        out.append(f"  classDef kind_{kind} fill:{fill},stroke:#555,color:#111")
    for kind in KIND_FILLS:
        members = [ids[f"{m.id}{SEPARATOR}{s.id}"] for m in modules for s in m.steps if s.kind == kind]
        if members:
            out.append(f"  class {','.join(members)} kind_{kind}")
    return "\n".join(out) + "\n"


def _module_lines(m: int, module: Module, several: bool, ids: dict[str, str],
                  labels: Labels | None) -> list[str]:
    """The nodes and arrows of the m-th module (a subgraph when several are drawn); fills `ids`."""
    indent = "    " if several else "  "
    out = [f'  subgraph mod{m}["{mermaid_text([module.title])}"]', "    direction TB"] if several else []
    start = f"start{m}"
    out.append(f"{indent}{start}((start))")
    for s, step in enumerate(module.steps):
        node = ids[f"{module.id}{SEPARATOR}{step.id}"] = f"m{m}s{s}"
        opening, closing = BRACKETS[step.kind]
        out.append(f'{indent}{node}{opening}"{mermaid_text(node_text(step))}"{closing}')
    out.append(f"{indent}{start} --> {ids[f'{module.id}{SEPARATOR}{module.first_step}']}")
    for arrow in arrows(module, labels):
        text = f'|"{mermaid_text(arrow.lines())}"|' if arrow.lines() else ""
        out.append(f"{indent}{ids[arrow.source]} -->{text} {ids[arrow.dest]}")
    if several:
        out.append("  end")
    return out
