"""`craftbot book`: the whole curriculum as one readable document, for clinical review.

For each locale it writes `curriculum-<locale>.html` (one self-contained, printable file)
and `curriculum-<locale>.md`. Both hold, module by module: the metadata, the flow diagram,
then every step in order with its kind, every message, every option and where it leads,
feedback, quiz answers (the correct one marked) with explanations, branch conditions in
words and homework; then the crisis message and the bot's own words, and a sign-off table.

Everything a counselor wrote is escaped; only `**bold**` and `__italic__` become markup, and
`{placeholders}` are shown as such. The diagram is inline SVG when Graphviz is installed,
else the Mermaid source (which GitHub and many Markdown viewers draw).
"""

from __future__ import annotations

import argparse
import datetime
import html
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.documents.graph import (
    GraphvizError,
    Labels,
    answer_labels,
    describe_conditions,
    graphviz_available,
    load_or_report,
    pick_locale,
    render,
    to_dot,
    to_mermaid,
)
from state.curriculum.markup import BOLD, ITALIC
from state.curriculum.model import Curriculum, LocaleContent
from state.curriculum.schema import (
    PLACEHOLDER,
    BranchStep,
    ChecklistStep,
    ChoiceStep,
    Crisis,
    EndStep,
    HomeworkStep,
    MessageStep,
    Module,
    QuizStep,
    ScaleStep,
    Step,
    Text,
    TextStep,
)
from state.engine.machine import SEPARATOR, module_edges

# -- what the book says about each step, independent of HTML or Markdown ---------------------


@dataclass
class Option:
    """One button, answer or case of a step, with where it leads and what follows it."""

    label: str
    target: str | None = None
    notes: list[str] = field(default_factory=list)  # plain facts: value saved, "correct" ...
    texts: list[str] = field(default_factory=list)  # counselor text: feedback, explanation
    correct: bool = False


@dataclass
class StepPage:
    """Everything a reviewer needs about one step."""

    step: Step
    texts: list[str]
    facts: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    reached_from: list[str] = field(default_factory=list)


def step_pages(module: Module, labels: Labels) -> list[StepPage]:
    """The module's steps in file order, each described for review."""
    sources: dict[str, list[str]] = {}
    for edge in module_edges(module):
        dest = edge.dest.split(SEPARATOR, 1)[1]
        source = edge.source.split(SEPARATOR, 1)[1]
        if source not in sources.setdefault(dest, []):
            sources[dest].append(source)
    pages = []
    for step in module.steps:
        page = StepPage(step, list(step.texts), reached_from=sources.get(step.id, []))
        if step.id == module.first_step:
            page.reached_from.insert(0, "(module start)")
        _describe(step, page, labels)
        pages.append(page)
    return pages


def _describe(step: Step, page: StepPage, labels: Labels) -> None:
    facts, options = page.facts, page.options
    if isinstance(step, MessageStep):
        options.append(Option(f"button “{step.button}”" if step.button else "continues by itself",
                              step.next))
    elif isinstance(step, ChoiceStep):
        if step.save:
            facts.append(f"saves the answer as `{step.save}`")
        for option in step.options:
            notes = []
            if step.save:
                value = option.value if option.value is not None else option.label
                notes.append(f"saves {step.save} = {value}")
            notes.extend(f"also saves {k} = {v}" for k, v in option.set.items())
            feedback = [option.feedback] if isinstance(option.feedback, str) else option.feedback or []
            options.append(Option(option.label, step.target(option), notes, list(feedback)))
    elif isinstance(step, TextStep):
        facts.append(f"the typed answer is saved as `{step.save}`"
                     + (" (sensitive: never repeated back in the chat)" if step.sensitive else ""))
        options.append(Option("after the answer", step.next))
    elif isinstance(step, ScaleStep):
        facts.append(f"a number from {step.min} ({step.min_label or '-'}) to {step.max}"
                     f" ({step.max_label or '-'}), saved as `{step.save}`")
        options.append(Option("after the number", step.next))
    elif isinstance(step, QuizStep):
        facts.append("a wrong answer is explained, then the question is asked again" if step.retry
                     else "any answer is explained, then the module goes on")
        if step.save:
            facts.append(f"whether the first answer was right is saved as `{step.save}`")
        for answer in step.options:
            explain = [answer.explain] if isinstance(answer.explain, str) else answer.explain
            options.append(Option(answer.label, None, [], list(explain), answer.correct))
        options.append(Option("after the right answer" if step.retry else "after any answer", step.next))
    elif isinstance(step, ChecklistStep):
        facts.append(f"ticked items are saved as a list in `{step.save}`"
                     + (f"; at least {step.min_selected} must be ticked" if step.min_selected else ""))
        options.extend(Option(item.label, None, [f"value {item.value}"] if item.value else [])
                       for item in step.options)
        options.append(Option(f"button “{step.done_label or 'Done'}”", step.next))
    elif isinstance(step, HomeworkStep):
        facts.append("becomes the family member's current homework (saved as `homework`)")
        if step.check_in_days:
            facts.append(f"the bot checks in after {step.check_in_days} day(s)")
        options.append(Option("continues by itself", step.next))
    elif isinstance(step, BranchStep):
        facts.append("shows nothing; the first case that holds decides where to go")
        options.extend(Option("if " + describe_conditions(case.conditions, labels), case.next)
                       for case in step.cases)
        options.append(Option("otherwise", step.otherwise))
    elif isinstance(step, EndStep):
        facts.append("ends the module: it counts as completed" if step.complete
                     else "an early exit: the module is not completed and starts afresh next time")
        if step.suggest:
            facts.append(f"offers the module `{step.suggest}` next")


