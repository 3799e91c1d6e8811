"""The curriculum book as one self-contained, printable HTML page per locale.

What the book says is `bot.documents.book`'s; this module writes it as HTML. Everything a
counselor wrote is escaped; only `**bold**` and `__italic__` become markup, and
`{placeholders}` are highlighted. The diagram is inline SVG when Graphviz is installed,
else the Mermaid source in a `<pre class="mermaid">`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Sequence

from bot.documents.book import StepPage, anchor, book_modules, coaching_sections, crisis_sections, step_pages
from bot.documents.dot import GraphvizError, graphviz_available, render, to_dot
from bot.documents.graph import Labels, answer_labels
from bot.documents.mermaid import to_mermaid
from state.curriculum.markup import BOLD, ITALIC
from state.curriculum.model import Curriculum, LocaleContent
from state.curriculum.schema import PLACEHOLDER, Module


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


def _link(module_id: str, step_id: str) -> str:
    return f'<a href="#{anchor(module_id, step_id)}"><code>{html.escape(step_id)}</code></a>'


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
    yield (f'<section class="step k-{step.kind}" id="{anchor(module.id, step.id)}">'
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
    yield f'<h2 id="{anchor(module.id)}">{html.escape(module.title)}</h2>'
    yield '<table class="meta">'
    rows = [("id", f"<code>{html.escape(module.id)}</code>"
             + (" (onboarding)" if module.onboarding else "")),
            ("description", html.escape(module.description)), ("order", str(module.order)),
            ("requires", html.escape(requires)), ("about", f"{module.minutes} minutes"),
            ("steps", f"{len(module.steps)}, starting at {_link(module.id, module.first_step)}")]
    yield from (f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    yield "</table>"
    yield f'<p><a href="#{anchor(module.id)}-flow">The flow diagram</a> follows the steps.</p>'
    for page in step_pages(module, labels):
        yield from _step_html(module, page)
    svg = _svg(module, labels)
    drawing = svg if svg is not None else (
        f'<pre class="mermaid">{html.escape(to_mermaid([module], labels))}</pre>')
    yield (f'<div class="diagram" id="{anchor(module.id)}-flow"><h3>The flow of'
           f" “{html.escape(module.title)}”</h3>{drawing}</div>")


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
    out.extend(f'<li><a href="#{anchor(m.id)}">{html.escape(m.title)}</a></li>' for m in modules)
    out.append('<li><a href="#crisis">Crisis words and messages</a></li><li><a href="#coaching">Rehearsal'
               ' coaching</a></li><li><a href="#ui">The bot\'s own words</a></li><li><a href="#signoff">'
               'Sign-off</a></li></ol></nav>')
    for module in modules:
        out.extend(_module_html(content, module, labels))
    out.extend(_appendix_html(content))
    out.extend(_signoff_html(curriculum, modules))
    out.append("</body></html>\n")
    return "\n".join(out)


def _appendix_html(content: LocaleContent) -> Iterator[str]:
    assert content.locale is not None
    yield ('<h2 id="crisis">Crisis words and messages</h2><p>A typed message containing one of'
           " a pathway's phrases interrupts any step with that pathway's message.</p>")
    yield from _phrase_sections(crisis_sections(content.locale.crisis))
    yield ('<h2 id="coaching">Rehearsal coaching</h2><p>What a coached rehearsal looks for in what'
           " was typed, and what it says (coaching.yaml).</p>")
    if content.coach is None:
        yield "<p>This locale has no coaching.yaml: its rehearsals are not coached.</p>"
    yield from _phrase_sections(coaching_sections(content.coach))
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


def _phrase_sections(sections: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> Iterator[str]:
    """Crisis pathways or coaching patterns: a heading, the phrases that find it, its texts."""
    for title, phrases, texts in sections:
        yield f"<h3>{html.escape(title)}</h3>"
        if phrases:
            yield "<p>" + ", ".join(f"<code>{html.escape(p)}</code>" for p in phrases) + "</p>"
        yield from (f'<div class="msg">{html_text(t)}</div>' for t in texts)
