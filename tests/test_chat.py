"""The terminal chat through the real `craftbot` command, with piped input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).parent / "curriculum"
REPO = Path(__file__).parent.parent


def chat(script: str, db: Path, *extra: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--curriculum", str(SAMPLE), "--db", str(db), *extra],
        input=script, capture_output=True, text=True, cwd=REPO, timeout=60, check=True)
    return result.stdout


def test_a_piped_conversation_and_resuming_it(tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite3"
    out = chat("1\nRobin\n2\n1\n3\n3\n2\n1\n", db, "--user", "3")
    assert "Who is Robin to you?" in out
    assert "  [1] Next: Basics" in out
    assert "> Robin" in out  # piped input is echoed, so the transcript reads as a chat
    out = chat("1\n1\n", db, "--user", "3")
    assert "Welcome back" in out
    assert "Welcome to the basics, about Robin." in out
    assert "How stressed are you today?" in out


def test_validate_refuses_a_broken_curriculum(tmp_path: Path) -> None:
    broken = tmp_path / "cur"
    (broken / "en").mkdir(parents=True)
    for f in (SAMPLE / "en").glob("*.yaml"):
        (broken / "en" / f.name).write_text(f.read_text().replace("next: quiz", "next: quizz"))
    result = subprocess.run([sys.executable, "-m", "bot.cli", "validate", str(broken)],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 1
    assert "basics.yaml:" in result.stdout and "unknown step 'quizz'; did you mean 'quiz'?" in result.stdout
    result = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--curriculum", str(broken)],
                            capture_output=True, text=True, cwd=REPO, timeout=60, input="")
    assert result.returncode == 1 and "not starting" in result.stderr


def test_run_without_token_explains(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], capture_output=True, text=True,
                            cwd=REPO, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr and "craftbot chat" in result.stderr


def test_a_number_typed_at_a_free_text_prompt_is_an_answer(tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite3"
    # consent, then the loved one's name typed as "2": it must be taken as the name,
    # not as a press on the consent step's second button.
    out = chat("1\n2\n", db, "--user", "4")
    assert "Who is 2 to you?" in out


def test_after_delete_the_chat_does_not_say_progress_is_saved(tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite3"
    out = chat("1\nRobin\n/delete\n1\n1\n", db, "--user", "6")
    assert "everything I kept about you is erased" in out
    assert "Your progress is saved" not in out and out.rstrip().endswith("Nothing about you is kept.")
    out = chat("1\n", db, "--user", "6")  # they come back: progress is kept again
    assert out.rstrip().endswith("Your progress is saved.")


def test_the_goodbye_is_in_the_language_the_person_is_served_in(tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite3"
    bundled = ("--curriculum", str(REPO / "curriculum"))
    out = subprocess.run([sys.executable, "-m", "bot.cli", "chat", *bundled, "--db", str(db)],
                         input="/language español\n", capture_output=True, text=True, cwd=REPO,
                         timeout=60, check=True).stdout
    assert out.rstrip().endswith("Hasta pronto. Su progreso está guardado.")
