"""A family member at the keyboard of the fake Telegram: types, taps buttons, reads replies.

`Player` has the verbs of the shipped conversation driver (`state.service.driver`):
`send(text)`, `press(label)` (a button found by the driver's own label rule), `command(name)`
and `said()`; underneath, it talks to the bot through the fake Bot API server, so tests
exercise python-telegram-bot's real HTTP stack (the bot itself: `tests.kit.bots`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from state.contracts import Button
from state.service.driver import find_button
from tests.kit.botapi import FakeBotApi

# Bot API calls that show the user an answer.
ANSWERS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument",
                     "sendPhoto", "deleteMessage", "leaveChat"})


@dataclass
class Player:
    """One family member in a private chat with the bot."""

    server: FakeBotApi
    user_id: int
    injected: Any = field(default=None, repr=False)  # what the last `inject` put in the queue
    read: int = field(default=0, repr=False)  # how many of the bot's messages `said` has returned

    @property
    def chat_id(self) -> int:
        """A private chat's id is the user's id."""
        return self.user_id

    def _mark(self) -> int:
        self._calls_mark = len(self.server.calls)
        return self.server.sent_count(self.chat_id)

    def _since(self, mark: int) -> list[dict[str, Any]]:
        """The bot's new messages, once it has answered and gone quiet.

        Waiting for a first answer before waiting for quiet keeps a slow, busy machine
        from reading the chat before the bot has even started on the update.
        """
        calls_mark = getattr(self, "_calls_mark", 0)
        self.server.wait_for(lambda s: any(m in ANSWERS for m, _ in s.calls[calls_mark:]),
                             timeout=30)
        self.server.wait_idle(quiet=0.3, timeout=30)
        return self.server.sent(self.chat_id)[mark:]

    def send(self, text: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Type a message; return the bot's new messages once it has answered."""
        mark = self._mark()
        self.server.inject_message(self.user_id, text, **kwargs)
        return self._since(mark)

    def inject(self, method: str, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """Send any other kind of update (inject_sticker, inject_raw ...); return new messages."""
        mark = self._mark()
        self.injected = getattr(self.server, method)(*args, **kwargs)  # the update, as injected
        return self._since(mark)

    def buttons(self) -> list[tuple[int, str, str]]:
        """(message id, label, data) of every button on the bot's latest keyboard."""
        for message in reversed(self.server.sent(self.chat_id)):
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if rows:
                return [(message["message_id"], b["text"], b["callback_data"])
                        for row in rows for b in row]
        return []

    def press(self, label: str) -> list[dict[str, Any]]:
        """Tap the button labelled `label` on the latest keyboard (else the first containing it).

        NoSuchButton (from the driver) lists the buttons there are when none fits.
        """
        shown = self.buttons()
        wanted = find_button([Button(text, data) for _, text, data in shown], label, partial=True)
        message_id, _, data = next(b for b in shown if b[2] == wanted.data)
        mark = self._mark()
        self.server.inject_callback(self.user_id, message_id, data)
        return self._since(mark)

    def command(self, name: str, arg: str = "") -> list[dict[str, Any]]:
        """Send /name (with an argument, if any); return the bot's new messages."""
        return self.send(f"/{name} {arg}".strip())

    def said(self) -> str:
        """The texts of the bot's messages since the last call, one message a line."""
        sent = self.server.sent(self.chat_id)
        new, self.read = sent[self.read:], len(sent)
        return texts(new)

    def last_text(self) -> str:
        """The text of the bot's latest message in this chat."""
        return str(self.server.sent(self.chat_id)[-1].get("text", ""))


def texts(messages: list[dict[str, Any]]) -> str:
    """All the texts of some messages, joined, for `in` assertions."""
    return "\n".join(str(m.get("text", "")) for m in messages)


def onboard(player: Player) -> None:
    """A person who has begun: their name is in their progress."""
    player.send("/start")
    player.press("Yes, let's start")
    player.send("Sam")


def helps(replies: list[dict[str, Any]]) -> int:
    """How many of these messages give the crisis lines."""
    return sum("988" in m.get("text", "") for m in replies)
