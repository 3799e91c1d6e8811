"""Engine replies put on Telegram: the one place a `Reply` becomes Bot API calls.

The handlers (`bot.ptb.app`) and the reminder sender (`bot.ptb.reminders`) both send
through a `Renderer`, so a message looks the same whichever way it comes:

- text is Telegram HTML; a text too long for one message is split (`split_message`) and
  its buttons, as an inline keyboard, go under the last part;
- a reply to a button press answers the press (with the reply's toast, if any) and edits
  the pressed message: only its keyboard when its text stays, else text and keyboard;
- then the messages in `Reply.delete` are deleted, and documents, messages and photos
  sent in that order; "typing…" first when more than two messages follow;
- what the bot sent is remembered for /hide (ids and dates, never text), unless the
  reply says the person's data was just erased.

An answer, edit or delete that Telegram refuses does not stop the rest of the reply.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from telegram import Message as TelegramMessage
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden

from bot.ptb.privacy import remember
from state.contracts import Message, Reply
from state.curriculum.markup import split_message
from state.store.privacy import PrivacyData

log = logging.getLogger("craftbot.bot")

TOAST_LIMIT = 200  # characters Telegram shows of an answer to a button press
TYPING_AFTER = 2  # more messages than this in one reply: show "typing…" first


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

    def __init__(self, bot: Bot, privacy: PrivacyData) -> None:
        self.bot = bot
        self.privacy = privacy

    async def send(self, chat_id: int, message: Message, *, remember_each: bool = False,
                   ) -> list[TelegramMessage]:
        """One message, split to fit, its buttons under the last part.

        With `remember_each` every part is remembered for /hide as soon as Telegram has it,
        so parts already shown stay hideable when a later one fails (reminders retry).
        """
        parts = split_message(message.html)
        sent = []
        for i, part in enumerate(parts):
            markup = keyboard(message) if i == len(parts) - 1 else None
            sent.append(await self.bot.send_message(chat_id, part, parse_mode=ParseMode.HTML,
                                                    reply_markup=markup))
            if remember_each:
                await self.remember(chat_id, sent[-1:])
        return sent

    async def remember(self, chat_id: int, sent: list[TelegramMessage]) -> None:
        """Keep the ids and dates of messages the bot sent to this chat, for /hide."""
        await remember(self.privacy, chat_id, sent, from_bot=True)

    async def render(self, chat_id: int, reply: Reply, query: CallbackQuery | None = None,
                     ) -> list[TelegramMessage]:
        """Put the whole reply on the chat (the press answered first); return what was sent."""
        if query is not None:
            await quietly(query.answer(reply.toast[:TOAST_LIMIT] if reply.toast else None))
        if len(reply.messages) > TYPING_AFTER:
            await quietly(self.bot.send_chat_action(chat_id, ChatAction.TYPING))
        if reply.edit is not None and query is not None and query.message is not None:
            await quietly(self._edit(query, reply.edit))
        for message_id in reply.delete:
            await quietly(self.bot.delete_message(chat_id, message_id))
        sent = [await self.bot.send_document(chat_id, document.data, filename=document.name)
                for document in reply.documents]
        for message in reply.messages:
            sent += await self.send(chat_id, message)
        for photo in reply.photos:  # after the messages: the /progress chart
            sent.append(await self.bot.send_photo(chat_id, photo.data, filename=photo.name))
        if reply.remember:
            await self.remember(chat_id, sent)
        return sent

    def _edit(self, query: CallbackQuery, edit: Message) -> Awaitable[Any]:
        """The call that makes the pressed message read as `edit`: its keyboard alone if it can."""
        if pressed_html(query) == edit.html:
            return query.edit_message_reply_markup(keyboard(edit))
        return query.edit_message_text(edit.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(edit))
