"""Every setting is documented in config.example.yaml, and the example loads."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from bot.config import Settings, load_settings

EXAMPLE = Path(__file__).parent.parent / "config.example.yaml"


def keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    found = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.extend(keys(annotation, f"{prefix}{name}."))
        else:
            found.append(f"{prefix}{name}")
    return found


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