# -- HTML --------------------------------------------------------------------------------------


def html_text(text: str) -> str:
    """Counselor text as HTML: escaped, light markup applied, placeholders highlighted."""
    escaped = html.escape(text, quote=True)
    escaped = BOLD.sub(r"<b>\1</b>", escaped)
    escaped = ITALIC.sub(r"<i>\1</i>", escaped)
    escaped = PLACEHOLDER.sub(r'<span class="ph">{\1}</span>', escaped)
    return escaped.replace("\n", "<br>")


def _code(text: str) -> str:
    """Plain facts with `key` spans as HTML."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=True))


def _anchor(module_id: str, step_id: str | None = None) -> str:
    return f"m-{module_id}" + (f"-{step_id}" if step_id else "")


def _link(module_id: str, step_id: str) -> str:
    return f'<a href="#{_anchor(module_id, step_id)}"><code>{html.escape(step_id)}</code></a>'


def _svg(module: Module, labels: Labels) -> str | None:
    """The module's diagram as inline SVG, or None without Graphviz."""
    if not graphviz_available():
        return None
    try:
        svg = render(to_dot([module], labels), "svg").decode("utf-8")
    except GraphvizError:
        return None
    return svg[svg.find("<svg"):]  # inline: without the XML prolog and doctype


STYLE = """
body { font: 15px/1.5 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #111;
       max-width: 58rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.8rem; margin-bottom: .2rem; } h2 { margin-top: 3rem; border-bottom: 2px solid #333; }
h3 { font-size: 1.05rem; margin: 0 0 .4rem; }
.meta, .facts { color: #444; } .meta td { padding: 0 1rem .2rem 0; vertical-align: top; }
.step { border: 1px solid #ccc; border-left: 6px solid #888; border-radius: 4px;
        padding: .6rem .9rem; margin: .8rem 0; break-inside: avoid; }
.kind { display: inline-block; font-size: .75rem; text-transform: uppercase; letter-spacing: .05em;
        padding: .05rem .45rem; border-radius: 3px; background: #eee; margin-right: .4rem; }
.k-message { border-left-color: #6a8fd8; } .k-choice { border-left-color: #e0a100; }
.k-text { border-left-color: #3c9a5f; } .k-scale { border-left-color: #2aa198; }
.k-quiz { border-left-color: #8e44ad; } .k-checklist { border-left-color: #d6336c; }
.k-homework { border-left-color: #e67e22; } .k-branch { border-left-color: #777; }
.k-end { border-left-color: #2e7d32; }
.msg { background: #f4f7fb; border-radius: 10px; padding: .35rem .7rem; margin: .3rem 0; }
.ph { background: #fff3bf; border-radius: 3px; padding: 0 .15rem; font-family: monospace; }
ul.opts { margin: .4rem 0 0; padding-left: 1.2rem; } ul.opts li { margin: .2rem 0; }
.correct { color: #1b5e20; font-weight: bold; } .note { color: #555; font-size: .9em; }
.fb { color: #333; font-style: italic; } .from { color: #666; font-size: .85em; }
.diagram { max-height: 85vh; overflow: auto; border: 1px solid #ddd; border-radius: 4px;
           margin: 1rem 0; text-align: center; }
.diagram svg { max-width: 100%; height: auto; } pre.mermaid { font-size: .75rem; overflow-x: auto;
        background: #f6f6f6; padding: .6rem; }
table.signoff { border-collapse: collapse; width: 100%; } table.signoff td, table.signoff th
        { border: 1px solid #999; padding: .5rem; text-align: left; } table.signoff td { height: 1.6rem; }
nav ol { columns: 2; } code { font-size: .9em; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 11pt; }
  h2 { break-before: page; } nav h2 { break-before: avoid; } .signoff-section { break-before: page; }
  a { color: inherit; text-decoration: none; }
  .diagram { max-height: none; overflow: visible; border: 0; break-before: page; }
  .diagram svg { max-height: 24.5cm; width: auto; }
}
"""


