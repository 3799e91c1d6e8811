"""`craftbot book` through the real command: the curriculum as a document for clinical review."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from state.curriculum.loader import load_curriculum
from tests.kit.cli import craftbot

REPO = Path(__file__).parent.parent
SAMPLE = Path(__file__).parent / "curriculum"
BUNDLED = REPO / "curriculum"
HAS_DOT = shutil.which("dot") is not None


class Tags(HTMLParser):
    """Collects start tags and checks that sections and lists are closed."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.ids: set[str] = set()
        self.links: set[str] = set()
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "a" and str(found.get("href", "")).startswith("#"):
            self.links.add(str(found["href"])[1:])
        self.scripts += tag == "script"
        if tag in ("section", "ul", "table", "div"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("section", "ul", "table", "div"):
            assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"


def book(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[str, str, str]:
    result = craftbot("book", "--out", str(tmp_path / "book"), *args, env=env)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "book" / "curriculum-en.html").read_text()
    markdown = (tmp_path / "book" / "curriculum-en.md").read_text()
    return html, markdown, result.stderr


def test_the_sample_book_holds_every_step_option_answer_and_branch(tmp_path: Path) -> None:
    html, markdown, _ = book(tmp_path, "--curriculum", str(SAMPLE))
    parser = Tags()
    parser.feed(html)
    assert parser.open == [] and parser.scripts == 0
    assert parser.links <= parser.ids  # every "leads to" and contents link has its target
    for module in ("onboarding", "basics", "next"):
        assert f'<li><a href="#m-{module}">' in html  # the table of contents
    assert html.count('<section class="step') == 14 + 11 + 4
    # a quiz: the correct answer marked, each explanation shown
    quiz = html[html.index('id="m-basics-quiz"'):html.index('id="m-basics-shield"')]
    assert '<span class="correct">✔ correct</span> When they are sober and calm' in quiz
    assert "Not then: talks go badly while someone is using." in quiz
    assert "While they are drunk" in quiz and quiz.count("✔ correct") == 1
    # a choice: each option, where it leads, its feedback and what it saves
    pick = html[html.index('id="m-basics-pick"'):html.index('id="m-basics-trigger"')]
    assert 'I&#x27;d love your help → <a href="#m-basics-trigger">' in pick
    assert "Yes: positive and specific." in pick and "also saves tone_ok = yes" in pick
    # a branch in words, with the button label behind the value
    assert "if relationship is partner (“My partner”) →" in html
    assert "the bot checks in after 2 day(s)" in html  # homework
    assert 'Welcome to the basics, about <span class="ph">{loved_one}</span>.' in html
    # the sign-off table names every module and the version reviewed
    signoff = html[html.index('id="signoff"'):]
    assert all(f"<tr><td>{t}</td>" in signoff for t in ("Getting started", "Basics", "Next steps"))
    version = load_curriculum(SAMPLE).version
    assert f"version <code>{version}</code>" in signoff
    # the same content as Markdown, the diagrams as Mermaid blocks
    assert markdown.count("```mermaid") == 3
    assert "- ✔ **correct**: When they are sober and calm" in markdown
    assert "| Basics | | | | |" in markdown
    assert "#### `route` · branch" in markdown


def test_everything_a_counselor_wrote_is_escaped(tmp_path: Path) -> None:
    copy = tmp_path / "cur"
    shutil.copytree(SAMPLE, copy)
    basics = copy / "en" / "basics.yaml"
    basics.write_text(basics.read_text()
                      .replace('"That one can sound like blame."', '"<script>alert(1)</script> blame"')
                      .replace('label: "Paid a bill for them"', 'label: "Paid <img src=x> | bills"'))
    html, markdown, _ = book(tmp_path, "--curriculum", str(copy))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; blame" in html
    assert "<img" not in html and "Paid &lt;img src=x&gt; | bills" in html
    assert "<script>" not in markdown and "&lt;script&gt;alert(1)&lt;/script&gt; blame" in markdown
    assert "Paid &lt;img src=x&gt; \\| bills" in markdown


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz is not installed")
def test_with_graphviz_the_diagrams_are_inline_svg(tmp_path: Path) -> None:
    html, _, _ = book(tmp_path, "--curriculum", str(SAMPLE))
    assert html.count("<svg") == 3 and '<pre class="mermaid">' not in html
    assert "<?xml" not in html


def test_without_graphviz_the_diagrams_are_mermaid_source(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    html, _, stderr = book(tmp_path, "--curriculum", str(SAMPLE), env=env)
    assert "<svg" not in html and html.count('<pre class="mermaid">flowchart TD') == 3
    assert "Graphviz is not installed" in stderr


def test_the_bundled_book_covers_every_module_and_step(tmp_path: Path) -> None:
    html, markdown, _ = book(tmp_path)
    content = load_curriculum(BUNDLED).locales["en"]
    for module in content.modules.values():
        assert f'<h2 id="m-{module.id}">' in html
        for step in module.steps:
            assert f'id="m-{module.id}-{step.id}"' in html
            assert f'<a id="m-{module.id}-{step.id}"></a>' in markdown
    steps = sum(len(m.steps) for m in content.modules.values())
    assert html.count('<section class="step') == steps
    crisis = html[html.index('id="crisis"'):html.index('id="ui"')]  # crisis words are reviewed too
    for name in content.locale.crisis.pathways:  # type: ignore[union-attr]
        assert f"<h3>Pathway “{name}”</h3>" in crisis
    for kind in content.locale.crisis.kinds.values():  # type: ignore[union-attr]
        assert f"<code>{kind.interrupt[0]}</code>" in crisis.replace("&#x27;", "'")
    assert re.search(r"<tr><td>Safety at home</td>(<td></td>){4}</tr>", html)


def test_an_unknown_locale_is_refused(tmp_path: Path) -> None:
    result = craftbot("book", "--out", str(tmp_path), "--locale", "xx")
    assert result.returncode == 1 and "no locale 'xx'" in result.stderr
