"""What `craftbot --help`, `--version` and README's command table tell a person, checked
against the real command.

The table in README.md must render as one table, and every row must name a command that
exists, with options the command really has.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.config import TOKEN_ENV
from state.service.clock import CLOCK_ENV
from state.store.crypto import KEY_ENV
from tests.kit.cli import REPO, craftbot

README = REPO / "README.md"
TABLE_HEADING = "## The `craftbot` command"


def readme_section() -> list[str]:
    """The lines of README's section about the `craftbot` command."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(TABLE_HEADING) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def table_rows() -> list[str]:
    """The rows of the section's first table, as Markdown reads it: it ends at the first line
    that does not start with `|`."""
    section = readme_section()
    first = next(i for i, line in enumerate(section) if line.startswith("|"))
    rows = []
    for line in section[first + 2:]:  # below the header and the --- line
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def command_cell(row: str) -> str:
    """The first cell of a row without its backticks, such as `craftbot run [--config FILE]`."""
    cell = re.match(r"\|\s*`([^`]+)`\s*\|", row)
    assert cell, f"a row of the command table does not start with a `craftbot ...` cell: {row}"
    return cell.group(1).replace("\\|", "|")


def subcommand(cell: str) -> list[str]:
    """The words that name the command: `craftbot safety check [--why]` → ['safety', 'check']."""
    words = cell.split()
    assert words[0] == "craftbot", cell
    return [w for w in words[1:] if re.fullmatch(r"[a-z][a-z-]*", w)][:2]


def test_the_readme_command_table_is_one_table() -> None:
    rows = table_rows()
    outside = [line for line in readme_section() if line.startswith("| `craftbot") and line not in rows]
    assert rows and not outside, f"rows cut off from the table by a blank line: {outside}"


def test_every_command_craftbot_has_is_in_the_readme_table() -> None:
    usage = craftbot("--help").stdout
    found = re.search(r"\{([a-z,-]+)\}", usage)
    assert found
    listed = {subcommand(command_cell(row))[0] for row in table_rows()}
    assert set(found.group(1).split(",")) <= listed


@pytest.mark.parametrize("row", table_rows(), ids=lambda row: command_cell(row))
def test_each_readme_row_is_a_real_command_with_those_options(row: str) -> None:
    cell = command_cell(row)
    words = subcommand(cell)
    shown = craftbot(*words, "--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"usage: craftbot {' '.join(words)}")
    for option in re.findall(r"--[a-z][a-z-]*", cell):
        assert option in shown.stdout, f"README says `{cell}` but {option} is not an option"


def test_the_help_says_what_craftbot_is_for_and_the_most_used_commands() -> None:
    shown = craftbot("--help")
    assert shown.returncode == 0
    assert "wiring" not in shown.stdout and "bot.app" not in shown.stdout
    assert "CRAFT (Community Reinforcement and Family Training)" in shown.stdout
    assert "family members" in shown.stdout
    for command in ("craftbot run", "craftbot chat", "craftbot validate", "craftbot book"):
        assert command in shown.stdout.split("most used:")[1]


def test_the_version_is_the_installed_packages() -> None:
    shown = craftbot("--version")
    assert shown.returncode == 0
    assert shown.stdout == f"craftbot {version('craftbot')}\n"
    project = tomllib.loads(Path(REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert shown.stdout == f"craftbot {project['version']}\n"


def test_run_help_lists_the_environment_variables_the_bot_reads() -> None:
    shown = craftbot("run", "--help").stdout
    environment = shown.split("environment variables:")[1]
    for name in (TOKEN_ENV, KEY_ENV, CLOCK_ENV):
        assert re.search(rf"^  {name}\s+\S", environment, re.M), f"{name} is not explained"


def test_chat_help_lists_the_data_key() -> None:
    shown = craftbot("chat", "--help").stdout
    assert KEY_ENV in shown.split("environment variables:")[1]
