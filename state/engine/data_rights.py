"""The privacy commands people can use at any step: /hide, /mydata and /delete.

The engine answers them without touching the person's progress (`Reply.save` is False)
and without any event (a record that someone hid their chat would itself be a trace).
What needs the database travels as an order the conversation service carries out:

- `/hide` orders `HideRecent`: the service deletes the chat's messages of the last 48
  hours; one neutral message stays and says how to clear older history in the app.
- `/mydata` orders `ExportData`: the service sends everything stored as a JSON file, with
  a short readable summary (`exported`).
- `/delete` asks twice, with buttons that expire after ten minutes, then orders `EraseData`.

Buttons carry `p:d1:<issued>`, `p:d2:<issued>` and `p:keep`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from state.contracts import (
    Button,
    Command,
    Document,
    EraseData,
    ExportData,
    HideRecent,
    Input,
    Message,
    Press,
    Progress,
    Reply,
)
from state.curriculum.formats import day, number
from state.curriculum.markup import to_html
from state.curriculum.model import LocaleContent
from state.engine.callbacks import PRIVACY, callback, parse
from state.engine.discreet import is_discreet, outside_text

COMMANDS = frozenset({"hide", "mydata", "delete"})
CONFIRM_SECONDS = 600


def _date(at: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(at))


class Texts:
    """The bot's own words in one person's language."""

    def __init__(self, content: LocaleContent) -> None:
        assert content.locale is not None
        self.ui = content.locale.ui
        self.defaults = content.locale.defaults

    def say(self, key: str, buttons: tuple[tuple[Button, ...], ...] = (), **values: str) -> Message:
        """One ui text as a message, its {placeholders} filled from `values`."""
        text = self.ui[key]
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        return Message(to_html(text, {}, self.defaults), buttons)

    def ask(self, key: str, yes_key: str, stage: str, now: float) -> Reply:
        """A /delete confirmation whose yes-button is valid for CONFIRM_SECONDS."""
        buttons = ((Button(self.ui[yes_key], callback(PRIVACY, stage, str(int(now)))),
                    Button(self.ui["delete_no_button"], callback(PRIVACY, "keep"))),)
        return Reply(messages=[self.say(key, buttons)], save=False)


def wants(message: Input) -> bool:
    """Whether this input is one of the privacy commands or their buttons."""
    if isinstance(message, Command):
        return message.name in COMMANDS
    return isinstance(message, Press) and parse(message.data)[0] == PRIVACY


def answer(content: LocaleContent, progress: Progress, message: Input, now: float) -> Reply:
    """Answer a privacy command or one of the /delete buttons."""
    texts = Texts(content)
    if isinstance(message, Command):
        if message.name == "hide":
            return Reply(messages=[hide_done(texts, content, progress)], orders=[HideRecent()], save=False)
        if message.name == "mydata":
            return Reply(orders=[ExportData(content.code)], save=False)
        return texts.ask("delete_confirm", "delete_yes_button", "d1", now)
    assert isinstance(message, Press)
    return _on_press(texts, message, now)


def hide_done(texts: Texts, content: LocaleContent, progress: Progress) -> Message:
    """The one message /hide leaves: how to clear older history, or, in discreet mode, words
    that say nothing about clearing (someone may read the phone)."""
    assert content.locale is not None
    if is_discreet(progress):
        return Message(to_html(outside_text(progress, "hide", "", content.locale), {}, texts.defaults))
    return texts.say("hide_done")


def _on_press(texts: Texts, press: Press, now: float) -> Reply:
    """A /delete button: ask again, erase, keep, or say it has expired."""
    stage, _, issued = parse(press.data)[1].partition(":")
    done = Message(press.message_html) if press.message_html else None  # its buttons go
    if stage == "keep":
        reply = Reply(messages=[texts.say("delete_cancelled")], save=False)
    elif stage not in ("d1", "d2") or not issued.isdigit() or not (
            0 <= now - int(issued) <= CONFIRM_SECONDS):
        reply = Reply(messages=[texts.say("delete_expired")], save=False)
    elif stage == "d1":
        reply = texts.ask("delete_confirm_again", "delete_final_button", "d2", now)
    else:
        reply = Reply(messages=[texts.say("delete_done")], orders=[EraseData()], remember=False,
                      save=False)
    reply.edit = done
    return reply


def exported(content: LocaleContent, found: Mapping[str, Any] | None, now: float) -> Reply:
    """The /mydata answer once the service has read everything stored (None: nothing is)."""
    texts = Texts(content)
    if found is None:
        return Reply(messages=[texts.say("mydata_none")], save=False)
    found = {"exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), **found}
    data = json.dumps(found, ensure_ascii=False, indent=2).encode("utf-8")
    progress = found["progress"] or {}
    tables = found["tables"]
    summary = texts.say(
        "mydata_summary",
        started=day(progress.get("created_at") or now, content.code),  # the locale's way (CLDR)
        last_active=day(progress.get("updated_at") or now, content.code),
        finished=number(len(progress.get("completed") or {}), content.code),
        answers=number(len(progress.get("answers") or {}), content.code),
        events=number(len(tables.get("events", [])), content.code),
        messages=number(len(tables.get("recent_messages", [])), content.code))
    return Reply(messages=[summary], documents=[Document(f"my-data-{_date(now)}.json", data)], save=False)
