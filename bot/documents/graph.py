"""`craftbot graph`: a module's flow drawn from the state machine the bot runs.

The arrows are `state.engine.machine.module_edges(module)`: the very list of transitions the
`CurriculumMachine` is built from, so the picture cannot drift from what the bot does. We
draw them ourselves rather than through `transitions.extensions.diagrams`: its Mermaid and
Graphviz backends draw plain state boxes and label arrows with trigger names (`opt_0`,
`next`) and guard function names, while a counselor needs to see each step's kind, the
words on each button and each branch condition in words. Only the labels are added here;
which step leads where is the machine's.

Mermaid needs nothing installed. SVG and PNG go through Graphviz's `dot` program when it
is on the PATH; `GraphvizMissing` says how to install it otherwise.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from state.curriculum.model import LocaleContent
from state.curriculum.schema import (
    ChecklistStep,
    ChoiceStep,
    Condition,
    EndStep,
    MessageStep,
    Module,
    QuizStep,
    ScaleStep,
    Step,
    TextStep,
)
from state.engine.machine import SEPARATOR, Edge, module_edges

FORMATS = ("mermaid", "dot", "svg", "png")

# Per step kind: Mermaid shape brackets, Graphviz shape attributes, fill colour.
SHAPES: dict[str, tuple[str, str, str, str]] = {
    "message": ("[", "]", "shape=box", "#e8f0fe"),
    "choice": ("(", ")", "shape=box", "#fff4d6"),
    "text": ("[/", "/]", "shape=polygon, sides=4, skew=0.2, margin=\"0.02,0.02\"", "#e6f4ea"),
    "scale": ("[/", "/]", "shape=polygon, sides=4, skew=0.2, margin=\"0.02,0.02\"", "#e0f7f4"),
    "quiz": ("{{", "}}", "shape=hexagon, margin=\"0.02,0.02\"", "#f3e8fd"),
    "checklist": ("[[", "]]", "shape=box3d", "#fde8ef"),
    "homework": ("[(", ")]", "shape=cylinder", "#fff0e0"),
    "branch": ("{", "}", "shape=diamond, margin=\"0.02,0.01\"", "#eeeeee"),
    "end": ("([", "])", "shape=doubleoctagon", "#d7ecd9"),
}

Labels = Mapping[str, Mapping[str, str]]
"""For each saved key, the button label that saves each value (`relationship` → `partner` → `My partner`)."""


class GraphvizError(RuntimeError):
    """Graphviz could not draw the picture."""


class GraphvizMissing(GraphvizError):
    """SVG or PNG was asked for but Graphviz's `dot` program is not installed."""


@dataclass(frozen=True)
class Arrow:
    """One arrow of a drawing: the machine edges from one step to another, with the words a
    counselor reads on them (one label per edge: several buttons may lead to the same step)."""

    source: str
    dest: str
    labels: tuple[str, ...]

    def lines(self, width: int = 26) -> list[str]:
        """The labels wrapped to `width` characters a line."""
        return [line for label in self.labels if label for line in textwrap.wrap(label, width)]


def answer_labels(content: LocaleContent) -> dict[str, dict[str, str]]:
    """The button label behind each saved value, from every choice and checklist."""
    labels: dict[str, dict[str, str]] = {}
    for module in content.modules.values():
        for step in module.steps:
            if isinstance(step, ChoiceStep) and step.save:
                for option in step.options:
                    value = option.value if option.value is not None else option.label
                    labels.setdefault(step.save, {}).setdefault(str(value), option.label)
            elif isinstance(step, ChecklistStep):
                for item in step.options:
                    labels.setdefault(step.save, {}).setdefault(item.value or item.label, item.label)
    return labels


def describe_condition(condition: Condition, labels: Labels | None = None) -> str:
    """A branch condition in words, such as `relationship is partner (“My partner”)`."""
    known = (labels or {}).get(condition.key, {})

    def show(value: object) -> str:
        label = known.get(str(value))
        return f"{value} (“{label}”)" if label and label != str(value) else str(value)

    key = condition.key
    if condition.is_set is not None:
        return f"{key} is set" if condition.is_set else f"{key} is not set"
    if condition.equals is not None:
        return f"{key} is {show(condition.equals)}"
    if condition.in_ is not None:
        return f"{key} is one of " + ", ".join(show(v) for v in condition.in_)
    if condition.not_in is not None:
        return f"{key} is none of " + ", ".join(show(v) for v in condition.not_in)
    if condition.contains is not None:
        return f"{key} includes {show(condition.contains)}"
    if condition.at_least is not None:
        return f"{key} is at least {condition.at_least:g}"
    return f"{key} is at most {condition.at_most:g}"


