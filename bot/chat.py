"""The terminal chat: the same engine and store as the Telegram bot, on standard input/output.

Bot messages are printed as plain text; buttons are numbered, and typing a number presses
that button. It reads from a pipe as well as a keyboard (`craftbot chat < script.txt`), so
counselors and tests can script a conversation. When input is piped, each line read is
echoed after `> ` so the transcript reads like the conversation.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from state.progress import Button, Command, Input, Press, Reply, TextIn
from state.render import to_plain
from state.service import Conversations


class TerminalChat:
    """One person chatting with the bot in a terminal."""

    def __init__(self, conversations: Conversations, user_id: int, *, out: TextIO = sys.stdout,
                 echo: bool = False) -> None:
        self.conversations = conversations
        self.user_id = user_id
        self.out = out
        self.echo = echo
        self.buttons: list[Button] = []

    def show(self, reply: Reply) -> None:
        """Print a reply; number its buttons so a typed number can press them."""
        if reply.toast:
            self.out.write(f"({reply.toast})\n")
        if reply.edit is not None and reply.edit.buttons:
            self.buttons = [b for row in reply.edit.buttons for b in row]
            self._print_buttons()
        for document in reply.documents:  # /mydata: the user's own data, shown in their terminal
            self.out.write(f"\n[file {document.name}, {len(document.data)} bytes]\n"
                           f"{document.data.decode('utf-8', 'replace')}\n")
        for message in reply.messages:
            self.out.write(f"\n{to_plain(message.html)}\n")
            if message.buttons:
                self.buttons = [b for row in message.buttons for b in row]
                self._print_buttons()
        self.out.flush()

    def _print_buttons(self) -> None:
        for number, button in enumerate(self.buttons, start=1):
            self.out.write(f"  [{number}] {button.label}\n")

    def parse(self, line: str) -> Input:
        """Turn a typed line into the input the bot would get from Telegram."""
        text = line.strip()
        if text.startswith("/") and len(text) > 1:
            name, _, arg = text[1:].partition(" ")
            return Command(name.lower(), arg.strip())
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            return Press(self.buttons[int(text) - 1].data)
        return TextIn(text)

    async def send(self, message: Input) -> None:
        """Send one input and print the answer."""
        reply = await self.conversations.handle(self.user_id, message)
        if reply is not None:
            self.show(reply)

    async def run(self, source: TextIO = sys.stdin) -> None:
        """Chat until end of input (or /quit)."""
        await self.send(Command("start"))
        while True:
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
        self.out.write("\nBye for now. Your progress is saved.\n")
