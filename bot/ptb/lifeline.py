"""Crisis help in webhook mode when the inbox cannot keep the update (issue 12 with issue 17).

In webhook mode an update is handled only once it is kept in the database's inbox
(`bot.ptb.webhook`). When the database is down, or the write fails or hangs past
`storage.crisis_wait_seconds`, an update that asks for help in a crisis (words of crisis in
a message, caption or edit, /safety, a crisis button: `Engine.asks_for_help`, the engine's
own test) is answered at once by `Lifeline`: the reply the engine gives anyone, from a fresh
progress that is never saved, in the language Telegram gives for the sender (their stored
one cannot be read), sent with the outgoing budget's crisis priority and tried again until
Telegram takes it (`Renderer.render`). The webhook still answers Telegram 503, so the update
is delivered again and, once the database is back, kept and handled from the person's saved
progress: the person then sees the crisis pathway a second time. Help twice beats help lost.

While the database stays down Telegram delivers the update again and again; the help is sent
once per chat and update id, remembered in this process's memory for `REMEMBER` seconds (the
database that could share it across instances is the thing that is down). With several
instances behind a balancer a redelivery may reach another one, which sends the help once
more: at most once per instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from telegram import Message, Update
from telegram.constants import ChatType, MessageEntityType

from bot.ptb.render import Renderer, pressed_html
from state.contracts import Command, Input, Other, Press, Reply, TextIn
from state.engine.engine import Engine
from state.service.conversations import Conversations

log = logging.getLogger("craftbot.webhook")

REMEMBER = 24 * 3600.0  # seconds: Telegram keeps an unconfirmed update (and redelivers it) a day
MOST_REMEMBERED = 10_000  # updates helped; the oldest are forgotten beyond this
STOP_WAIT = 5.0  # seconds a help still being sent gets at stop


def is_command(message: Message) -> bool:
    """Whether the message is a /command (a bot-command entity at its start), as PTB's filter says."""
    return bool(message.text) and any(
        e.type == MessageEntityType.BOT_COMMAND and e.offset == 0 for e in message.entities)


def input_of(update: Update) -> Input | None:
    """The engine input a private chat's update carries, as the handlers read it (`bot.ptb.app`)."""
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        return None  # groups are declined, never served
    if update.callback_query is not None:
        query = update.callback_query
        return Press(query.data or "", pressed_html(query))
    if update.edited_message is not None:
        edited = update.edited_message
        return Other("edit", edited.text or edited.caption or "")
    message = update.message
    if message is None:
        return None
    if message.text is not None:
        return Command.from_text(message.text) if is_command(message) else TextIn(message.text)
    return Other("media", message.caption or "")


class Lifeline:
    """Sends crisis help for updates the inbox could not keep, once per chat and update id."""

    def __init__(self, conversations: Conversations, renderer: Renderer,
                 clock: Callable[[], float]) -> None:
        self.conversations = conversations
        self.renderer = renderer
        self.clock = clock
        self.wait = conversations.crisis_wait  # seconds the inbox's write gets for such an update
        self.helped: dict[tuple[int, int], float] = {}  # (chat, update id) -> when help was sent
        self._sending: set[asyncio.Task[None]] = set()

    @staticmethod
    def may_ask(update: Update) -> bool:
        """A cheap look: could this update ask for help? (Only such writes are given a deadline.)"""
        message = input_of(update)
        return message is not None and update.effective_user is not None and (
            Engine.may_ask_for_help(message))

    def asks(self, update: Update) -> bool:
        """Whether this update asks for help in a crisis (the engine's own test)."""
        message, user = input_of(update), update.effective_user
        return message is not None and user is not None and self.conversations.engine.asks_for_help(
            message, user.language_code)

    def help(self, update: Update) -> bool:
        """Start sending the help, unless this update had it already; whether it was started."""
        message, user = input_of(update), update.effective_user
        assert message is not None and user is not None
        now = self.clock()
        self._forget(now)
        key = (user.id, update.update_id)
        if key in self.helped:
            log.info("crisis help for update %d was sent already; not again", update.update_id)
            return False
        engine = self.conversations.engine
        reply = engine.handle(engine.new_progress(user.id, user.language_code, now), message, now)
        self.helped[key] = now
        task = asyncio.ensure_future(self._send(key, update, reply))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        return True

    async def _send(self, key: tuple[int, int], update: Update, reply: Reply) -> None:
        try:
            await self.renderer.render(key[0], reply, update.callback_query, crisis=True)
        except asyncio.CancelledError:
            self.helped.pop(key, None)  # the process stops: a later delivery may try again
            raise
        except Exception as exc:  # Telegram refused it (the person blocked the bot): try at the next delivery
            self.helped.pop(key, None)
            log.warning("crisis help without the store could not be sent (%s)", type(exc).__name__)
            return
        log.warning("crisis help sent without the store for update %d", key[1])

    def _forget(self, now: float) -> None:
        """Drop what is older than `REMEMBER` (or a clock gone back), and the oldest past the cap."""
        for key, at in list(self.helped.items()):
            if len(self.helped) > MOST_REMEMBERED or not 0 <= now - at < REMEMBER:
                del self.helped[key]

    async def stop(self) -> None:
        """Give the helps still being sent a few seconds, then stop them."""
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=STOP_WAIT)
        for task in list(self._sending):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
