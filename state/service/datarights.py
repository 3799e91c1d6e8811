"""The privacy commands people can use at any step: /hide, /mydata and /delete.

They are answered before the engine sees the input, work before onboarding too, and
leave no event behind (a record that someone hid their chat would itself be a trace).

- `/hide` asks the door to delete the chat's messages of the last 48 hours and leaves one
  neutral message that says how to clear older history in the Telegram app.
- `/mydata` sends everything stored as a JSON file, with a short readable summary.
- `/delete` asks twice, with buttons that expire after ten minutes, then erases every row.
"""

from __future__ import annotations

import json
import time

from state.contracts import Button, Command, Document, Input, Message, Press, Reply
from state.curriculum.markup import to_html
from state.engine.engine import Engine
from state.store.privacy import PrivacyData
from state.store.progress import SqliteProgressStore

COMMANDS = frozenset({"hide", "mydata", "delete"})
PREFIX = "p:"
CONFIRM_SECONDS = 600


def _date(at: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(at))


class Texts:
    """The bot's own words in one user's language."""

    def __init__(self, ui: dict[str, str], defaults: dict[str, str]) -> None:
        self.ui = ui
        self.defaults = defaults

    def say(self, key: str, buttons: tuple[tuple[Button, ...], ...] = (), **values: str) -> Message:
        """One ui text as a message, its {placeholders} filled from `values`."""
        text = self.ui[key]
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        return Message(to_html(text, {}, self.defaults), buttons)

    def ask(self, key: str, yes_key: str, stage: str, now: float) -> Reply:
        """A /delete confirmation whose yes-button is valid for CONFIRM_SECONDS."""
        buttons = ((Button(self.ui[yes_key], f"{PREFIX}{stage}:{int(now)}"),
                    Button(self.ui["delete_no_button"], f"{PREFIX}keep")),)
        return Reply(messages=[self.say(key, buttons)])


class DataRights:
    """Answers the privacy commands and the /delete confirmation buttons."""

    def __init__(self, engine: Engine, store: SqliteProgressStore, privacy: PrivacyData) -> None:
        self.engine = engine  # replaced by `Conversations.use` when the curriculum is reloaded
        self.store = store
        self.privacy = privacy

    @staticmethod
    def wants(message: Input) -> bool:
        """Whether this input is one of the privacy commands or their buttons."""
        if isinstance(message, Command):
            return message.name in COMMANDS
        return isinstance(message, Press) and message.data.startswith(PREFIX)

    async def handle(self, user_id: int, message: Input, now: float, language: str | None) -> Reply:
        """Answer a privacy command or button."""
        progress = await self.store.load(user_id)
        content = self.engine.curriculum.content(progress.locale if progress else language)
        assert content.locale is not None
        texts = Texts(content.locale.ui, content.locale.defaults)
        if isinstance(message, Command):
            if message.name == "hide":
                return await self.hide(texts, user_id, now)
            if message.name == "mydata":
                return await self.mydata(texts, user_id, now)
            return texts.ask("delete_confirm", "delete_yes_button", "d1", now)
        assert isinstance(message, Press)
        return await self.on_press(texts, user_id, message, now)

    async def hide(self, texts: Texts, user_id: int, now: float) -> Reply:
        """Delete the chat's recent messages; one neutral message stays."""
        ids = await self.privacy.take_recent(user_id, now)
        return Reply(messages=[texts.say("hide_done")], delete=ids)

    async def mydata(self, texts: Texts, user_id: int, now: float) -> Reply:
        """Everything stored about the user as a JSON file, and a summary."""
        found = await self.privacy.export(user_id)
        if found is None:
            return Reply(messages=[texts.say("mydata_none")])
        found = {"exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), **found}
        data = json.dumps(found, ensure_ascii=False, indent=2).encode("utf-8")
        progress = found["progress"] or {}
        tables = found["tables"]
        summary = texts.say(
            "mydata_summary",
            started=_date(progress.get("created_at") or now),
            last_active=_date(progress.get("updated_at") or now),
            finished=str(len(progress.get("completed") or {})),
            answers=str(len(progress.get("answers") or {})),
            events=str(len(tables.get("events", []))),
            messages=str(len(tables.get("recent_messages", []))))
        return Reply(messages=[summary], documents=[Document(f"my-data-{_date(now)}.json", data)])

    async def on_press(self, texts: Texts, user_id: int, press: Press, now: float) -> Reply:
        """A /delete button: ask again, erase, keep, or say it has expired."""
        stage, _, issued = press.data[len(PREFIX):].partition(":")
        done = Message(press.message_html) if press.message_html else None  # its buttons go
        if stage == "keep":
            reply = Reply(messages=[texts.say("delete_cancelled")])
        elif stage not in ("d1", "d2") or not issued.isdigit() or not (
                0 <= now - int(issued) <= CONFIRM_SECONDS):
            reply = Reply(messages=[texts.say("delete_expired")])
        elif stage == "d1":
            reply = texts.ask("delete_confirm_again", "delete_final_button", "d2", now)
        else:
            await self.privacy.erase(user_id)
            reply = Reply(messages=[texts.say("delete_done")], remember=False)
        reply.edit = done
        return reply
