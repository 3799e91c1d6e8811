"""Settings: every key documented and settable from the environment; mistakes as one line each."""

from __future__ import annotations

import json
import os
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from bot.config import BUNDLED_CURRICULUM, Settings, load_settings
from bot.config_sources import env_name
from tests.kit.cli import craftbot

EXAMPLE = Path(__file__).parent.parent / "config.example.yaml"


def leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], FieldInfo]]:
    """Every setting as (path, field), sections opened."""
    found = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.extend(leaves(annotation, (*prefix, name)))
        else:
            found.append(((*prefix, name), field))
    return found


def keys(model: type[BaseModel]) -> list[str]:
    return [".".join(path) for path, _ in leaves(model)]


def test_every_setting_is_documented_with_a_comment() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for dotted in keys(Settings):
        leaf = dotted.split(".")[-1]
        at = [i for i, line in enumerate(lines) if line.strip().lstrip("# ").startswith(f"{leaf}:")]
        assert at, f"{dotted} is not in config.example.yaml"
        assert lines[at[0] - 1].strip().startswith("#"), f"{dotted} has no comment above it"


def test_the_example_loads() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.telegram.base_url == "https://api.telegram.org/bot"
    assert settings.curriculum.path == BUNDLED_CURRICULUM


def another_value(path: tuple[str, ...], field: FieldInfo, tmp_path: Path) -> Any:
    """A valid value for the setting that differs from its default."""
    annotation, default = field.annotation, field.get_default(call_default_factory=True)
    origin = typing.get_origin(annotation)
    candidates: list[Any]
    webhook = {"url": "https://bot.example.org/telegram", "listen": "127.0.0.1:8443",
               "secret_token": "s3cret-token-for-tests", "lease_seconds": 30.0}
    if path[:2] == ("telegram", "webhook"):  # valid only together, with their own shapes
        candidates = [webhook[path[-1]]]
    elif annotation is bool:
        candidates = [not default]
    elif annotation in (int, float):
        candidates = [default + 1, default - 1, default / 2]
    elif annotation is str:
        candidates = [f"{default}x", "json", "es", ""]
    elif annotation is SecretStr:
        candidates = ["123456:from-the-environment", "postgresql://craftbot@db.internal/craftbot"]
    elif annotation is Path:
        candidates = [tmp_path / "-".join(path)]
    elif origin is typing.Literal:
        candidates = list(typing.get_args(annotation))
    elif origin is list and typing.get_args(annotation) == (int,):
        candidates = [[7, 8]]
    elif origin is dict and path == ("crisis", "resources"):
        candidates = [{"emergency": {"name": "112", "details": "the emergency number"}}]
    elif origin is dict and path == ("people", "resources"):
        candidates = [{"family_groups": {"name": "Family groups", "details": "al-anon.org"}}]
    else:
        pytest.fail(f"{'.'.join(path)}: teach this test a value of type {annotation}")
    adapter: TypeAdapter[Any] = TypeAdapter(typing.Annotated[annotation, field])
    for candidate in candidates:
        try:
            value = adapter.validate_python(candidate)
        except ValidationError:
            continue
        if value != default:
            return candidate
    pytest.fail(f"{'.'.join(path)}: no candidate value is valid and new")


def as_env_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def current(settings: Settings, path: tuple[str, ...]) -> Any:
    value: Any = settings
    for part in path:
        value = getattr(value, part)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, dict):
        return {k: v.model_dump(exclude_defaults=True) if isinstance(v, BaseModel) else v
                for k, v in value.items()}
    return value


def test_every_setting_can_come_from_the_environment_and_wins_over_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = {path: another_value(path, field, tmp_path) for path, field in leaves(Settings)}
    for path, value in wanted.items():
        monkeypatch.setenv(env_name(path), as_env_text(value))
    for settings in (load_settings(None), load_settings(EXAMPLE)):
        for path, value in wanted.items():
            assert current(settings, path) == value, env_name(path)