def _step_html(module: Module, page: StepPage) -> Iterator[str]:
    step = page.step
    yield (f'<section class="step k-{step.kind}" id="{_anchor(module.id, step.id)}">'
           f'<h3><span class="kind">{step.kind}</span><code>{html.escape(step.id)}</code></h3>')
    if page.reached_from:
        yield ('<div class="from">reached from: ' + ", ".join(
            html.escape(s) if s.startswith("(") else _link(module.id, s) for s in page.reached_from)
            + "</div>")
    yield from (f'<div class="msg">{html_text(t)}</div>' for t in page.texts)
    if page.facts:
        yield '<div class="facts">' + "; ".join(_code(f) for f in page.facts) + "</div>"
    if page.options:
        yield '<ul class="opts">'
        for option in page.options:
            label = (html_text(option.label) if step.kind in ("choice", "quiz", "checklist")
                     else _code(option.label))
            mark = '<span class="correct">✔ correct</span> ' if option.correct else ""
            where = f" → {_link(module.id, option.target)}" if option.target else ""
            notes = "".join(f' <span class="note">({_code(n)})</span>' for n in option.notes)
            texts = "".join(f'<div class="fb">{html_text(t)}</div>' for t in option.texts)
            yield f"<li>{mark}{label}{where}{notes}{texts}</li>"
        yield "</ul>"
    yield "</section>"


