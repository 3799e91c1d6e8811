"""The curriculum book as Markdown, one file per locale, its diagrams as Mermaid blocks.

What the book says is `bot.documents.book`'s; this module writes it as Markdown. Counselor
text keeps `**bold**` and `__italic__`; HTML and line-start markers are escaped so that a
message cannot turn into a heading, a quote or a list.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Sequence

from bot.documents.book import StepPage, anchor, book_modules, coaching_sections, crisis_sections, step_pages
from bot.documents.graph import Labels, answer_labels
from bot.documents.mermaid import to_mermaid
from state.curriculum.model import Curriculum, LocaleContent
from state.curriculum.schema import Module


def md_text(text: str) -> str:
    """Counselor text as Markdown: HTML and line-start markers escaped, light markup kept."""
    escaped = html.escape(text, quote=False).replace("|", "\\|")
    lines = [re.sub(r"^(\s*)([#>+=-]|\d+\.)", r"\1\\\2", line) for line in escaped.split("\n")]
    return "  \n".join(lines)


def _md_code(text: str) -> str:
    return html.escape(text, quote=False)


def _md_step(module: Module, page: StepPage) -> Iterator[str]:
    step = page.step
    yield f'<a id="{anchor(module.id, step.id)}"></a>\n#### `{step.id}` · {step.kind}\n'
    if page.reached_from:
        yield "_reached from: " + ", ".join(
            s if s.startswith("(") else f"[{s}](#{anchor(module.id, s)})"
            for s in page.reached_from) + "_\n"
    if page.texts:
        yield "\n>\n".join(f"> {md_text(t)}" for t in page.texts) + "\n"
    yield from (f"- {_md_code(f)}" for f in page.facts)
    for option in page.options:
        mark = "✔ **correct**: " if option.correct else ""
        where = f" → [`{option.target}`](#{anchor(module.id, option.target)})" if option.target else ""
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
    out.extend(f"{i}. [{md_text(m.title)}](#{anchor(m.id)})" for i, m in enumerate(modules, 1))
    n = len(modules)
    out += [f"{n + 1}. [Crisis words and messages](#crisis)", f"{n + 2}. [Rehearsal coaching](#coaching)",
            f"{n + 3}. [The bot's own words](#ui)", f"{n + 4}. [Sign-off](#signoff)\n"]
    for module in modules:
        out.extend(_md_module(content, module, labels))
    out.extend(_md_appendix(content))
    out += ['\n<a id="signoff"></a>\n## Sign-off\n',
            f"Reviewed content: version `{curriculum.version}`. Any change to the curriculum changes"
            " the version; review again before publishing it.\n",
            "| module | reviewer (name, role) | date | approved / changes needed | signature |",
            "| --- | --- | --- | --- | --- |"]
    out.extend(f"| {md_text(m.title)} | | | | |" for m in modules)
    return "\n".join(out) + "\n"


def _md_module(content: LocaleContent, module: Module, labels: Labels) -> Iterator[str]:
    requires = ", ".join(content.modules[r].title for r in module.requires) or "none"
    yield from (f'<a id="{anchor(module.id)}"></a>\n## {md_text(module.title)}\n',
                f"- id: `{module.id}`{' (onboarding)' if module.onboarding else ''}",
                f"- description: {md_text(module.description)}", f"- order: {module.order}",
                f"- requires: {md_text(requires)}", f"- about {module.minutes} minutes",
                f"- {len(module.steps)} steps, starting at `{module.first_step}`\n")
    for page in step_pages(module, labels):
        yield from _md_step(module, page)
    yield from (f"#### The flow of “{md_text(module.title)}”\n", "```mermaid",
                to_mermaid([module], labels).rstrip(), "```\n")


def _md_appendix(content: LocaleContent) -> Iterator[str]:
    assert content.locale is not None
    yield '<a id="crisis"></a>\n## Crisis words and messages\n'
    yield from _phrase_sections(crisis_sections(content.locale.crisis))
    yield ('<a id="coaching"></a>\n## Rehearsal coaching\n\nWhat a coached rehearsal looks for in'
           " what was typed, and what it says (coaching.yaml).\n")
    if content.coach is None:
        yield "This locale has no coaching.yaml: its rehearsals are not coached.\n"
    yield from _phrase_sections(coaching_sections(content.coach))
    yield from ('<a id="ui"></a>\n## The bot\'s own words\n', "| key | text |", "| --- | --- |")
    yield from (f"| `{key}` | {md_text(text)} |".replace("  \n", "<br>")
                for key, text in sorted(content.locale.ui.items()))


def _phrase_sections(sections: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> Iterator[str]:
    """Crisis pathways or coaching patterns: a heading, the phrases that find it, its texts."""
    for title, phrases, texts in sections:
        yield f"### {md_text(title)}\n"
        if phrases:
            yield ", ".join(f"`{p}`" for p in phrases) + "\n"
        if texts:
            yield "\n>\n".join(f"> {md_text(t)}" for t in texts) + "\n"
