"""The terminal chat: the same engine and store as the Telegram bot, on standard input/output.

Bot messages are printed as plain text; buttons are numbered, and typing a number presses
that button. It reads from a pipe as well as a keyboard (`craftbot chat < script.txt`), so
counselors and tests can script a conversation. When input is piped, each line read is
echoed after `> ` so the transcript reads like the conversation. The conversation itself is
driven by the shipped driver (`state.service.driver.ServiceDriver`), which records what was
shown; the numbering of buttons is the terminal's own.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from bot.ptb.privacy import open_store
from bot.ptb.reminders import Scheduler
from state.contracts import Button, Command, Input, Message, Reply, TextIn
from state.curriculum.markup import to_plain
from state.engine.engine import Engine
from state.service.clock import clock_from_env
from state.service.conversations import Conversations
from state.service.driver import Dialogue, ServiceDriver
from state.service.pacing import Pacer
from state.service.transcripts import StartError, parse_profile, preview, profile_answers

SAVED = "Bye for now. Your progress is saved."
ERASED = "Bye for now. Nothing about you is kept."  # after /delete, nothing is saved


class TerminalChat:
    """One person chatting with the bot in a terminal."""

    def __init__(self, conversations: Conversations, user_id: int, *, out: TextIO = sys.stdout,
                 echo: bool = False, language: str | None = None) -> None:
        self.conversations = conversations
        self.user_id = user_id
        self.out = out
        self.echo = echo
        # A press carries no message text: the terminal has no sent message to edit.
        self.driver = ServiceDriver(conversations, user_id, language=language,
                                    dialogue=Dialogue(quote_pressed=False))
        self.farewell = SAVED
        self.buttons: list[Button] = []
        # A private folder (0700) for charts, made when first needed, removed when the chat ends.
        self.files: Path | None = None
        # Reminders that come due (by CRAFTBOT_FAKE_CLOCK_FILE's clock too) show before a prompt.
        self.reminders = Scheduler(conversations, _Terminal(self), clock=conversations.clock,
                                   pacer=Pacer(per_second=1000, per_chat=0))

    def show(self, reply: Reply) -> None:
        """Print a reply; number its buttons so a typed number can press them."""
        if self.farewell in (SAVED, ERASED):  # an erasure (/delete) keeps nothing, not even ids
            self.farewell = SAVED if reply.remember else ERASED
        if reply.toast:
            self.out.write(f"({reply.toast})\n")
        if reply.edit is not None and reply.edit.buttons:
            self.buttons = [b for row in reply.edit.buttons for b in row]
            self._print_buttons()
        for document in reply.documents:  # /mydata: the user's own data, shown in their terminal
            self.out.write(f"\n[file {document.name}, {len(document.data)} bytes]\n"
                           f"{document.data.decode('utf-8', 'replace')}\n")
        if reply.messages:
            # Only the newest buttons can be pressed by number: after a free-text prompt a
            # typed "3" is an answer, not a press on an older message's button.
            self.buttons = []
        for message in reply.messages:
            self.show_message(message)
        for photo in reply.photos:  # the /progress chart: saved, and its path shown
            self.files = self.files or Path(tempfile.mkdtemp(prefix="craftbot-charts-"))
            path = self.files / f"{self.user_id}-{photo.name}"
            path.write_bytes(photo.data)
            self.out.write(f"\n[chart saved: {path}]\n(it is removed when this chat ends)\n")
        self.out.flush()

    def show_message(self, message: Message) -> None:
        """Print one message and number its buttons."""
        self.out.write(f"\n{to_plain(message.html)}\n")
        if message.buttons:
            self.buttons = [b for row in message.buttons for b in row]
            self._print_buttons()

    def _print_buttons(self) -> None:
        for number, button in enumerate(self.buttons, start=1):
            self.out.write(f"  [{number}] {button.label}\n")

    def parse(self, line: str) -> Input:
        """Turn a typed line into the input the bot would get from Telegram."""
        text = line.strip()
        if text.startswith("/") and len(text) > 1:
            return Command.from_text(text)
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            return self.driver.dialogue.press_data(self.buttons[int(text) - 1].data)
        return TextIn(text)

    async def send(self, message: Input) -> None:
        """Send one input and print the answer."""
        reply = await self.driver.input(message)
        if reply is not None:
            self.show(reply)

    async def run(self, source: TextIO = sys.stdin, opening: Reply | None = None) -> None:
        """Chat until end of input (or /quit); begin with `opening`, or else with /start.

        The charts saved meanwhile are removed at the end.
        """
        try:
            await self._chat(source, opening)
        finally:
            if self.files is not None:
                shutil.rmtree(self.files, ignore_errors=True)
                self.files = None
        self.out.write(f"\n{await self._farewell()}\n")

    async def _farewell(self) -> str:
        """The goodbye in the language the person was served in (English if nothing is kept)."""
        if self.farewell not in (SAVED, ERASED):  # a preview's own last line
            return self.farewell
        key = "chat_goodbye_saved" if self.farewell == SAVED else "chat_goodbye_erased"
        try:
            progress = await self.conversations.store.load(self.user_id)
        except Exception:  # a goodbye never fails the chat: the English words are kept here
            progress = None
        content = self.conversations.engine.curriculum.content(progress.locale if progress else None)
        words = content.locale.ui.get(key) if content.locale else None
        return words or self.farewell

    async def _chat(self, source: TextIO, opening: Reply | None) -> None:
        if opening is not None:
            self.show(self.driver.dialogue.record(opening))
        else:
            await self.send(Command("start"))
        while True:
            await self.reminders.run_due(user_id=self.user_id)
            self.out.write("\n> " if not self.echo else "")
            self.out.flush()
            line = await asyncio.to_thread(source.readline)
            if not line:
                break
            if self.echo:
                self.out.write(f"\n> {line.rstrip()}\n")
            if line.strip() in ("/quit", "/exit"):
                break
            if not line.strip():
                continue
            await self.send(self.parse(line))


class _Terminal:
    """Delivers reminders to the terminal chat: printed like any message."""

    def __init__(self, chat: TerminalChat) -> None:
        self.chat = chat

    async def send(self, chat_id: int, message: Message) -> None:
        """Print the reminder."""
        self.chat.driver.dialogue.show(message)
        self.chat.show_message(message)
        self.chat.out.flush()


def preview_chat(engine: Engine, args: argparse.Namespace, database: Path | None) -> int:
    """`craftbot chat --start MODULE[:STEP]`: chat from any step as a given family member.

    The family member is fresh, has finished onboarding with the `--profile` answers, and
    lives in a temporary database unless `--db` names one (then `--user` must be new there).
    """
    try:
        profile = parse_profile(args.profile or "")
    except StartError as exc:
        print(f"craftbot: --profile: {exc}", file=sys.stderr)
        return 2

    async def chat(path: Path) -> int:
        store = await open_store(path)
        try:
            conversations = Conversations(engine, store, clock_from_env())
            if await store.load(args.user) is not None:
                print(f"craftbot: user {args.user} already has progress in {path}; preview as a"
                      " new --user, or leave out --db to use a throwaway database", file=sys.stderr)
                return 2
            progress, opening = preview(engine, args.user, args.locale, args.start, profile,
                                        conversations.clock())
            await store.save(progress, [])
            answers = profile_answers(engine.curriculum.content(progress.locale), profile)
            shown = ", ".join(f"{k}={v}" for k, v in answers.items())
            print(f"Preview of {args.start} ({progress.locale}) as: {shown}")
            chat = TerminalChat(conversations, args.user, echo=not sys.stdin.isatty())
            if database is None:
                chat.farewell = "End of the preview. Nothing was kept."
            await chat.run(opening=opening)
            return 0
        except StartError as exc:
            print(f"craftbot: {exc}", file=sys.stderr)
            return 2
        finally:
            await store.close()

    if database is not None:
        return asyncio.run(chat(database))
    with tempfile.TemporaryDirectory(prefix="craftbot-preview-") as scratch:
        return asyncio.run(chat(Path(scratch) / "preview.sqlite3"))