def _module_html(content: LocaleContent, module: Module, labels: Labels) -> Iterator[str]:
    requires = ", ".join(content.modules[r].title for r in module.requires) or "none"
    yield f'<h2 id="{_anchor(module.id)}">{html.escape(module.title)}</h2>'
    yield '<table class="meta">'
    rows = [("id", f"<code>{html.escape(module.id)}</code>"
             + (" (onboarding)" if module.onboarding else "")),
            ("description", html.escape(module.description)), ("order", str(module.order)),
            ("requires", html.escape(requires)), ("about", f"{module.minutes} minutes"),
            ("steps", f"{len(module.steps)}, starting at {_link(module.id, module.first_step)}")]
    yield from (f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    yield "</table>"
    yield f'<p><a href="#{_anchor(module.id)}-flow">The flow diagram</a> follows the steps.</p>'
    for page in step_pages(module, labels):
        yield from _step_html(module, page)
    svg = _svg(module, labels)
    drawing = svg if svg is not None else (
        f'<pre class="mermaid">{html.escape(to_mermaid([module], labels))}</pre>')
    yield (f'<div class="diagram" id="{_anchor(module.id)}-flow"><h3>The flow of'
           f" “{html.escape(module.title)}”</h3>{drawing}</div>")


def book_modules(content: LocaleContent) -> list[Module]:
    """The modules in reading order: onboarding first, then the path."""
    return [content.onboarding, *content.path_modules]


def book_html(curriculum: Curriculum, content: LocaleContent, generated: str) -> str:
    """The book of one locale as a single HTML page."""
    assert content.locale is not None
    labels = answer_labels(content)
    modules = book_modules(content)
    title = f"craftbot curriculum: {content.locale.name} ({content.code})"
    out = [f'<!DOCTYPE html>\n<html lang="{html.escape(content.code)}"><head><meta charset="utf-8">'
           f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
           f"<h1>{html.escape(title)}</h1>",
           f'<p class="meta">Version <code>{curriculum.version}</code> · generated {generated} ·'
           f" {len(modules)} modules, {sum(len(m.steps) for m in modules)} steps. For clinical review:"
           " every message, option, answer and branch, in the order the bot uses them.</p>",
           "<nav><h2>Contents</h2><ol>"]
    out.extend(f'<li><a href="#{_anchor(m.id)}">{html.escape(m.title)}</a></li>' for m in modules)
    out.append('<li><a href="#crisis">Crisis words and messages</a></li><li><a href="#ui">The bot\'s own'
               ' words</a></li><li><a href="#signoff">Sign-off</a></li></ol></nav>')
    for module in modules:
        out.extend(_module_html(content, module, labels))
    out.extend(_appendix_html(content))
    out.extend(_signoff_html(curriculum, modules))
    out.append("</body></html>\n")
    return "\n".join(out)


def crisis_sections(crisis: Crisis) -> list[tuple[str, list[str], list[str]]]:
    """The crisis words and messages to review: (title, phrases, messages) per part."""
    def texts(text: Text) -> list[str]:
        return [text] if isinstance(text, str) else list(text)

    sections = [(f"Pathway “{name}”", list(p.phrases), texts(p.message))
                for name, p in crisis.pathways.items()]
    sections += [(f"Kind “{name}” (opens “{kind.pathway}”): {tier}", list(phrases), [])
                 for name, kind in crisis.kinds.items()
                 for tier, phrases in (("interrupt", kind.interrupt), ("ask first", kind.ask)) if phrases]
    sections += [(f"Word list “{name}”", list(words), []) for name, words in crisis.words.items()]
    sections += [(f"Context: {name}", list(getattr(crisis.context, name)), [])
                 for name in type(crisis.context).model_fields if getattr(crisis.context, name)]
    sections.append(("Crisis words" if crisis.phrases else "The message /safety shows",
                     list(crisis.phrases), texts(crisis.message)))
    if crisis.exclusions:
        sections.append(("Phrases that cancel a match", list(crisis.exclusions), []))
    for title, text in (("Overdose steps", crisis.overdose_steps), ("Grounding", crisis.grounding)):
        if texts(text):
            sections.append((title, [], texts(text)))
    if crisis.safety_plan:
        sections.append(("Safety plan", [], [f"{k}: {v}" for k, v in crisis.safety_plan.items()]))
    return sections


def _appendix_html(content: LocaleContent) -> Iterator[str]:
    assert content.locale is not None
    yield ('<h2 id="crisis">Crisis words and messages</h2><p>A typed message containing one of'
           " a pathway's phrases interrupts any step with that pathway's message.</p>")
    for title, phrases, texts in crisis_sections(content.locale.crisis):
        yield f"<h3>{html.escape(title)}</h3>"
        if phrases:
            yield "<p>" + ", ".join(f"<code>{html.escape(p)}</code>" for p in phrases) + "</p>"
        yield from (f'<div class="msg">{html_text(t)}</div>' for t in texts)
    yield '<h2 id="ui">The bot\'s own words</h2><table class="signoff"><tr><th>key</th><th>text</th></tr>'
    yield from (f"<tr><td><code>{html.escape(k)}</code></td><td>{html_text(v)}</td></tr>"
                for k, v in sorted(content.locale.ui.items()))
    yield "</table>"


def _signoff_html(curriculum: Curriculum, modules: list[Module]) -> Iterator[str]:
    yield ('<section class="signoff-section"><h2 id="signoff">Sign-off</h2>'
           f"<p>Reviewed content: version <code>{curriculum.version}</code>. Any change to the"
           " curriculum changes the version; review again before publishing it.</p>"
           '<table class="signoff"><tr><th>module</th><th>reviewer (name, role)</th><th>date</th>'
           "<th>approved / changes needed</th><th>signature</th></tr>")
    yield from (f"<tr><td>{html.escape(m.title)}</td><td></td><td></td><td></td><td></td></tr>"
                for m in modules)
    yield "</table></section>"


# -- Markdown ----------------------------------------------------------------------------------


def md_text(text: str) -> str:
    """Counselor text as Markdown: HTML and line-start markers escaped, light markup kept."""
    escaped = html.escape(text, quote=False).replace("|", "\\|")
    lines = [re.sub(r"^(\s*)([#>+=-]|\d+\.)", r"\1\\\2", line) for line in escaped.split("\n")]
    return "  \n".join(lines)


def _md_code(text: str) -> str:
    return html.escape(text, quote=False)


def _md_step(module: Module, page: StepPage) -> Iterator[str]:
    step = page.step
    yield f'<a id="{_anchor(module.id, step.id)}"></a>\n#### `{step.id}` · {step.kind}\n'
    if page.reached_from:
        yield "_reached from: " + ", ".join(
            s if s.startswith("(") else f"[{s}](#{_anchor(module.id, s)})"
            for s in page.reached_from) + "_\n"
    if page.texts:
        yield "\n>\n".join(f"> {md_text(t)}" for t in page.texts) + "\n"
    yield from (f"- {_md_code(f)}" for f in page.facts)
    for option in page.options:
        mark = "✔ **correct**: " if option.correct else ""
        where = f" → [`{option.target}`](#{_anchor(module.id, option.target)})" if option.target else ""
        notes = "".join(f" ({_md_code(n)})" for n in option.notes)
        label = md_text(option.label) if step.kind in ("choice", "quiz", "checklist") else option.label
        yield f"- {mark}{label}{where}{notes}"
        yield from (f"  - _{md_text(t)}_" for t in option.texts)
    yield ""


def book_markdown(curriculum: Curriculum, content: LocaleContent, generated: str) -> str:
    """The book of one locale as Markdown (diagrams as Mermaid blocks)."""
    assert content.locale is not None
    labels = answer_labels(content)
    modules = book_modules(content)
    out = [f"# craftbot curriculum: {content.locale.name} ({content.code})\n",
           f"Version `{curriculum.version}` · generated {generated} · {len(modules)} modules,"
           f" {sum(len(m.steps) for m in modules)} steps.\n", "## Contents\n"]
    out.extend(f"{i}. [{md_text(m.title)}](#{_anchor(m.id)})" for i, m in enumerate(modules, 1))
    n = len(modules)
    out += [f"{n + 1}. [Crisis words and messages](#crisis)", f"{n + 2}. [The bot's own words](#ui)",
            f"{n + 3}. [Sign-off](#signoff)\n"]
    for module in modules:
        requires = ", ".join(content.modules[r].title for r in module.requires) or "none"
        out += [f'<a id="{_anchor(module.id)}"></a>\n## {md_text(module.title)}\n',
                f"- id: `{module.id}`{' (onboarding)' if module.onboarding else ''}",
                f"- description: {md_text(module.description)}", f"- order: {module.order}",
                f"- requires: {md_text(requires)}", f"- about {module.minutes} minutes",
                f"- {len(module.steps)} steps, starting at `{module.first_step}`\n"]
        for page in step_pages(module, labels):
            out.extend(_md_step(module, page))
        out += [f"#### The flow of “{md_text(module.title)}”\n", "```mermaid",
                to_mermaid([module], labels).rstrip(), "```\n"]
    out.append('<a id="crisis"></a>\n## Crisis words and messages\n')
    for title, phrases, texts in crisis_sections(content.locale.crisis):
        out.append(f"### {md_text(title)}\n")
        if phrases:
            out.append(", ".join(f"`{p}`" for p in phrases) + "\n")
        if texts:
            out.append("\n>\n".join(f"> {md_text(t)}" for t in texts) + "\n")
    out += ['<a id="ui"></a>\n## The bot\'s own words\n', "| key | text |", "| --- | --- |"]
    out.extend(f"| `{key}` | {md_text(text)} |".replace("  \n", "<br>")
               for key, text in sorted(content.locale.ui.items()))
    out += ['\n<a id="signoff"></a>\n## Sign-off\n',
            f"Reviewed content: version `{curriculum.version}`. Any change to the curriculum changes"
            " the version; review again before publishing it.\n",
            "| module | reviewer (name, role) | date | approved / changes needed | signature |",
            "| --- | --- | --- | --- | --- |"]
    out.extend(f"| {md_text(m.title)} | | | | |" for m in modules)
    return "\n".join(out) + "\n"


# -- the command -------------------------------------------------------------------------------


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot book` on the `craftbot` parser."""
    book = sub.add_parser("book", help="write the curriculum as a printable HTML and Markdown book",
                          description="Write curriculum-<locale>.html and .md: every message, option,"
                          " quiz answer and branch, with diagrams, a contents list and a sign-off table.")
    book.add_argument("--out", type=Path, required=True, help="folder to write the book into")
    book.add_argument("--curriculum", type=Path, default=None, help="curriculum folder")
    book.add_argument("--locale", help="only this locale (default: every locale)")


def cmd_book(args: argparse.Namespace, default_curriculum: Path) -> int:
    """Write the book of each locale; print the files written."""
    curriculum = load_or_report(args.curriculum or default_curriculum)
    if curriculum is None:
        return 1
    codes = sorted(curriculum.locales)
    if args.locale:
        if pick_locale(curriculum, args.locale) is None:
            return 1
        codes = [args.locale]
    if not graphviz_available():
        print("craftbot: Graphviz is not installed, so diagrams are shown as Mermaid source"
              " (install graphviz to draw them into the HTML)", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    generated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    for code in codes:
        content = curriculum.locales[code]
        for suffix, text in (("html", book_html(curriculum, content, generated)),
                             ("md", book_markdown(curriculum, content, generated))):
            path = args.out / f"curriculum-{code}.{suffix}"
            path.write_text(text, encoding="utf-8")
            print(path)
    return 0
