"""`craftbot chat --start MODULE[:STEP] --profile ...` through the real command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parent.parent
SAMPLE = Path(__file__).parent / "curriculum"


def chat(*args: str, script: str = "", cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", "chat", *args], input=script,
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_preview_from_a_step_as_a_partner(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  database: {tmp_path / 'real.sqlite3'}\n")
    result = chat("--config", str(config), "--curriculum", str(SAMPLE), "--start", "basics:pick",
                  "--profile", "relationship=partner,loved_one=Robin", script="2\nafter work\n",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Preview of basics:pick (en) as: consent=yes, loved_one=Robin,"
                          " relationship=partner, substance=alcohol")
    assert "Which sounds kinder?\n  [1] You never help\n  [2] I'd love your help" in out
    assert "Welcome to the basics" not in out  # it starts at the step asked for
    assert "Yes: positive and specific." in out and "When does Robin usually use?" in out
    assert "When is the best time to talk?" in out  # the typed answer moved on
    assert "End of the preview. Nothing was kept." in out
    assert not (tmp_path / "real.sqlite3").exists()  # a throwaway database, not the real one
    assert not (tmp_path / "data").exists()


def test_a_branch_step_takes_the_profile_into_account() -> None:
    partner = chat("--curriculum", str(SAMPLE), "--start", "basics:route",
                   "--profile", "relationship=partner,loved_one=Robin")
    assert "As a partner, you share a home with Robin." in partner.stdout
    parent = chat("--curriculum", str(SAMPLE), "--start", "basics:route",
                  "--profile", "relationship=parent,loved_one=Robin,trigger_time=after work")
    assert "You said Robin uses around: after work." in parent.stdout
    assert "As a partner" not in parent.stdout


def test_the_bundled_curriculum_with_prerequisites_done() -> None:
    result = chat("--start", "safety:screen_afraid", "--profile",
                  "relationship=partner,substance=opioids,loved_one=Sam", script="/menu\n")
    assert result.returncode == 0, result.stderr
    assert "Are you ever afraid of Sam?" in result.stdout
    assert "✅ Why CRAFT, and what to expect" in result.stdout  # safety requires orientation
    assert "▶️ Safety at home" in result.stdout


def test_mistakes_are_explained() -> None:
    result = chat("--curriculum", str(SAMPLE), "--start", "basic")
    assert result.returncode == 2 and "no module 'basic' (did you mean 'basics'?)" in result.stderr
    result = chat("--curriculum", str(SAMPLE), "--start", "basics:quizz")
    assert "module 'basics' has no step 'quizz' (did you mean 'quiz'?)" in result.stderr
    result = chat("--curriculum", str(SAMPLE), "--start", "basics", "--profile", "relationship=husband")
    assert result.returncode == 2
    assert "relationship=husband is not an answer onboarding saves; choose one of: parent, partner," \
           in result.stderr
    result = chat("--curriculum", str(SAMPLE), "--start", "basics", "--profile", "relationship")
    assert result.returncode == 2 and "'relationship' is not key=value" in result.stderr
    result = chat("--curriculum", str(SAMPLE), "--profile", "relationship=partner")
    assert result.returncode == 2 and "--profile needs --start" in result.stderr
    result = chat("--curriculum", str(SAMPLE), "--start", "basics", "--locale", "fr")
    assert result.returncode == 2 and "no locale 'fr'" in result.stderr


def test_with_db_the_preview_user_is_kept_and_never_overwritten(tmp_path: Path) -> None:
    db = tmp_path / "preview.sqlite3"
    first = chat("--curriculum", str(SAMPLE), "--db", str(db), "--user", "7", "--start", "basics:trigger",
                 script="after work\n")
    assert first.returncode == 0 and "Your progress is saved." in first.stdout
    again = chat("--curriculum", str(SAMPLE), "--db", str(db), "--user", "7", "--start", "basics")
    assert again.returncode == 2 and "user 7 already has progress" in again.stderr
    resumed = chat("--curriculum", str(SAMPLE), "--db", str(db), "--user", "7")
    assert "Welcome back" in resumed.stdout and "When is the best time to talk?" in resumed.stdout