def describe_conditions(conditions: Iterable[Condition], labels: Labels | None = None) -> str:
    """Several conditions that must all hold, in words."""
    return " and ".join(describe_condition(c, labels) for c in conditions)


def arrows(module: Module, labels: Labels | None = None) -> list[Arrow]:
    """The module's machine edges, labelled with what makes each one happen."""
    steps = {step.id: step for step in module.steps}
    merged: dict[tuple[str, str], list[str]] = {}
    for edge in module_edges(module):
        label = _edge_label(edge, steps[_step_id(edge.source)], labels)
        found = merged.setdefault((edge.source, edge.dest), [])
        found.append(f"or {label}" if found and label.startswith("if ") else label)
    return [Arrow(source, dest, tuple(found)) for (source, dest), found in merged.items()]


def _step_id(state: str) -> str:
    return state.split(SEPARATOR, 1)[1]


def _edge_label(edge: Edge, step: Step, labels: Labels | None) -> str:
    """What the family member does (or what holds) to go along this edge."""
    if edge.conditions:
        return "if " + describe_conditions(edge.conditions, labels)
    if isinstance(step, ChoiceStep) or edge.label == "otherwise":
        return edge.label
    if isinstance(step, MessageStep):
        return step.button or ""
    if isinstance(step, TextStep):
        return "types an answer"
    if isinstance(step, ScaleStep):
        return f"picks {step.min}–{step.max}"
    if isinstance(step, QuizStep):
        return "right answer" if step.retry else "any answer"
    if isinstance(step, ChecklistStep):
        return step.done_label or "done"
    return ""


def node_text(step: Step, width: int = 30) -> list[str]:
    """A node's lines: its kind and id, then the start of its first message."""
    lines = [f"{step.kind} · {step.id}"]
    if isinstance(step, EndStep):
        if not step.complete:
            lines.append("early exit (not completed)")
        if step.suggest:
            lines.append(f"suggests: {step.suggest}")
    first = step.texts[0] if step.texts else ""
    first = first.replace("**", "").replace("__", "")
    if first:
        wrapped = textwrap.wrap(first, width)
        if len(wrapped) > 2:
            wrapped = [wrapped[0], textwrap.shorten(wrapped[1] + " " + wrapped[2], width, placeholder=" …")]
        lines.extend(wrapped)
    return lines


# -- Mermaid ---------------------------------------------------------------------------------


def _mermaid_text(lines: Iterable[str]) -> str:
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
        indent = "    " if len(modules) > 1 else "  "
        if len(modules) > 1:
            out.append(f'  subgraph mod{m}["{_mermaid_text([module.title])}"]')
            out.append("    direction TB")
        start = f"start{m}"
        out.append(f"{indent}{start}((start))")
        for s, step in enumerate(module.steps):
            node = ids[f"{module.id}{SEPARATOR}{step.id}"] = f"m{m}s{s}"
            opening, closing = SHAPES[step.kind][:2]
            out.append(f'{indent}{node}{opening}"{_mermaid_text(node_text(step))}"{closing}')
        out.append(f"{indent}{start} --> {ids[f'{module.id}{SEPARATOR}{module.first_step}']}")
        for arrow in arrows(module, labels):
            text = f'|"{_mermaid_text(arrow.lines())}"|' if arrow.lines() else ""
            out.append(f"{indent}{ids[arrow.source]} -->{text} {ids[arrow.dest]}")
        if len(modules) > 1:
            out.append("  end")
    out.extend(_mermaid_links(modules, ids))
    for kind, (_, _, _, fill) in SHAPES.items():
        out.append(f"  classDef kind_{kind} fill:{fill},stroke:#555,color:#111")
    for kind in SHAPES:
        members = [ids[f"{m.id}{SEPARATOR}{s.id}"] for m in modules for s in m.steps if s.kind == kind]
        if members:
            out.append(f"  class {','.join(members)} kind_{kind}")
    return "\n".join(out) + "\n"


