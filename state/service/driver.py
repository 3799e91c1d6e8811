"""One conversation driver: a person's verbs (send, press, command, said) against the bot.

`Dialogue` is the core: it records every reply the person is shown, keeps the keyboards of
the latest reply that showed any, and turns a button's visible label into the press Telegram
would deliver. Two thin front ends put it in front of an answerer:

- `EngineDriver` drives the synchronous engine directly (no store, no I/O), with its own
  clock; the curriculum walks and the transcript tests (`craftbot test-curriculum`) use it;
- `ServiceDriver` drives the async conversation service (store, reminders), as the
  terminal chat (`craftbot chat`) does.

The verbs are the same on both: `send(text)` types, `press(label)` taps the button with that
label (`NoSuchButton` says which buttons there are when none has it), `command(name)` sends
/name, and `said()` is what the bot said since the last call, as the person reads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from state.contracts import Button, Command, Input, Message, Press, Progress, Reply, TextIn
from state.curriculum.markup import to_plain
from state.engine.engine import Engine
from state.service.conversations import Conversations

CHECKBOX = re.compile(r"^(✅|▫️)\s*")  # a checklist's tick, not part of the option's label


class NoSuchButton(LookupError):
    """A press of a label that no button shown has; the message lists the buttons there are."""

    def __init__(self, label: str, buttons: Sequence[Button]) -> None:
        shown = " ".join(f"[{b.label}]" for b in buttons) or "(none)"
        super().__init__(f'there is no button "{label}" to press\n  the buttons are: {shown}')
        self.label = label
        self.buttons = tuple(buttons)


def plain(text: str) -> str:
    """Text as compared: markup and curly quotes made plain, runs of white space one space.

    So a text copied from the curriculum's YAML (with `**bold**`) matches what the user sees.
    """
    for curly, straight in (("**", ""), ("__", ""), ("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"')):
        text = text.replace(curly, straight)
    return " ".join(text.split())


def reply_text(reply: Reply) -> str:
    """What the family member sees of a reply: the toast, each message and its buttons."""
    lines = [f"({reply.toast})"] if reply.toast else []
    for message in reply.messages:
        lines.append(to_plain(message.html))
        lines.extend("  [" + "] [".join(b.label for b in row) + "]" for row in message.buttons)
    if not reply.messages and reply.edit is not None and reply.edit.buttons:
        lines.append("(no new message; the buttons changed)")
        lines.extend("  [" + "] [".join(b.label for b in row) + "]" for row in reply.edit.buttons)
    return "\n".join(lines)


def find_button(buttons: Sequence[Button], label: str, *, partial: bool = False) -> Button:
    """The button a person means by `label`, among buttons listed newest first.

    The label matches as the person reads it (markup, curly quotes and a checklist's tick
    aside), else ignoring case; with `partial`, else the first label that contains it.
    """
    wanted = {plain(label), plain(CHECKBOX.sub("", label))}
    seen = [(button, plain(CHECKBOX.sub("", button.label))) for button in buttons]
    found = next((b for b, shown in seen if shown in wanted), None)
    found = found or next((b for b, shown in seen if shown.casefold() == plain(label).casefold()), None)
    if found is None and partial:
        found = next((b for b, shown in seen if plain(label) in shown), None)
    if found is None:
        raise NoSuchButton(label, buttons)
    return found


@dataclass(frozen=True)
class Keyboard:
    """The buttons under one message, and that message's text (sent back with a press)."""

    html: str
    buttons: tuple[Button, ...]


