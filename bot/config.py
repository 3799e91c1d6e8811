"""Settings: declared here as data with defaults and help, read once at start from YAML and the environment.

Every key is documented in `config.example.yaml` (a test checks it), and every key can be set
from the environment as `CRAFTBOT_SECTION__KEY` (`CRAFTBOT_TELEGRAM__ADMINS=[1, 2]`), which wins
over the file. `CRAFTBOT_TELEGRAM_TOKEN` wins over both for the token. Problems are reported as
a `ConfigError`, one line each with its file:line or variable (`bot.config_sources`).
"""

from __future__ import annotations

import os
import re
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings import SettingsError as EnvironmentParseError

from bot.config_sources import (
    ENV_NESTING,
    ENV_PREFIX,
    ConfigError,
    from_environment,
    problems,
    read_yaml,
    unparsable,
    without_overridden,
)
from state.engine.language import US_WORDING
from state.engine.safety.detection import PEOPLE_PATHWAY, US_PEOPLE, US_RESOURCES, Resource
from state.service.conversations import CRISIS_WAIT
from state.store.dialect import Location

REPO = Path(__file__).resolve().parent.parent
TOKEN_ENV = "CRAFTBOT_TELEGRAM_TOKEN"
LISTEN = r"^(|(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]*):[0-9]{1,5})$"  # host:port, [v6]:port, :port, or empty


def bundled_curriculum() -> Path:
    """The curriculum shipped with craftbot: bot/curriculum in an installed wheel, else the clone's.

    The repository keeps it at the top level (curriculum/, YAML only); setup.py ships that folder
    inside the wheel as bot/curriculum, so an installed craftbot finds it beside its code.
    """
    shipped = files("bot") / "curriculum"
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    return REPO / "curriculum"


BUNDLED_CURRICULUM = bundled_curriculum()


