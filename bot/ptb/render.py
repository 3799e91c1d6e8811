"""Engine replies put on Telegram: the one place a `Reply` becomes Bot API calls.

The handlers (`bot.ptb.app`) and the reminder sender (`bot.ptb.reminders`) both send
through a `Renderer`, so a message looks the same whichever way it comes:

- text is Telegram HTML; a text too long for one message is split (`split_message`) and
  its buttons, as an inline keyboard, go under the last part;
- a reply to a button press answers the press (with the reply's toast, if any) and edits
  the pressed message: only its keyboard when its text stays, else text and keyboard;
- then the messages in `Reply.delete` are deleted, and documents, messages and photos
  sent in that order; "typing…" first when more than two messages follow;
- what the bot sent is remembered for /hide (ids and dates, never text) as soon as each
  message is sent, unless the reply says the person's data was just erased.

An answer, edit or delete that Telegram refuses does not stop the rest of the reply. A
message that fails for a passing reason (a 5xx, a timeout, a 429 beyond the budget's
retries) is sent again after a growing pause, and the reply goes on from there: nothing
already shown is sent twice. A crisis reply (its events include a crisis interrupt) is
retried until Telegram takes it or the process stops, and goes first in the outgoing
budget (`bot.ptb.outbox`); any other reply gives up after `attempts` and raises.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram import Message as TelegramMessage
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ExtBot

from bot.ptb.outbox import CRISIS, REMINDER, REPLY
from bot.ptb.privacy import remember
from state.contracts import Message, Reply
from state.curriculum.markup import split_message
from state.store.privacy import PrivacyData

log = logging.getLogger("craftbot.bot")

NO_PREVIEWS = LinkPreviewOptions(is_disabled=True)  # hotline and treatment links show no card
TOAST_LIMIT = 200  # characters Telegram shows of an answer to a button press
TYPING_AFTER = 2  # more messages than this in one reply: show "typing…" first
Accepted = Callable[[int], Awaitable[None]]  # told how many message sends Telegram has accepted


def passing(exc: Exception) -> bool:
    """Whether a failed call may well succeed if tried again (not a refusal)."""
    return isinstance(exc, RetryAfter) or (
        isinstance(exc, NetworkError) and not isinstance(exc, BadRequest))


@dataclass(frozen=True)
class Backoff:
    """Pauses between tries of one message: `first`, doubling, at most `most` seconds."""

    first: float = 0.5
    most: float = 30.0
    attempts: int = 4  # tries of one message in an ordinary reply (crisis help: no limit)

    def pause(self, attempt: int) -> float:
        """Seconds to wait after try number `attempt` failed."""
        return float(min(self.most, self.first * 2 ** attempt))


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    """The message's buttons as an inline keyboard."""
    if not message.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
                                 for row in message.buttons])


def pressed_html(query: CallbackQuery | None) -> str | None:
    """The pressed message's text as HTML, when Telegram still gives it to us."""
    message = query.message if query else None
    if isinstance(message, TelegramMessage) and message.text:
        return message.text_html
    return None


async def quietly(call: Awaitable[Any]) -> None:
    """Await a Telegram call whose failure must not stop the reply (an edit, an answer)."""
    try:
        await call
    except BadRequest as exc:
        log.info("telegram refused a secondary call: %s", type(exc).__name__)
    except Forbidden:
        log.info("user has blocked the bot")