@dataclass
class Dialogue:
    """What one person has been shown: the replies not yet read and the latest keyboards.

    `quote_pressed`: a press carries the text of the message its button was under, as
    Telegram does, so the engine can edit that message; the terminal has none to edit.
    """

    quote_pressed: bool = True
    last: Reply = field(default_factory=Reply)
    keyboards: list[Keyboard] = field(default_factory=list)  # in the order they were shown
    unread: list[Reply] = field(default_factory=list)

    def record(self, reply: Reply) -> Reply:
        """A reply the person is shown; its keyboards, if it has any, replace the older ones."""
        self.last = reply
        self.unread.append(reply)
        carriers = [*([reply.edit] if reply.edit else []), *reply.messages]
        shown = [Keyboard(m.html, tuple(b for row in m.buttons for b in row)) for m in carriers
                 if m.buttons]
        if shown:
            self.keyboards = shown
        return reply

    def show(self, message: Message) -> None:
        """A message that came on its own (a reminder), shown like a reply."""
        self.record(Reply(messages=[message]))

    def buttons(self) -> list[Button]:
        """Every button the person can press, in the order shown."""
        return [b for keyboard in self.keyboards for b in keyboard.buttons]

    def press_for(self, label: str, *, partial: bool = False) -> Press:
        """The press of the button labelled `label`; the newest keyboard wins a tie."""
        newest_first = [b for keyboard in reversed(self.keyboards) for b in keyboard.buttons]
        return self.press_data(find_button(newest_first, label, partial=partial).data)

    def press_data(self, data: str) -> Press:
        """The press of the button with this callback data (also one no longer shown)."""
        html = next((k.html for k in reversed(self.keyboards) if any(b.data == data for b in k.buttons)),
                    None)
        return Press(data, html if self.quote_pressed else None)

    def said(self) -> str:
        """What the bot said since the last call, as the person reads it."""
        text = "\n".join(filter(None, (reply_text(reply) for reply in self.unread)))
        self.unread.clear()
        return text

    def copy(self) -> Dialogue:
        """A copy for a cloned conversation: the same keyboards and last reply, nothing unread."""
        return Dialogue(self.quote_pressed, self.last, list(self.keyboards))


def command_input(name: str, arg: str = "") -> Command:
    """A slash command as Telegram's door passes it on (`name` without the slash)."""
    return Command(name.lower(), arg.strip())


class EngineDriver:
    """A person talking to the engine itself; `now` is the moment of the next input.

    Time moves on `step` seconds after each input (and after an opening shown without one).
    """

    def __init__(self, engine: Engine, progress: Progress, now: float, *, step: float = 60.0,
                 dialogue: Dialogue | None = None) -> None:
        self.engine = engine
        self.progress = progress
        self.now = now
        self.step = step
        self.dialogue = dialogue or Dialogue()

    def input(self, message: Input) -> Reply:
        """Hand the engine one input at `now`; the reply is recorded and time moves on."""
        reply = self.engine.handle(self.progress, message, self.now)
        self.now += self.step
        return self.dialogue.record(reply)

    def opened(self, progress: Progress, reply: Reply) -> Reply:
        """Go on from a state made without an input (a preview's start) and what it showed."""
        self.progress = progress
        self.now += self.step
        return self.dialogue.record(reply)

    def send(self, text: str) -> Reply:
        """Type a message."""
        return self.input(TextIn(text))

    def press(self, label: str) -> Reply:
        """Tap the button with this label (NoSuchButton if none is shown)."""
        return self.input(self.dialogue.press_for(label))

    def command(self, name: str, arg: str = "") -> Reply:
        """Send /name (with an argument, if any)."""
        return self.input(command_input(name, arg))

    def said(self) -> str:
        """What the bot said since the last call."""
        return self.dialogue.said()


class ServiceDriver:
    """A person talking to the conversation service (store, reminders) as one user."""

    def __init__(self, conversations: Conversations, user_id: int, *, language: str | None = None,
                 dialogue: Dialogue | None = None) -> None:
        self.conversations = conversations
        self.user_id = user_id
        self.language = language  # as Telegram's language_code: the locale a new user gets
        self.dialogue = dialogue or Dialogue()

    async def input(self, message: Input) -> Reply | None:
        """Hand the service one input; the reply (None for a repeated update) is recorded."""
        reply = await self.conversations.handle(self.user_id, message, language=self.language)
        return self.dialogue.record(reply) if reply is not None else None

    async def send(self, text: str) -> Reply | None:
        """Type a message."""
        return await self.input(TextIn(text))

    async def press(self, label: str) -> Reply | None:
        """Tap the button with this label (NoSuchButton if none is shown)."""
        return await self.input(self.dialogue.press_for(label))

    async def command(self, name: str, arg: str = "") -> Reply | None:
        """Send /name (with an argument, if any)."""
        return await self.input(command_input(name, arg))

    def said(self) -> str:
        """What the bot said since the last call."""
        return self.dialogue.said()

