"""`craftbot test-curriculum` through the real command: transcript tests beside a curriculum."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from state.curriculum.loader import load_curriculum
from tests.kit.cli import craftbot

REPO = Path(__file__).parent.parent
SAMPLE = Path(__file__).parent / "curriculum"
BUNDLED = REPO / "curriculum"


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the sample curriculum, without its transcript tests."""
    copy = tmp_path / "cur"
    shutil.copytree(SAMPLE, copy)
    shutil.rmtree(copy / "en" / "tests")
    (copy / "en" / "tests").mkdir()
    return copy


def write(curriculum: Path, text: str) -> Path:
    file = curriculum / "en" / "tests" / "walk.yaml"
    file.write_text(text)
    return file


WALK = """\
- name: the scale and the choice
  start: basics:mood
  profile: {relationship: partner, loved_one: Robin}
  turns:
    - expect: ["How stressed are you today?"]
    - say: "7"
      saved: {stress: 7}
      expect: ["Which sounds kinder?"]
    - press: "I'd love your help"
      saved: {tone: kind}
      expect: ["When does Robin usually use?"]
      at: basics:trigger
"""


def test_the_sample_transcripts_pass() -> None:
    result = craftbot("test-curriculum", "--curriculum", str(SAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: 4 conversation(s)" in result.stdout
    assert "no transcript reaches" not in result.stdout


def test_the_bundled_transcripts_pass_and_reach_every_module() -> None:
    result = craftbot("test-curriculum")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no transcript reaches" not in result.stdout
    files = {p.stem for p in (BUNDLED / "en" / "tests").glob("*.yaml")}
    assert files >= set(load_curriculum(BUNDLED).locales["en"].modules)  # one file per module


def test_a_passing_walk_then_a_wrong_expectation_reported_at_its_line(sample: Path) -> None:
    write(sample, WALK)
    assert craftbot("test-curriculum", "--curriculum", str(sample)).returncode == 0
    file = write(sample, WALK.replace('["Which sounds kinder?"]', '["Which sounds nicer?"]'))
    result = craftbot("test-curriculum", "--curriculum", str(sample), cwd=sample.parent)
    assert result.returncode == 1
    assert "cur/en/tests/walk.yaml:8: the scale and the choice: the reply does not contain" \
           " the expected text" in result.stdout
    assert 'expected: "Which sounds nicer?"' in result.stdout
    assert 'closest:  "Which sounds kinder?"' in result.stdout
    assert "the bot said:\n    | Which sounds kinder?\n    |   [You never help]" in result.stdout
    assert "FAILED: 1 of 1 conversation(s)" in result.stderr
    assert file.exists()


def test_saved_answers_and_position_are_checked(sample: Path) -> None:
    write(sample, WALK.replace("saved: {stress: 7}", "saved: {stress: 8}")
          .replace("at: basics:trigger", "at: basics:quiz"))
    result = craftbot("test-curriculum", "--curriculum", str(sample), cwd=sample.parent)
    assert result.returncode == 1
    assert "walk.yaml:7: the scale and the choice: saved stress: expected 8, but 7 is saved" in result.stdout
    # the conversation stops at its first failing turn: the later `at:` is not reached
    assert "expected to be at" not in result.stdout
    write(sample, WALK.replace("at: basics:trigger", "at: basics:quiz"))
    result = craftbot("test-curriculum", "--curriculum", str(sample), cwd=sample.parent)
    assert "walk.yaml:12: the scale and the choice: expected to be at basics:quiz, but the user is" \
           " at basics:trigger" in result.stdout


def test_a_button_that_is_not_there(sample: Path) -> None:
    write(sample, WALK.replace('press: "I\'d love your help"', 'press: "Be kind"'))
    result = craftbot("test-curriculum", "--curriculum", str(sample), cwd=sample.parent)
    assert result.returncode == 1
    assert 'walk.yaml:9: the scale and the choice: there is no button "Be kind" to press' in result.stdout
    assert "the buttons are: [You never help] [I'd love your help]" in result.stdout


def test_expect_not_and_a_brand_new_user(sample: Path) -> None:
    write(sample, """\
- name: onboarding as a parent
  turns:
    - press: "Yes, let's start"
    - say: "Jo"
    - press: "My child"
      expect_not: ["Who is Jo to you?"]
""")
    result = craftbot("test-curriculum", "--curriculum", str(sample), cwd=sample.parent)
    assert result.returncode == 0, result.stdout
    write(sample, """\
- name: onboarding as a parent
  turns:
    - press: "Yes, let's start"
    - say: "Jo"
      expect_not: ["Who is Jo to you?"]
""")
    result = craftbot("test-curriculum", "--curriculum", str(sample), cwd=sample.parent)
    assert result.returncode == 1
    assert 'walk.yaml:5: onboarding as a parent: the reply contains "Who is Jo to you?", which it' \
           " must not" in result.stdout


def test_mistakes_in_a_transcript_file_are_reported_like_curriculum_errors(sample: Path) -> None:
    write(sample, """\
- name: typo
  start: basics
  turns:
    - expcet: ["Welcome"]
    - say: "hi"
      press: "Ready"
- name: no such start
  start: basics:nowhere
  turns:
    - expect: ["x"]
""")
    result = craftbot("test-curriculum", "--curriculum", str(sample), cwd=sample.parent)
    assert result.returncode == 1
    assert "walk.yaml:4:7: error: unknown key 'expcet'; did you mean 'expect'?" in result.stdout
    assert "walk.yaml:5:7: error: a turn does one thing: say:, press: or command: (found say, press)" \
           in result.stdout
    assert "walk.yaml:7: no such start: module 'basics' has no step 'nowhere'" in result.stdout


def test_an_edit_to_the_curriculum_that_breaks_a_path_is_caught(sample: Path) -> None:
    write(sample, WALK)
    basics = sample / "en" / "basics.yaml"
    basics.write_text(basics.read_text().replace("next: trigger", "next: quiz"))
    result = craftbot("test-curriculum", "--curriculum", str(sample), cwd=sample.parent)
    assert result.returncode == 1
    assert "walk.yaml:11: the scale and the choice: the reply does not contain the expected text" \
           in result.stdout
    assert "When is the best time to talk?" in result.stdout  # what the bot said instead


def test_an_invalid_curriculum_is_reported_before_any_transcript(sample: Path) -> None:
    write(sample, WALK)
    basics = sample / "en" / "basics.yaml"
    basics.write_text(basics.read_text().replace("next: trigger", "next: trigga"))
    result = craftbot("test-curriculum", "--curriculum", str(sample))
    assert result.returncode == 1
    assert "unknown step 'trigga'" in result.stderr and "craftbot validate" in result.stderr


def test_ci_runs_the_transcripts() -> None:
    target = (REPO / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert target.index("craftbot validate") < target.index("craftbot test-curriculum")
