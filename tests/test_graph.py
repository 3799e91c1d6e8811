"""`craftbot graph` through the real command: drawn from the machine the bot runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from state.curriculum.loader import load_curriculum
from state.engine.engine import Engine
from state.engine.machine import state_name
from tests.kit.cli import craftbot

REPO = Path(__file__).parent.parent
SAMPLE = Path(__file__).parent / "curriculum"
BUNDLED = REPO / "curriculum"
HAS_DOT = shutil.which("dot") is not None


def dot_arrows(dot: str) -> set[tuple[str, str]]:
    """The (source, dest) pairs of a DOT graph's solid arrows between steps."""
    pairs = re.findall(r'^\s*"([^"]+)" -> "([^"]+)"(?! \[style=dashed)', dot, flags=re.M)
    return {(a, b) for a, b in pairs if "__start__" not in a}


def test_mermaid_shows_kinds_option_labels_and_branch_conditions() -> None:
    result = craftbot("graph", "basics", "--curriculum", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("flowchart TD")
    assert '{{"quiz · quiz<br/>When is the best time to talk?"}}' in out  # quiz: a hexagon
    assert '{"branch · route"}' in out  # branch: a rhombus
    assert '([\"end · end<br/>' in out  # end: a stadium
    assert '[/"text · trigger<br/>' in out
    assert '|"I\'d love your help"|' in out and '|"You never help"|' in out  # option labels
    assert '|"if relationship is partner (“My partner”)"|' in out.replace("<br/>", " ")  # in words
    assert '|"otherwise"|' in out
    # every step is drawn, and every step kind of the sample has its style
    for step in ("intro", "mood", "pick", "trigger", "quiz", "shield", "route", "homework", "end"):
        assert f" · {step}" in out
    for kind in ("message", "choice", "text", "scale", "quiz", "checklist", "homework", "branch", "end"):
        assert f"classDef kind_{kind} fill:" in out and re.search(rf"^  class [\w,]+ kind_{kind}$", out, re.M)


def test_the_arrows_are_the_state_machine_transitions_of_every_bundled_module(tmp_path: Path) -> None:
    result = craftbot("graph", "--format", "dot", "--out", str(tmp_path / "dots"))
    assert result.returncode == 0, result.stderr
    content = load_curriculum(BUNDLED).locales["en"]
    machine = Engine(load_curriculum(BUNDLED)).machines["en"].machine
    assert sorted(p.stem for p in (tmp_path / "dots").glob("*.dot")) == sorted(content.modules)
    for module in content.modules.values():
        drawn = dot_arrows((tmp_path / "dots" / f"{module.id}.dot").read_text())
        states = {state_name(module.id, s.id) for s in module.steps}
        expected = {(t.source, t.dest) for event in machine.events.values()
                    for source, transitions in event.transitions.items() if source in states
                    for t in transitions}
        assert drawn == expected, module.id


def test_all_modules_in_one_mermaid_chart_as_subgraphs() -> None:
    result = craftbot("graph", "--curriculum", str(SAMPLE))
    assert result.returncode == 0
    assert result.stdout.count("  subgraph ") == 3
    assert '["Basics"]' in result.stdout and '["Next steps"]' in result.stdout


def test_counselor_text_cannot_break_the_mermaid_source(tmp_path: Path) -> None:
    copy = tmp_path / "cur"
    shutil.copytree(SAMPLE, copy)
    basics = copy / "en" / "basics.yaml"
    basics.write_text(basics.read_text().replace(
        '"How stressed are you today?"', '"Rate it: <b>#1</b> is \\"calm\\"; end"'))
    result = craftbot("graph", "basics", "--curriculum", str(copy))
    assert result.returncode == 0, result.stderr
    drawn = result.stdout.replace("<br/>", " ")
    assert "Rate it: #lt;b#gt;#35;1#lt;/b#gt; is #quot;calm#quot;; end" in drawn
    assert "<b>" not in drawn


def test_an_unknown_module_names_the_closest_one() -> None:
    result = craftbot("graph", "basic", "--curriculum", str(SAMPLE))
    assert result.returncode == 1
    assert "no module 'basic'" in result.stderr and "Did you mean 'basics'?" in result.stderr


def test_without_graphviz_png_explains_and_mermaid_still_works(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}  # no `dot` on this PATH
    result = craftbot("graph", "basics", "--curriculum", str(SAMPLE), "--format", "png",
                      "--out", str(tmp_path / "b.png"), env=env)
    assert result.returncode == 2
    assert "needs Graphviz's `dot` program" in result.stderr and "apt-get install graphviz" in result.stderr
    assert "--format mermaid" in result.stderr
    assert not (tmp_path / "b.png").exists()
    assert craftbot("graph", "basics", "--curriculum", str(SAMPLE), env=env).returncode == 0


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz is not installed")
def test_png_and_svg_with_graphviz(tmp_path: Path) -> None:
    result = craftbot("graph", "safety", "--format", "png", "--out", str(tmp_path / "safety.png"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "safety.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    result = craftbot("graph", "basics", "--curriculum", str(SAMPLE), "--format", "svg")
    assert result.returncode == 0
    assert "<svg" in result.stdout and "quiz</text>" in result.stdout.replace("<text", "\n<text")
    assert "I&#39;d love your help" in result.stdout or "I'd love your help" in result.stdout
    assert craftbot("graph", "basics", "--curriculum", str(SAMPLE), "--format", "png").returncode == 2


def test_every_module_as_png_needs_a_folder(tmp_path: Path) -> None:
    result = craftbot("graph", "--format", "png", "--out", str(tmp_path / "all.png"))
    assert result.returncode == 2 and "give a MODULE, or --out FOLDER" in result.stderr
    assert not (tmp_path / "all.png").exists()
    if HAS_DOT:
        assert craftbot("graph", "--curriculum", str(SAMPLE), "--format", "png",
                        "--out", str(tmp_path / "flows")).returncode == 0
        assert sorted(p.name for p in (tmp_path / "flows").iterdir()) == [
            "basics.png", "next.png", "onboarding.png"]


def test_a_curriculum_without_english_is_drawn_and_written_as_a_book(tmp_path: Path) -> None:
    folder = tmp_path / "curriculum"
    shutil.copytree(SAMPLE / "en", folder / "es")
    locale = folder / "es" / "locale.yaml"
    locale.write_text(locale.read_text(encoding="utf-8").replace("locale: en", "locale: es"),
                      encoding="utf-8")
    drawn = craftbot("graph", "basics", "--curriculum", folder)
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout.startswith("flowchart TD")
    book = craftbot("book", "--out", tmp_path / "book", "--curriculum", folder)
    assert book.returncode == 0, book.stderr
    assert (tmp_path / "book" / "curriculum-es.html").exists()
