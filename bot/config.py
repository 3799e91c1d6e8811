"""Settings: declared here as data with defaults and help, read once from YAML at start.

Every key is documented in `config.example.yaml` (a test checks it). Secrets come from the
environment: `CRAFTBOT_TELEGRAM_TOKEN` wins over `telegram.token` in the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from state.engine.safety.detection import US_RESOURCES, Resource

REPO = Path(__file__).resolve().parent.parent
BUNDLED_CURRICULUM = REPO / "curriculum"
TOKEN_ENV = "CRAFTBOT_TELEGRAM_TOKEN"


class Section(BaseModel):
    """A settings section: unknown keys are errors, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class TelegramSettings(Section):
    """How the bot reaches Telegram."""

    token: SecretStr = Field(default=SecretStr(""), description="bot token from @BotFather")
    base_url: str = Field(default="https://api.telegram.org/bot",
                          description="Bot API base URL; a self-hosted Bot API server's URL here")
    base_file_url: str = Field(default="https://api.telegram.org/file/bot",
                               description="Bot API file URL")
    poll_timeout: int = Field(default=30, ge=0, le=60, description="long-polling timeout, seconds")
    admins: list[int] = Field(default_factory=list, description="Telegram user ids allowed admin commands")
    max_per_second: int = Field(default=30, ge=0, le=1000,
                                description="messages per second to Telegram, all chats; 0: no limiter")
    concurrency: int = Field(default=32, ge=1, le=256,
                             description="chats served at once (each chat's updates stay in order)")


class StorageSettings(Section):
    """Where progress is kept."""

    database: Path = Field(default=Path("data/craftbot.sqlite3"), description="SQLite file")


class CurriculumSettings(Section):
    """Which curriculum is served."""

    path: Path = Field(default=BUNDLED_CURRICULUM, description="curriculum folder")
    default_locale: str = Field(default="en", description="locale for users whose language is missing")


class LoggingSettings(Section):
    """What goes to the log (never message text, names or answers)."""

    level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    format: str = Field(default="text", pattern="^(text|json)$", description="text or json lines")


class PrivacySettings(Section):
    """How long what people write is kept."""

    retention_days: int = Field(default=365, ge=0,
                                description="erase the data of people inactive this many days; 0 keeps it")


class ResourceSettings(Section):
    """One crisis line or service, shown when words of crisis interrupt and by /safety."""

    name: str = Field(min_length=1, description="what people call it, such as 911")
    details: str = Field(min_length=1, description="how to reach it and what it is for")
    show_for: list[str] = Field(default_factory=list,
                                description="pathways whose message shows it (safety: /safety); empty: all")


def _us_resources() -> dict[str, ResourceSettings]:
    return {key: ResourceSettings(name=r.name, details=r.details, show_for=list(r.show_for))
            for key, r in US_RESOURCES.items()}


class CrisisSettings(Section):
    """The crisis resources of the region the bot serves (default: the United States)."""

    resources: dict[str, ResourceSettings] = Field(
        default_factory=_us_resources,
        description="crisis lines by id; giving any replaces all the defaults; `emergency` fills {emergency}")

    def resource_map(self) -> dict[str, Resource]:
        """The resources as the engine takes them."""
        return {key: Resource(r.name, r.details, tuple(r.show_for)) for key, r in self.resources.items()}


class ReminderSettings(Section):
    """Messages the bot sends unasked: homework check-ins, check-ins, the one nudge (docs/reminders.md)."""

    send: bool = Field(default=True, description="send reminders at all; false stops the dispatcher")
    poll_seconds: float = Field(default=30.0, gt=0, le=3600, description="seconds between looks for due ones")
    nudge_after_days: int = Field(default=3, ge=1, le=60,
                                  description="days after someone stops mid-module before the one nudge")
    per_second: float = Field(default=25.0, gt=0, le=30, description="reminders per second, all chats")
    per_chat_seconds: float = Field(default=1.0, ge=0, le=60, description="seconds between two to one chat")
    workers: int = Field(default=8, ge=1, le=64, description="reminders being sent at the same time")


class Settings(Section):
    """All settings."""

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    curriculum: CurriculumSettings = Field(default_factory=CurriculumSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    crisis: CrisisSettings = Field(default_factory=CrisisSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)

    @property
    def token(self) -> str:
        """The bot token: from the environment if set, else from the file."""
        return os.environ.get(TOKEN_ENV, "").strip() or self.telegram.token.get_secret_value()


def load_settings(path: Path | None) -> Settings:
    """Read settings from a YAML file (or defaults when no file is given)."""
    if path is None:
        return Settings()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    settings = Settings.model_validate(data)
    base = path.resolve().parent
    if not settings.storage.database.is_absolute():
        settings.storage.database = base / settings.storage.database
    if not settings.curriculum.path.is_absolute() and "path" in data.get("curriculum", {}):
        settings.curriculum.path = base / settings.curriculum.path
    return settings