def _mermaid_links(modules: list[Module], ids: dict[str, str]) -> list[str]:
    """Dashed arrows from an end step to the module it suggests, when both are drawn."""
    drawn = {m.id: i for i, m in enumerate(modules)}
    return [f'  {ids[f"{module.id}{SEPARATOR}{step.id}"]} -.->|"suggests"| start{drawn[step.suggest]}'
            for module in modules for step in module.steps
            if isinstance(step, EndStep) and step.suggest in drawn and len(modules) > 1]


# -- Graphviz --------------------------------------------------------------------------------


def _dot_text(lines: Iterable[str]) -> str:
    """Lines as a quoted DOT string."""
    escaped = [line.replace("\\", "\\\\").replace('"', '\\"') for line in lines]
    return '"' + "\\n".join(escaped) + '"'


def _dot_html(lines: list[str]) -> str:
    """A node's lines as a Graphviz HTML label: the kind and id in bold, then the text."""
    head, *rest = [html.escape(line) for line in lines]
    kind, _, step_id = head.partition(" · ")
    body = "".join(f"<br/>{line}" for line in rest)
    small = f'<font point-size="11">{body}</font>' if body else ""
    return f"<<b>{kind}</b>&#160;· {step_id}{small}>"


def to_dot(modules: list[Module], labels: Labels | None = None) -> str:
    """A Graphviz DOT graph of one module, or of several as one cluster each."""
    out = ["digraph craftbot {",
           '  graph [rankdir=TB, fontname="DejaVu Sans", fontsize=16, nodesep=0.35, ranksep=0.45,'
           ' pad=0.3, labelloc=t];',
           '  node [fontname="DejaVu Sans", fontsize=12, style="filled", color="#555555",'
           ' margin="0.15,0.08"];',
           '  edge [fontname="DejaVu Sans", fontsize=10, color="#444444", fontcolor="#1a3d7c"];']
    if len(modules) == 1:
        out.append(f"  label={_dot_text([modules[0].title + f' ({modules[0].id})'])};")
    for m, module in enumerate(modules):
        indent = "    " if len(modules) > 1 else "  "
        if len(modules) > 1:
            out.append(f"  subgraph cluster_{m} {{")
            out.append(f"    label={_dot_text([module.title])}; style=rounded; color=\"#999999\";")
        start = _dot_text([f"{module.id}{SEPARATOR}__start__"])
        out.append(f'{indent}{start} [label="start", shape=circle, fillcolor="#333333",'
                   ' fontcolor=white, width=0.6];')
        for step in module.steps:
            _, _, shape, fill = SHAPES[step.kind]
            style = ', style="filled,rounded"' if step.kind == "choice" else ""
            out.append(f"{indent}{_dot_text([f'{module.id}{SEPARATOR}{step.id}'])}"
                       f' [label={_dot_html(node_text(step))}, {shape}, fillcolor="{fill}"{style}];')
        out.append(f"{indent}{start} -> {_dot_text([f'{module.id}{SEPARATOR}{module.first_step}'])};")
        for arrow in arrows(module, labels):
            label = f" [label={_dot_text(arrow.lines())}]" if arrow.lines() else ""
            out.append(f"{indent}{_dot_text([arrow.source])} -> {_dot_text([arrow.dest])}{label};")
        if len(modules) > 1:
            out.append("  }")
    drawn = {m.id for m in modules}
    for module in modules:
        for step in module.steps:
            if isinstance(step, EndStep) and step.suggest in drawn and len(modules) > 1:
                target = _dot_text([f"{step.suggest}{SEPARATOR}__start__"])
                out.append(f"  {_dot_text([f'{module.id}{SEPARATOR}{step.id}'])} -> {target}"
                           ' [style=dashed, label="suggests"];')
    out.append("}")
    return "\n".join(out) + "\n"


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


def draw(modules: list[Module], fmt: str, labels: Labels | None = None) -> bytes:
    """The drawing of some modules in one of FORMATS, as bytes to write."""
    if fmt == "mermaid":
        return to_mermaid(modules, labels).encode("utf-8")
    source = to_dot(modules, labels)
    return source.encode("utf-8") if fmt == "dot" else render(source, fmt)
