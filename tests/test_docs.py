"""The documentation says what is there: settings, variables, commands and files that exist.

Like datasette's test of its documented settings: a key, variable or command named in the docs
must exist (so a rename cannot leave the docs behind), and figures live in docs/performance.md
only, so two pages cannot give two numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli.main import build_parser
from bot.config import TOKEN_ENV, Settings
from bot.config_sources import ENV_PREFIX, env_name, field_at
from state.service.clock import CLOCK_ENV
from state.store.crypto import KEY_ENV

REPO = Path(__file__).resolve().parent.parent
DOCS = sorted([REPO / "README.md", REPO / "SECURITY.md", REPO / "CONTRIBUTING.md",
               REPO / "curriculum" / "README.md", *(REPO / "docs").glob("*.md")])
# The one page allowed to state figures of its own; every other page links to it.
FIGURES_AT = {"docs/performance.md"}


def name(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


FENCED = re.compile(r"^```[^\n]*\n(.*?)^```", flags=re.MULTILINE | re.DOTALL)
VARIABLE = re.compile(rf"\b{ENV_PREFIX}[A-Z0-9_]*[A-Z0-9]\b")
FILE = re.compile(r"^((?:bot|state|tests|docs|bench|curriculum|shared|\.ci)/[\w./-]+\.\w+)$")


def code_of(page: Path) -> list[str]:
    """The page's code: inline spans and the lines of fenced blocks."""
    blocks = FENCED.findall(page.read_text(encoding="utf-8"))
    spans: list[str] = re.findall(r"`([^`\n]+)`", prose_of(page))
    return spans + [line for block in blocks for line in block.splitlines()]


def prose_of(page: Path) -> str:
    return FENCED.sub("", page.read_text(encoding="utf-8"))


SECTIONS = "|".join(Settings.model_fields)


@pytest.mark.parametrize("page", DOCS, ids=name)
def test_every_setting_the_docs_name_exists(page: Path) -> None:
    spans = re.findall(r"`([^`\n]+)`", prose_of(page))
    named = {m.group(1) for span in spans if (m := re.match(rf"((?:{SECTIONS})(?:\.[a-z_]+)+)\b", span))}
    named = {key for key in named if not re.search(r"\.(md|py|ya?ml|sql|tsv|org|com)$", key)}
    missing = [key for key in sorted(named) if field_at(Settings, key.split(".")) is None]
    assert not missing, f"{name(page)} names settings that do not exist: {missing}"


def read_by_code() -> set[str]:
    """The CRAFTBOT_ variables the code, tests and benchmarks read (this file aside)."""
    sources = [p for top in ("bot", "state", "bench", "tests") for p in (REPO / top).rglob("*.py")
               if p != Path(__file__).resolve()]
    return {v for p in sources for v in VARIABLE.findall(p.read_text("utf-8"))}


@pytest.mark.parametrize("page", [*DOCS, REPO / "config.example.yaml", REPO / "compose.yaml"], ids=name)
def test_every_variable_the_docs_name_exists(page: Path) -> None:
    named = set(VARIABLE.findall(page.read_text(encoding="utf-8")))
    settings = {env_name(key.split(".")) for key in keys()}
    known = settings | read_by_code() | {TOKEN_ENV, KEY_ENV, CLOCK_ENV, "CRAFTBOT_SECTION__KEY"}
    assert not named - known, f"{name(page)} names variables craftbot does not read: {sorted(named - known)}"


def keys() -> list[str]:
    from tests.test_config import keys as setting_keys

    return setting_keys(Settings)


def test_the_operations_guide_tells_how_every_setting_comes_from_the_environment() -> None:
    guide = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    example = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    for text in (guide, example):
        assert "CRAFTBOT_SECTION__KEY" in text and "JSON" in text


@pytest.mark.parametrize("page", DOCS, ids=name)
def test_every_command_the_docs_show_exists(page: Path) -> None:
    commands = set(re.search(r"\{([a-z,-]+)\}", build_parser().format_usage()).group(1).split(","))  # type: ignore[union-attr]
    shown = {m for code in code_of(page)
             for m in re.findall(r"(?<![-\w])(?<!-u )(?<!exec )(?:[\w./-]*/)?craftbot ([a-z][a-z-]+)", code)}
    assert not shown - commands, f"{name(page)} shows commands that do not exist: {sorted(shown - commands)}"


@pytest.mark.parametrize("page", DOCS, ids=name)
def test_every_file_the_docs_name_is_in_the_repository(page: Path) -> None:
    paths = {m for code in code_of(page)
             for m in FILE.findall(code)}
    missing = sorted(p for p in paths if not (REPO / p).exists())
    assert not missing, f"{name(page)} names files that are not in the repository: {missing}"


@pytest.mark.parametrize("page", [p for p in DOCS if name(p) not in FIGURES_AT], ids=name)
def test_figures_come_from_the_performance_page_only(page: Path) -> None:
    figures = re.findall(r"\b\d[\d,.]*\s?(?:µs|ms|MB|KB|GB|updates/s|messages/s)\b", prose_of(page))
    assert not figures, f"{name(page)} states {figures}: give them in docs/performance.md and link there"


def test_the_licence_and_security_policy_are_there() -> None:
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    policy = (REPO / "SECURITY.md").read_text(encoding="utf-8")
    for heading in ("Reporting a vulnerability", "Supported versions", "Scope", "What the bot keeps"):
        assert f"## {heading}" in policy