class Section(BaseModel):
    """A settings section: unknown keys are errors, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class WebhookSettings(Section):
    """Webhook mode (docs/operations.md, "Webhook mode"): Telegram posts each update to the bot.

    Off while `url` is empty: the bot long-polls, as before. With a `url`, `listen` and
    `secret_token` are required; each problem is its own line.
    """

    url: str = Field(default="",
                     description="public https URL registered with setWebhook; empty: long polling")
    listen: str = Field(default="", pattern=LISTEN, validate_default=True,
                        description="host:port the webhook is served on (a reverse proxy's upstream)")
    secret_token: SecretStr = Field(
        default=SecretStr(""), validate_default=True,
        description="secret Telegram sends with every update (16-256 of A-Z a-z 0-9 _ -)")

    lease_seconds: float = Field(
        default=60.0, ge=10.0, le=3600.0,
        description="seconds a chat stays with the instance working its update unless renewed (every"
                    " third of it); how long a dead instance's chats wait")

    @field_validator("url")
    @classmethod
    def _a_url(cls, url: str) -> str:
        if url and not re.fullmatch(r"https?://[^\s/?#@]+(/[^\s?#]*)?", url):
            raise PydanticCustomError("webhook", "should be a URL such as https://bot.example.org/telegram")
        return url

    @field_validator("listen")
    @classmethod
    def _listen_with_url(cls, listen: str, info: ValidationInfo) -> str:
        if info.data.get("url") and not listen:
            raise PydanticCustomError("webhook", "missing: a webhook url needs the host:port it is served on")
        return listen

    @field_validator("secret_token")
    @classmethod
    def _secret_with_url(cls, secret: SecretStr, info: ValidationInfo) -> SecretStr:
        value = secret.get_secret_value()
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value):
            raise PydanticCustomError("webhook", "too short, too long or other characters (never shown)")
        if info.data.get("url") and not value:
            raise PydanticCustomError("webhook", "missing: a webhook url needs a secret token"
                                      " (or CRAFTBOT_TELEGRAM__WEBHOOK__SECRET_TOKEN)")
        return secret


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
    concurrency: int = Field(default=128, ge=1, le=256,
                             description="chats served at once (each chat's updates stay in order)")
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)

    @model_validator(mode="after")
    def _https_for_telegram(self) -> TelegramSettings:
        if self.webhook.url.startswith("http://") and "api.telegram.org" in self.base_url:
            raise PydanticCustomError(
                "webhook", "webhook.url must be https:// for Telegram's own servers (http:// only"
                " with a self-hosted Bot API server)")
        return self


def _database_url(value: SecretStr) -> SecretStr:
    text = value.get_secret_value()
    if text and not text.startswith(("postgresql://", "postgres://", "sqlite:///")):
        raise ValueError("expected postgresql://... (or sqlite:///path); the password is never shown")
    return value


DatabaseUrl = Annotated[SecretStr, AfterValidator(_database_url)]


class StorageSettings(Section):
    """Where progress is kept: a SQLite file (one instance), or PostgreSQL (several; docs/operations.md)."""

    database: Path = Field(default=Path("data/craftbot.sqlite3"), description="SQLite file")
    url: DatabaseUrl = Field(
        default=SecretStr(""),
        description="postgresql://user:password@host/db: everything in PostgreSQL; empty: the SQLite file")
    keys_url: DatabaseUrl = Field(
        default=SecretStr(""),
        description="with url and a data key: another PostgreSQL database for the person keys")
    crisis_wait_seconds: float = Field(
        default=CRISIS_WAIT, gt=0, le=10,
        description="seconds crisis help waits for the store before it is sent without saved progress")

    def location(self) -> Path | str:
        """Where the store is: the PostgreSQL URL, or the SQLite file (`url`'s, else `database`)."""
        url = self.url.get_secret_value()
        if not url:
            return self.database
        return url if self.shared else (Location.parse(url).path or self.database)

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite file, when the store is one."""
        where = self.location()
        return where if isinstance(where, Path) else None

    def keys(self) -> str | None:
        """The person keys' PostgreSQL database, when set."""
        return self.keys_url.get_secret_value() or None

    @property
    def shared(self) -> bool:
        """Whether the store is PostgreSQL (several instances may share it)."""
        return self.url.get_secret_value().startswith(("postgresql://", "postgres://"))


class CurriculumSettings(Section):
    """Which curriculum is served."""

    path: Path = Field(default=BUNDLED_CURRICULUM, description="curriculum folder")
    default_locale: str = Field(default="en", description="locale for users whose language is missing")


class LoggingSettings(Section):
    """What goes to the log (never message text, names or answers)."""

    level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    format: str = Field(default="text", pattern="^(text|json)$", description="text or json lines")
    pseudonym_key: SecretStr = Field(
        default=SecretStr(""),
        description="secret for log pseudonyms when no data key is set; empty: random per process")


class MetricsSettings(Section):
    """Where /healthz and /metrics are served (docs/operations.md)."""

    listen: str = Field(default="127.0.0.1:9464", pattern=LISTEN,
                        description="host:port for /healthz and /metrics; empty: not served")


class PrivacySettings(Section):
    """How long what people write is kept."""

    retention_days: int = Field(default=365, ge=0,
                                description="erase the data of people inactive this many days; 0 keeps it")


class ResourceWording(Section):
    """A crisis line's name and details in one language (the number stays the line's own)."""

    name: str = Field(min_length=1, description="what people call it in this language")
    details: str = Field(min_length=1, description="how to reach it, in this language")


class ResourceSettings(Section):
    """One crisis line or service, shown when words of crisis interrupt and by /safety."""

    name: str = Field(min_length=1, description="what people call it, such as 911; fills {key_name}")
    number: str = Field(default="", description="the number people call, filling {key} in lessons;"
                                                " leave it out when the name is the number (911)")
    details: str = Field(min_length=1, description="how to reach it and what it is for; fills {key_details}")
    show_for: list[str] = Field(default_factory=list,
                                description="pathways whose message shows it (safety: /safety); empty: all")
    languages: dict[str, ResourceWording] = Field(
        default_factory=dict, description="its name and details in another locale's language, by locale")


def _us_resources() -> dict[str, ResourceSettings]:
    return {key: ResourceSettings(name=r.name, number=r.number, details=r.details,
                                  show_for=list(r.show_for), languages=_worded(key))
            for key, r in US_RESOURCES.items()}


class CrisisSettings(Section):
    """The crisis resources of the region the bot serves (default: the United States)."""

    resources: dict[str, ResourceSettings] = Field(
        default_factory=_us_resources,
        description="crisis lines by key (emergency, lifeline, dv_hotline, treatment_line, or more);"
                    " giving any replaces all the defaults; each fills {key}, {key_name}, {key_details}")

    def resource_map(self) -> dict[str, Resource]:
        """The resources as the engine takes them (and, by key, as validation checks lessons)."""
        return {key: Resource(r.name, r.details, tuple(r.show_for), r.number)
                for key, r in self.resources.items()}

    def wording(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Per locale, each resource's (name, details) in that locale's language, where given."""
        return _wording(self.resources)


class PersonSettings(Section):
    """One route to human help: a counsellor, family groups, a treatment locator."""

    name: str = Field(min_length=1, description="what it is called; fills {key_name}")
    details: str = Field(min_length=1, description="how to find it (a site, a number); fills {key_details}")
    languages: dict[str, ResourceWording] = Field(
        default_factory=dict, description="its name and details in another locale's language, by locale")


def _worded(key: str) -> dict[str, ResourceWording]:
    """A default line's or route's wording in each language the US defaults have it in."""
    return {locale: ResourceWording(name=words[key][0], details=words[key][1])
            for locale, words in US_WORDING.items() if key in words}


def _us_people() -> dict[str, PersonSettings]:
    return {key: PersonSettings(name=r.name, details=r.details, languages=_worded(key))
            for key, r in US_PEOPLE.items()}


def _wording(entries: dict[str, ResourceSettings] | dict[str, PersonSettings]
             ) -> dict[str, dict[str, tuple[str, str]]]:
    """Per locale, each entry's (name, details) in that locale's language, where given."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for key, entry in entries.items():
        for locale, words in entry.languages.items():
            out.setdefault(locale, {})[key] = (words.name, words.details)
    return out


class PeopleSettings(Section):
    """Routes to people (docs/reminders.md): offered in lessons, after a setback, after the last module."""

    resources: dict[str, PersonSettings] = Field(
        default_factory=_us_people,
        description="by key (counsellor, family_groups, treatment_locator, or more); giving any"
                    " replaces all the defaults; each fills {key}, {key_name}, {key_details};"
                    " never shown in a crisis message")

    def resource_map(self) -> dict[str, Resource]:
        """The routes as the engine takes them, kept out of every crisis message."""
        return {key: Resource(r.name, r.details, (PEOPLE_PATHWAY,)) for key, r in self.resources.items()}


class ReminderSettings(Section):
    """Messages the bot sends unasked: homework check-ins, check-ins, the one nudge (docs/reminders.md)."""

    send: bool = Field(default=True, description="send reminders at all; false stops the dispatcher")
    poll_seconds: float = Field(default=30.0, gt=0, le=3600, description="seconds between looks for due ones")
    nudge_after_days: int = Field(default=3, ge=1, le=60,
                                  description="days after someone stops mid-module before the one nudge")
    per_second: float = Field(default=30.0, gt=0, le=30,
                              description="reminders per second at most, all chats (replies still go first)")
    per_chat_seconds: float = Field(default=1.0, ge=0, le=60, description="seconds between two to one chat")
    workers: int = Field(default=8, ge=1, le=64, description="reminders being sent at the same time")
    jitter_minutes: int = Field(default=10, ge=0, le=60,
                                description="each person's reminders move by up to this many minutes"
                                            " (the same offset each time), so they do not all come at once")


class Settings(BaseSettings):
    """All settings: the environment's CRAFTBOT_SECTION__KEY variables over the file's keys."""

    model_config = SettingsConfigDict(extra="forbid", env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTING)

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    curriculum: CurriculumSettings = Field(default_factory=CurriculumSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    crisis: CrisisSettings = Field(default_factory=CrisisSettings)
    people: PeopleSettings = Field(default_factory=PeopleSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment wins over the file (passed in as keyword arguments); no .env files."""
        return env_settings, init_settings

    def resource_map(self) -> dict[str, Resource]:
        """Everything lessons may name: the crisis lines and the routes to people.

        Another region's crisis lines without a `people:` section leave the routes to the
        engine's country-neutral wording, never the US locator.
        """
        crisis = self.crisis.resource_map()
        if self._with_people():
            return {**self.people.resource_map(), **crisis}
        return crisis

    def wording(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Per locale, the (name, details) of the lines and routes `resource_map` gives, where worded."""
        out = _wording(self.people.resources) if self._with_people() else {}
        for locale, words in self.crisis.wording().items():
            out.setdefault(locale, {}).update(words)
        return out

    def _with_people(self) -> bool:
        return "people" in self.model_fields_set or "crisis" not in self.model_fields_set

    @property
    def token(self) -> str:
        """The bot token: from the environment if set, else from the file."""
        return os.environ.get(TOKEN_ENV, "").strip() or self.telegram.token.get_secret_value()


def load_settings(path: Path | None) -> Settings:
    """Read settings from a YAML file (or only the environment and defaults when none is given).

    Raises ConfigError with one line per problem. Relative paths in the file are relative to
    the file; relative paths from the environment, to the working directory.
    """
    data, root = read_yaml(path) if path is not None else ({}, None)
    if data is None:
        data = {}
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        raise ConfigError([f"{path}:1: expected sections such as `telegram:` and `storage:`"])
    without_overridden(data, Settings, os.environ)
    try:
        settings = Settings(**data)
    except EnvironmentParseError:
        lines = unparsable(Settings, os.environ) or [f"{ENV_PREFIX}...: a variable cannot be read"]
        raise ConfigError(lines) from None
    except ValidationError as exc:
        raise ConfigError(problems(exc, Settings, path, root, os.environ)) from None
    if path is not None:
        _relative_to(path.resolve().parent, settings, data)
    return settings


def _relative_to(base: Path, settings: Settings, data: dict[str, Any]) -> None:
    """Anchor the file's relative paths (and the default database) at the file's folder."""
    database = settings.storage.database
    if not database.is_absolute() and not from_environment(("storage", "database"), os.environ):
        settings.storage.database = base / database
    curriculum = settings.curriculum.path
    in_file = "path" in (data.get("curriculum") or {})
    if not curriculum.is_absolute() and in_file and not from_environment(("curriculum", "path"), os.environ):
        settings.curriculum.path = base / curriculum