class Renderer:
    """Sends engine replies to private chats with one bot, remembering them for /hide."""

    def __init__(self, bot: ExtBot[int], privacy: PrivacyData, backoff: Backoff | None = None,
                 ) -> None:
        self.bot = bot
        self.privacy = privacy
        self.backoff = backoff or Backoff()
        self.retries = 0  # messages sent again after a passing failure

    async def send(self, chat_id: int, message: Message, *, remember_each: bool = False,
                   priority: int = REMINDER) -> list[TelegramMessage]:
        """One message, split to fit, its buttons under the last part.

        With `remember_each` every part is remembered for /hide as soon as Telegram has it,
        so parts already shown stay hideable when a later one fails (reminders retry).
        """
        sent = []
        for part in self._parts(chat_id, message, priority):
            sent.append(await part())
            if remember_each:
                await self.remember(chat_id, sent[-1:])
        return sent

    def _parts(self, chat_id: int, message: Message, priority: int, protect: bool = False,
               ) -> list[Callable[[], Awaitable[TelegramMessage]]]:
        """One call per part of the message (a long text is split)."""
        parts = split_message(message.html)

        previews = None if message.previews else NO_PREVIEWS

        def call(i: int) -> Callable[[], Awaitable[TelegramMessage]]:
            markup = keyboard(message) if i == len(parts) - 1 else None
            return lambda: self.bot.send_message(
                chat_id, parts[i], parse_mode=ParseMode.HTML, reply_markup=markup,
                disable_notification=message.silent, link_preview_options=previews,
                protect_content=protect, rate_limit_args=priority)
        return [call(i) for i in range(len(parts))]

    async def _surely(self, call: Callable[[], Awaitable[TelegramMessage]], *, crisis: bool,
                      ) -> TelegramMessage:
        """Make a send, again after a growing pause while it fails for a passing reason."""
        for attempt in itertools.count():
            try:
                return await call()
            except (NetworkError, RetryAfter) as exc:
                if not passing(exc) or (not crisis and attempt + 1 >= self.backoff.attempts):
                    raise
                self.retries += 1
                log.warning("a send failed (%s); trying again%s", type(exc).__name__,
                            " (crisis help)" if crisis else "")
                await asyncio.sleep(self.backoff.pause(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def remember(self, chat_id: int, sent: list[TelegramMessage]) -> None:
        """Keep the ids and dates of messages the bot sent to this chat, for /hide."""
        await remember(self.privacy, chat_id, sent, from_bot=True)

    async def render(self, chat_id: int, reply: Reply, query: CallbackQuery | None = None,
                     accepted: Accepted | None = None) -> list[TelegramMessage]:
        """Put the whole reply on the chat (the press answered first); return what was sent.

        A reply taken up again after a kill (`Reply.delivery`) starts after the sends Telegram
        had accepted. `accepted` is told how many sends of the reply's messages Telegram has
        accepted after each one but the reply's last call (the reply done says that one).
        """
        if query is not None:
            await quietly(query.answer(reply.toast[:TOAST_LIMIT] if reply.toast else None))
        if len(reply.messages) > TYPING_AFTER:
            await quietly(self.bot.send_chat_action(chat_id, ChatAction.TYPING))
        if reply.edit is not None and query is not None and query.message is not None:
            await quietly(self._edit(query, reply.edit))
        for message_id in reply.delete:
            await quietly(self.bot.delete_message(chat_id, message_id))
        crisis = reply.crisis
        calls = self._calls(chat_id, reply, CRISIS if crisis else REPLY)
        sent = []
        for number, (call, count) in enumerate(calls, start=1):
            sent.append(await self._surely(call, crisis=crisis))
            if reply.remember:  # at once: a later failure leaves what was shown hideable
                await self.remember(chat_id, sent[-1:])
            if accepted is not None and count and number < len(calls):
                await accepted(count)  # committed before the next send: a kill repeats one at most
        return sent

    def _calls(self, chat_id: int, reply: Reply, priority: int,
               ) -> list[tuple[Callable[[], Awaitable[TelegramMessage]], int]]:
        """The sends of a reply in order: documents, messages (split), photos (the chart).

        Each with how many message sends are accepted once it is (0 for a file); the
        message sends a reply taken up again had sent already are left out.
        """
        silent = any(m.silent for m in reply.messages)  # files travel as quietly as the words

        def document(data: bytes, name: str) -> Callable[[], Awaitable[TelegramMessage]]:
            return lambda: self.bot.send_document(chat_id, data, filename=name, disable_notification=silent,
                                                  protect_content=reply.protect, rate_limit_args=priority)

        def photo(data: bytes, name: str) -> Callable[[], Awaitable[TelegramMessage]]:
            return lambda: self.bot.send_photo(chat_id, data, filename=name, disable_notification=silent,
                                               protect_content=reply.protect, rate_limit_args=priority)
        skip = reply.delivery.accepted if reply.delivery is not None else 0
        parts = [part for message in reply.messages
                 for part in self._parts(chat_id, message, priority, reply.protect)]
        return [*((document(d.data, d.name), 0) for d in reply.documents),
                *((part, number) for number, part in enumerate(parts, start=1) if number > skip),
                *((photo(p.data, p.name), 0) for p in reply.photos)]

    def _edit(self, query: CallbackQuery, edit: Message) -> Awaitable[Any]:
        """The call that makes the pressed message read as `edit`: its keyboard alone if it can."""
        if pressed_html(query) == edit.html:
            return query.edit_message_reply_markup(keyboard(edit))
        return query.edit_message_text(edit.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(edit))
