"""Graphviz drawings of modules: DOT source, and SVG or PNG through Graphviz's `dot` program.

What is drawn (arrows, labels, node text, colours) is `bot.documents.graph`'s; this module
writes it as DOT and runs `dot` when it is on the PATH (`GraphvizMissing` says how to
install it otherwise).
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Iterable

from bot.documents.graph import KIND_FILLS, Labels, arrows, node_text, suggested_links
from state.curriculum.schema import Module
from state.engine.machine import SEPARATOR

# Per step kind: the Graphviz shape attributes of its node.
SHAPES: dict[str, str] = {
    "message": "shape=box",
    "choice": "shape=box",
    "text": "shape=polygon, sides=4, skew=0.2, margin=\"0.02,0.02\"",
    "scale": "shape=polygon, sides=4, skew=0.2, margin=\"0.02,0.02\"",
    "quiz": "shape=hexagon, margin=\"0.02,0.02\"",
    "checklist": "shape=box3d",
    "homework": "shape=cylinder",
    "branch": "shape=diamond, margin=\"0.02,0.01\"",
    "end": "shape=doubleoctagon",
}

HEADER = ["digraph craftbot {",
          '  graph [rankdir=TB, fontname="DejaVu Sans", fontsize=16, nodesep=0.35, ranksep=0.45,'
          ' pad=0.3, labelloc=t];',
          '  node [fontname="DejaVu Sans", fontsize=12, style="filled", color="#555555",'
          ' margin="0.15,0.08"];',
          '  edge [fontname="DejaVu Sans", fontsize=10, color="#444444", fontcolor="#1a3d7c"];']


class GraphvizError(RuntimeError):
    """Graphviz could not draw the picture."""


class GraphvizMissing(GraphvizError):
    """SVG or PNG was asked for but Graphviz's `dot` program is not installed."""


def dot_text(lines: Iterable[str]) -> str:
    """Lines as a quoted DOT string."""
    escaped = [line.replace("\\", "\\\\").replace('"', '\\"') for line in lines]
    return '"' + "\\n".join(escaped) + '"'


def dot_html(lines: list[str]) -> str:
    """A node's lines as a Graphviz HTML label: the kind and id in bold, then the text."""
    head, *rest = [html.escape(line) for line in lines]
    kind, _, step_id = head.partition(" · ")
    body = "".join(f"<br/>{line}" for line in rest)
    small = f'<font point-size="11">{body}</font>' if body else ""
    return f"<<b>{kind}</b>&#160;· {step_id}{small}>"


def to_dot(modules: list[Module], labels: Labels | None = None) -> str:
    """A Graphviz DOT graph of one module, or of several as one cluster each."""
    out = list(HEADER)
    if len(modules) == 1:
        out.append(f"  label={dot_text([modules[0].title + f' ({modules[0].id})'])};")
    for m, module in enumerate(modules):
        out.extend(_module_lines(m, module, len(modules) > 1, labels))
    for state, suggested in suggested_links(modules):
        out.append(f"  {dot_text([state])} -> {dot_text([f'{suggested}{SEPARATOR}__start__'])}"
                   ' [style=dashed, label="suggests"];')
    out.append("}")
    return "\n".join(out) + "\n"


def _module_lines(m: int, module: Module, several: bool, labels: Labels | None) -> list[str]:
    """The nodes and arrows of the m-th module (a cluster when several are drawn)."""
    indent = "    " if several else "  "
    out = [f"  subgraph cluster_{m} {{",
           f"    label={dot_text([module.title])}; style=rounded; color=\"#999999\";"] if several else []
    start = dot_text([f"{module.id}{SEPARATOR}__start__"])
    out.append(f'{indent}{start} [label="start", shape=circle, fillcolor="#333333",'
               ' fontcolor=white, width=0.6];')
    for step in module.steps:
        style = ', style="filled,rounded"' if step.kind == "choice" else ""
        out.append(f"{indent}{dot_text([f'{module.id}{SEPARATOR}{step.id}'])}"
                   f' [label={dot_html(node_text(step))}, {SHAPES[step.kind]},'
                   f' fillcolor="{KIND_FILLS[step.kind]}"{style}];')
    out.append(f"{indent}{start} -> {dot_text([f'{module.id}{SEPARATOR}{module.first_step}'])};")
    for arrow in arrows(module, labels):
        label = f" [label={dot_text(arrow.lines())}]" if arrow.lines() else ""
        out.append(f"{indent}{dot_text([arrow.source])} -> {dot_text([arrow.dest])}{label};")
    if several:
        out.append("  }")
    return out


def graphviz_available() -> bool:
    """Whether Graphviz's `dot` program is installed."""
    return shutil.which("dot") is not None


def render(dot_source: str, fmt: str) -> bytes:
    """Draw DOT source as `svg` or `png` with Graphviz; raise GraphvizMissing without it."""
    program = shutil.which("dot")
    if program is None:
        raise GraphvizMissing(
            f"--format {fmt} needs Graphviz's `dot` program, which is not installed here.\n"
            "Install it (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz;"
            " Windows: winget install graphviz), or use --format mermaid, which needs nothing"
            " installed (paste it into https://mermaid.live or a Markdown file on GitHub).")
    extra = ["-Gdpi=110"] if fmt == "png" else []
    done = subprocess.run([program, f"-T{fmt}", *extra], input=dot_source.encode("utf-8"),
                          capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        raise GraphvizError(f"Graphviz failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout
