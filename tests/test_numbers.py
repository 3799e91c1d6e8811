"""Crisis numbers follow the region: lessons name lines by placeholder, never by number.

The checks on single mistakes (a number written out, at its place) are cases in
tests/test_validation.py; here are the detector's guards, the bundled curriculum, the US
defaults against the clinical reference, a whole curriculum walked with another region's
lines, and `craftbot run` refusing to start when a line the lessons use is not configured.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.config import load_settings
from state.curriculum.helplines import PEOPLE, ROLES, US_KEYS, check_numbers, filled_by
from state.curriculum.loader import load_curriculum, read_curriculum
from state.curriculum.phones import literal_numbers
from state.engine.engine import Engine
from state.engine.safety.detection import US_RESOURCES, CrisisGuide, Resource
from tests.kit.cli import craftbot

try:
    from tests.kit.walk import Starts, explore
except ImportError:  # textstat installs a top-level "tests" package that shadows ours
    from support.walk import Starts, explore  # type: ignore[no-redef,unused-ignore]

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / "curriculum"
SAMPLE = Path(__file__).parent / "curriculum"
EXAMPLE = REPO / "config.example.yaml"

# The United Kingdom, as in config.example.yaml's commented example.
UK = {
    "emergency": Resource("999", "police, ambulance, fire or coastguard"),
    "lifeline": Resource("Samaritans", "call 116 123 free, any time", number="116 123"),
    "dv_hotline": Resource("National Domestic Abuse Helpline", "call 0808 2000 247 free, 24 hours",
                           ("own_danger", "violence", "crisis", "safety"), number="0808 2000 247"),
    "treatment_line": Resource("FRANK", "call 0300 123 6600, 24 hours, confidential",
                               ("loved_one_emergency", "crisis", "safety"), number="0300 123 6600"),
}
US_NUMBER = re.compile(r"1-800-\d{3}-\d{4}|\b911\b|\b988\b|88788|988lifeline|thehotline\.org|SAMHSA")

WRITTEN_OUT = [
    ("call 911 now", "911"), ("Call **988**.", "988"), ("dial 112", "112"), ("call 999.", "999"),
    ("Call 1-800-799-7233.", "1-800-799-7233"), ("(800) 799-7233", "(800) 799-7233"),
    ("800.799.7233", "800.799.7233"), ("TTY 1-800-787-3224)", "1-800-787-3224"),
    ("+44 20 7946 0958", "+44 20 7946 0958"), ("call 0808 2000 247", "0808 2000 247"),
    ("Samaritans: 116 123", "116 123"), ("0300 123 6600", "0300 123 6600"),
    ("text START to 88788", "text START to 88788"), ('Text "HOME" to 741741', 'Text "HOME" to 741741'),
    ("text 741741", "text 741741"),
]
NOT_NUMBERS = [
    "at 19:00", "quiet from 21:00-09:00", "in 1999", "from 2003-2005", "on 2024-05-01", "64% of families",
    "about 70%", "$999", "1.5 drinks", "from 1 to 10", "rate it 1-10", "10,000 steps", "10 000 steps",
    "1 200 000 people", "988lifeline.org", "Step 3", "2 to 3 minutes", "2-3 minutes", "24/7", "1 in 3",
    "n = 130", "a 112-page book", "week 12", "3 of 10", "6 in 10 families", "text me at 7",
]


@pytest.mark.parametrize(("text", "number"), WRITTEN_OUT)
def test_a_number_written_out_is_found(text: str, number: str) -> None:
    assert [found.text for found in literal_numbers(text)] == [number]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_times_years_percentages_and_counts_are_not_numbers(text: str) -> None:
    assert literal_numbers(text) == []


def test_the_bundled_curriculum_writes_no_number_and_validates() -> None:
    curriculum, problems = read_curriculum(ROOT)
    assert [str(p) for p in problems if p.is_error] == []
    assert check_numbers(curriculum) == []


def test_the_cli_validates_the_bundled_curriculum() -> None:
    result = craftbot("validate", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "written out" not in result.stdout


def test_a_placeholder_the_resources_do_not_fill_is_one_error_at_its_first_use() -> None:
    _, problems = read_curriculum(SAMPLE, "en", {"emergency"})  # the sample uses dv_hotline twice
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    text = (SAMPLE / "en" / "onboarding.yaml").read_text(encoding="utf-8")
    at = text.index('"{dv_hotline_name}')
    line, col = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at) + 1
    assert (Path(problem.file).name, problem.line, problem.col) == ("onboarding.yaml", line, col)
    assert problem.is_error and problem.message.startswith("{dv_hotline_name} (and 1 more use(s))")
    assert "add `dv_hotline:` under crisis.resources" in problem.message


def test_the_us_defaults_fill_every_role_and_an_earlier_key_still_counts() -> None:
    assert set(US_RESOURCES) == set(ROLES)
    assert frozenset((*ROLES, *PEOPLE)) == US_KEYS
    earlier = ["emergency", "lifeline", "dv_hotline", "samhsa"]  # config.example.yaml before
    _, problems = read_curriculum(ROOT, "en", earlier)
    assert [str(p) for p in problems if p.is_error] == []
    assert {"treatment_line", "treatment_line_name", "treatment_line_details"} <= filled_by(earlier)


def test_the_us_defaults_are_the_reference_numbers() -> None:
    fills = Engine(load_curriculum(SAMPLE)).guides["en"].fills
    assert (fills["emergency"], fills["lifeline"], fills["dv_hotline"], fills["treatment_line"]) == (
        "911", "988", "1-800-799-7233", "1-800-662-4357")
    assert fills["lifeline_name"] == "988 Suicide & Crisis Lifeline"
    assert "TTY 1-800-787-3224" in fills["dv_hotline_details"]
    assert "text START to 88788" in fills["dv_hotline_details"]
    assert "TTY 1-800-487-4889" in fills["treatment_line_details"]


def test_the_example_configuration_is_the_us_defaults() -> None:
    assert load_settings(EXAMPLE).crisis.resource_map() == US_RESOURCES


def test_a_role_left_out_falls_back_to_the_emergency_line_never_a_blank() -> None:
    crisis = load_curriculum(SAMPLE).content("en").locale
    assert crisis is not None
    fills = CrisisGuide(crisis.crisis, {"emergency": UK["emergency"]}).fills
    assert fills["lifeline"] == "999" and fills["dv_hotline_name"] == "999"


def test_lessons_with_another_regions_lines_show_those_and_no_us_number() -> None:
    engine = Engine(load_curriculum(ROOT, "en", UK), UK)
    starts = Starts(engine)
    shown: list[str] = []
    for module_id in ("safety", "overdose", "self_care", "treatment", "invitation"):
        shown += explore(engine, module_id, starts).texts()  # onboarding is walked by every start
    text = "\n".join(shown)
    assert US_NUMBER.findall(text) == []
    for number in ("999", "116 123", "0808 2000 247", "0300 123 6600", "Samaritans",
                   "National Domestic Abuse Helpline", "FRANK"):
        assert number in text, f"{number} is never shown"


def test_run_refuses_to_start_when_a_line_the_lessons_use_is_not_configured(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("crisis:\n  resources:\n    emergency:\n      name: \"112\"\n"
                      "      details: any emergency\n", encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CRAFTBOT_")},
           "CRAFTBOT_TELEGRAM_TOKEN": "123:not-a-real-token",
           "CRAFTBOT_TELEGRAM__BASE_URL": "http://127.0.0.1:9/bot"}  # never reached
    result = craftbot("run", "--config", config, env=env, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line and "/en/" in line]
    assert len(errors) == 3, result.stderr  # one clear line for each line left out (per locale)
    for role in ("lifeline", "dv_hotline", "treatment_line"):
        assert any(f"add `{role}:` under crisis.resources" in line for line in errors)
    assert "not starting" in result.stderr
