"""`craftbot validate DIR --against DB`: before publishing, who would be affected, counted.

The database is filled by the real terminal chat (`craftbot chat --db`), each person a
piped script; the report comes from the real CLI in a subprocess.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bot.config import BUNDLED_CURRICULUM
from tests.kit.cli import craftbot
from tests.kit.curricula import SAMPLE

# The sample onboarding: consent, name, relationship, substance, two safety questions, phone.
ONBOARD = ["1", "Sam", "2", "1", "3", "3", "2"]


def chat(folder: Path, db: Path, user: int, lines: list[str]) -> None:
    done = craftbot("chat", "--curriculum", folder, "--db", db, "--user", str(user),
                    stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr


def copy(source: Path, workdir: Path) -> Path:
    target = workdir / "curriculum"
    shutil.copytree(source, target)
    return target


def test_against_counts_people_on_changed_and_vanished_steps(tmp_path: Path) -> None:
    folder, db = copy(SAMPLE, tmp_path), tmp_path / "db.sqlite3"
    chat(folder, db, 1, [])  # stays on onboarding's consent question
    chat(folder, db, 2, [*ONBOARD, "1"])  # basics: intro
    chat(folder, db, 3, [*ONBOARD, "1"])  # basics: intro
    chat(folder, db, 4, [*ONBOARD, "1", "1"])  # basics: mood

    unchanged = craftbot("validate", folder, "--against", db)
    assert unchanged.returncode == 0, unchanged.stderr
    assert "4 user(s) on a step" in unchanged.stdout
    assert "  4 on unchanged steps" in unchanged.stdout

    basics = folder / "en" / "basics.yaml"
    text = basics.read_text(encoding="utf-8")
    text = text.replace("How stressed are you today?", "How tense do you feel today?")
    intro = re.compile(r"  - id: intro\n(?:(?!  - id: ).*\n)*")
    basics.write_text(intro.sub("", text, count=1), encoding="utf-8")

    report = craftbot("validate", folder, "--against", db)
    assert report.returncode == 0, report.stderr
    out = report.stdout
    assert "  1 on unchanged steps" in out
    assert "  1 on steps whose content changed" in out and "    basics:mood  1" in out
    assert "  2 on steps that no longer exist" in out
    assert "    basics:intro -> basics:mood (module start)  2" in out

    (folder / "en" / "moves.yaml").write_text("basics:\n  intro: pick\n", encoding="utf-8")
    mapped = craftbot("validate", folder, "--against", db)
    assert "    basics:intro -> basics:pick (moves.yaml)  2" in mapped.stdout


def test_against_is_not_run_on_an_invalid_curriculum(tmp_path: Path) -> None:
    folder, db = copy(SAMPLE, tmp_path), tmp_path / "db.sqlite3"
    chat(folder, db, 1, [])
    (folder / "en" / "moves.yaml").write_text("basics:\n  gone: nowhere\n", encoding="utf-8")
    report = craftbot("validate", folder, "--against", db)
    assert report.returncode == 1
    assert re.search(r"moves\.yaml:2:9: error: unknown step 'nowhere'", report.stdout)
    assert "Against" not in report.stdout


def test_against_a_missing_database_says_so(tmp_path: Path) -> None:
    report = craftbot("validate", SAMPLE, "--against", tmp_path / "nope.sqlite3")
    assert report.returncode == 2
    assert "no such database file" in report.stderr


def test_against_a_curriculum_without_english(tmp_path: Path) -> None:
    folder, db = tmp_path / "curriculum", tmp_path / "db.sqlite3"
    shutil.copytree(SAMPLE / "en", folder / "es")
    locale = folder / "es" / "locale.yaml"
    locale.write_text(locale.read_text(encoding="utf-8").replace("locale: en", "locale: es"),
                      encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"curriculum:\n  path: {folder}\n  default_locale: es\n", encoding="utf-8")
    for user in (1, 2):
        done = craftbot("chat", "--config", config, "--db", db, "--user", str(user), stdin="\n")
        assert done.returncode == 0, done.stderr

    report = craftbot("validate", folder, "--against", db)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "ok: 0 error(s)" in report.stdout and "1 locale(s)" in report.stdout
    assert "2 user(s) on a step" in report.stdout and "  2 on unchanged steps" in report.stdout


def test_against_with_the_bundled_curriculum(tmp_path: Path) -> None:
    folder, db = copy(BUNDLED_CURRICULUM, tmp_path), tmp_path / "db.sqlite3"
    chat(folder, db, 1, [])  # on the bundled onboarding's first question
    chat(folder, db, 2, [])
    same = craftbot("validate", folder, "--against", db)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "2 user(s) on a step" in same.stdout and "  2 on unchanged steps" in same.stdout

    onboarding = folder / "en" / "onboarding.yaml"
    original = onboarding.read_text(encoding="utf-8")
    first_question = craftbot("chat", "--curriculum", folder, stdin="").stdout
    assert first_question
    renamed = re.sub(r"(\b(?:id|next): )phone\b(?=\s*[,}\n])", r"\1phone_v2", original)
    onboarding.write_text(renamed, encoding="utf-8")
    moved = craftbot("validate", folder, "--against", db)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "  2 on steps that no longer exist" in moved.stdout
    assert re.search(r"onboarding:phone -> onboarding:\w+ \(module start\)  2", moved.stdout)