def test_a_relative_path_from_the_environment_is_from_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "etc" / "config.yaml"
    config.parent.mkdir()
    config.write_text("storage:\n  database: in-etc.sqlite3\n")
    assert load_settings(config).storage.database == config.parent / "in-etc.sqlite3"
    monkeypatch.setenv("CRAFTBOT_STORAGE__DATABASE", "var/db.sqlite3")
    assert load_settings(config).storage.database == Path("var/db.sqlite3")


def write(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    return config


def run_with(config: Path, **env: str) -> tuple[int, list[str]]:
    """`craftbot chat --config FILE` as an operator runs it: the exit code and what it printed."""
    done = craftbot("chat", "--config", config, env={**os.environ, **env}, cwd=config.parent)
    assert not done.stdout
    return done.returncode, done.stderr.splitlines()


BAD = """\
telegram:
  token: 123456789
  admins: 12345
  concurency: 3
storage:
  database: data/x.sqlite3
loging:
  level: INFO
"""


def test_each_mistake_is_one_line_with_the_file_and_line(tmp_path: Path) -> None:
    code, lines = run_with(write(tmp_path, BAD), CRAFTBOT_REMINDERS__WORKERS="many")
    assert code == 2
    assert lines == [
        "CRAFTBOT_REMINDERS__WORKERS: reminders.workers: expected a whole number"
        " (reminders being sent at the same time)",
        f"{tmp_path}/config.yaml:2: telegram.token: expected text (bot token from @BotFather)",
        f"{tmp_path}/config.yaml:3: telegram.admins: expected a list, such as [1, 2]"
        " (Telegram user ids allowed admin commands)",
        f"{tmp_path}/config.yaml:4: telegram.concurency: unknown key; did you mean concurrency?",
        f"{tmp_path}/config.yaml:7: loging: unknown key; did you mean logging?",
    ]
    assert "123456789" not in "\n".join(lines)  # a token is never repeated back


def test_a_missing_file_and_broken_yaml_are_one_line_each(tmp_path: Path) -> None:
    code, lines = run_with(tmp_path / "config.yaml")
    assert code == 2
    assert lines == [f"{tmp_path}/config.yaml: no such file (config.example.yaml is a documented start)"]
    code, lines = run_with(write(tmp_path, "telegram:\n  admins: [1, 2\nstorage: {}\n"))
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith(f"{tmp_path}/config.yaml:3:") and "not valid YAML" in lines[0]


def test_a_list_from_the_environment_must_be_json(tmp_path: Path) -> None:
    code, lines = run_with(write(tmp_path, ""), CRAFTBOT_TELEGRAM__ADMINS="1, 2")
    assert (code, lines) == (2, ['CRAFTBOT_TELEGRAM__ADMINS: telegram.admins: expected JSON here,'
                                 ' such as [1, 2] or {"key": "value"}'])


def test_routes_to_people_default_to_the_us_ones_and_never_follow_another_regions_lines(
        tmp_path: Path) -> None:
    from state.curriculum.loader import load_curriculum
    from state.engine.safety.detection import CrisisGuide

    assert "findtreatment.gov" in load_settings(None).resource_map()["treatment_locator"].details
    uk = tmp_path / "uk.yaml"
    uk.write_text("crisis:\n  resources:\n    emergency: {name: '999', details: police or ambulance}\n")
    resources = load_settings(uk).resource_map()
    assert set(resources) == {"emergency"}
    crisis = load_curriculum(BUNDLED_CURRICULUM).content("en").locale
    assert crisis is not None
    fills = CrisisGuide(crisis.crisis, resources).fills
    assert "findtreatment" not in fills["treatment_locator_details"].casefold()
    assert "al-anon.org" in fills["family_groups_details"]


def test_the_inbox_lease_is_a_setting_with_a_floor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(None).telegram.webhook.lease_seconds == 60.0
    monkeypatch.setenv("CRAFTBOT_TELEGRAM__WEBHOOK__LEASE_SECONDS", "20")
    assert load_settings(None).telegram.webhook.lease_seconds == 20.0
    monkeypatch.delenv("CRAFTBOT_TELEGRAM__WEBHOOK__LEASE_SECONDS")
    code, lines = run_with(write(tmp_path, "telegram:\n  webhook:\n    lease_seconds: 3\n"))
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith(f"{tmp_path}/config.yaml:3: telegram.webhook.lease_seconds:")
