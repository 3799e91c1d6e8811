"""The Telegram bot: a python-telegram-bot `Application` whose handlers are thin adapters.

Each handler turns an update into an engine input, awaits `Conversations.handle`, and
renders the reply as messages with inline keyboards. Updates of different chats are handled
concurrently and each chat's in order, and an update is confirmed to Telegram only once it
has been handled, so a crash loses none (`bot.ptb.updater`); in webhook mode each update is
kept in the database before Telegram is answered, and worked from there (`bot.ptb.webhook`).
Only private chats are served: what people write here is too personal for a group.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import Settings
from bot.ops.health import STALE_AFTER, Liveness
from bot.ops.metrics import TURN_SECONDS, count_reply, watch_curriculum
from bot.ops.pseudonym import pseudonym
from bot.ops.service import Operations
from bot.ptb.admin import AdminCommands
from bot.ptb.command_menu import publish_commands
from bot.ptb.observed import ObservedRequest
from bot.ptb.outbox import Budget
from bot.ptb.privacy import Retention, data_cipher, remember
from bot.ptb.quiet import quiet_library_logs
from bot.ptb.reminders import ReminderLoop
from bot.ptb.render import Renderer, pressed_html, quietly
from bot.ptb.updater import CommitFirstUpdater
from bot.ptb.webhook import WebhookUnavailable, WebhookUpdater, webhook_arguments
from state.contracts import Command, Input, Other, Press, TextIn
from state.engine.engine import Engine
from state.service.clock import CLOCK_ENV, clock_from_env, is_fake
from state.service.conversations import Conversations
from state.service.orders import FollowUpOptions
from state.service.pacing import Pacer
from state.service.reload import Reloader
from state.store.inbox import InboxData
from state.store.progress import ProgressStore

log = logging.getLogger("craftbot.bot")

UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
SPARE_CONNECTIONS = 4  # /reload answers, the command menu, a group declined: calls beside the chats'

Transport = tuple[BaseRequest, BaseRequest]  # (every other call, getUpdates)


def connection_pool_size(settings: Settings) -> int:
    """Connections for calls in flight at once: one per chat served, per reminder worker, spare.

    python-telegram-bot documents that concurrent handlers need a pool this large; a call
    that finds none free waits a second (`pool_timeout`) and then fails.
    """
    return settings.telegram.concurrency + settings.reminders.workers + SPARE_CONNECTIONS


class TelegramDoor:
    """Handlers for one bot: updates in, engine replies out (through the `Renderer`)."""

    def __init__(self, conversations: Conversations, renderer: Renderer) -> None:
        self.conversations = conversations
        self.renderer = renderer

    def ui(self, language: str | None, key: str) -> str:
        """One of the bot's own texts in the user's language (plain)."""
        content = self.conversations.engine.curriculum.content(language)
        assert content.locale is not None
        return content.locale.ui[key]

    async def private_only(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Politely decline group and channel chats; stop all other handlers for them."""
        chat = update.effective_chat
        if chat is None or chat.type == ChatType.PRIVATE:
            return
        language = update.effective_user.language_code if update.effective_user else None
        if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP) and (
                update.message or update.my_chat_member):
            try:
                await context.bot.send_message(chat.id, self.ui(language, "group_declined"))
                await context.bot.leave_chat(chat.id)
            except TelegramError as exc:
                log.info("group decline failed: %s", type(exc).__name__)
        if update.callback_query:
            await update.callback_query.answer()
        raise ApplicationHandlerStop

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A /command."""
        assert update.message and update.message.text
        await self.respond(update, context, Command.from_text(update.message.text))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A text message: an answer, a typed choice, or words of crisis."""
        assert update.message and update.message.text is not None
        await self.respond(update, context, TextIn(update.message.text))

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A sticker, photo, voice note or any other non-text message."""
        caption = update.message.caption if update.message else None
        await self.respond(update, context, Other("media", caption or ""))

    async def on_edit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message: kept as first sent, and the user is told so."""
        edited = update.edited_message
        words = (edited.text or edited.caption or "") if edited else ""
        await self.respond(update, context, Other("edit", words))  # crisis words still count

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press, checked by the engine against the step it was made for."""
        query = update.callback_query
        assert query is not None
        await self.respond(update, context, Press(query.data or "", pressed_html(query)))

    async def respond(self, update: Update, context: ContextTypes.DEFAULT_TYPE, message: Input) -> None:
        """Hand one input to the engine and render what it answers.

        Private chats only reach here, so the chat id is the user's id (a callback from an
        inaccessible or forged message carries no chat at all).
        """
        user, query = update.effective_user, update.callback_query
        if user is None:
            return
        started = time.perf_counter()
        if update.message is not None:  # its id and date, for /hide; never its text
            await remember(self.conversations.privacy, user.id, [update.message], from_bot=False)
        turn = time.perf_counter()
        reply = await self.conversations.handle(user.id, message, update_id=update.update_id,
                                                language=user.language_code)
        TURN_SECONDS.observe(time.perf_counter() - turn)
        if reply is None:
            log.info("duplicate update skipped")
            log.debug("duplicate update skipped user=%s", pseudonym(user.id))
            if query:
                await quietly(query.answer())
            return
        async def accepted(count: int) -> None:  # kept in the store: a kill repeats one send at most
            await self.conversations.accepted(user.id, reply, count)

        try:
            await self.renderer.render(user.id, reply, query, accepted if reply.delivery else None)
        except Exception:
            self.conversations.not_replied(user.id)  # their next words will not answer it
            raise
        await self.conversations.replied(user.id, reply)  # a second delivery stays silent
        seconds = time.perf_counter() - started
        count_reply(message, reply, seconds)
        # INFO keeps no per-person timeline: the person's pseudonym is written at DEBUG only.
        log.info("update handled input=%s sent=%d ms=%.1f", type(message).__name__,
                 len(reply.messages), seconds * 1000)
        log.debug("update handled user=%s", pseudonym(user.id))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure (its type only, never text) and tell the user kindly."""
        error = context.error
        log.error("update failed: %s", type(error).__name__,
                  exc_info=(type(error), error, error.__traceback__) if error else None)
        if isinstance(error, Forbidden) or not isinstance(update, Update):
            return
        chat, user = update.effective_chat, update.effective_user
        if chat is not None and chat.type == ChatType.PRIVATE:
            language = user.language_code if user else None
            try:
                sent = await context.bot.send_message(chat.id, self.ui(language, "error"))
            except TelegramError as exc:
                log.info("the error notice could not be sent: %s", type(exc).__name__)
                return
            await self.renderer.remember(chat.id, [sent])  # /hide takes it away too


def build_application(settings: Settings, engine: Engine,
                      transport: Transport | None = None) -> Application:  # type: ignore[type-arg]
    """Wire the bot: store opened at start and closed at stop, handlers registered.

    `transport` is the HTTP client for (calls, getUpdates); python-telegram-bot's own
    (`HTTPXRequest`) unless given, as bench/transport.py does to compare another.
    """
    quiet_library_logs()  # no update or message text in any library log record
    store = ProgressStore(settings.storage.location(), data_cipher(), keys_url=settings.storage.keys())
    clock = clock_from_env()  # the system's; a file's in end-to-end tests (state/service/clock.py)
    conversations = Conversations(engine, store, clock,
                                  FollowUpOptions(nudge_after_days=settings.reminders.nudge_after_days,
                                                  jitter_seconds=60 * settings.reminders.jitter_minutes),
                                  crisis_wait=settings.storage.crisis_wait_seconds)
    reminders = ReminderLoop(
        conversations, poll_seconds=settings.reminders.poll_seconds, workers=settings.reminders.workers,
        pacer=Pacer(settings.reminders.per_second, settings.reminders.per_chat_seconds))
    retention = Retention(conversations.privacy, conversations.clock, settings.privacy.retention_days)
    resources, wording = settings.resource_map(), settings.wording()
    reloader = Reloader(conversations, settings.curriculum.path, settings.curriculum.default_locale,
                        lambda curriculum: Engine(curriculum, resources, wording), clock)
    inbox = InboxData(store) if settings.telegram.webhook.url else None  # webhook mode
    liveness = Liveness(settings.telegram.poll_timeout + STALE_AFTER,
                        polling=lambda: app.updater is not None and app.updater.running,
                        probe=lambda: conversations.privacy.forget_expired(clock()),
                        backlog=(lambda: inbox.backlog(clock())) if inbox is not None else None,
                        curriculum=lambda: reloader.status().line())
    watch_curriculum(lambda: (reloader.status().served, reloader.status().published,
                              reloader.status().lacking is not None))
    operations = Operations(settings.metrics.listen, liveness)
    app = application_builder(settings, observed(settings, transport, liveness), clock).build()
    renderer = Renderer(app.bot, conversations.privacy)
    door = TelegramDoor(conversations, renderer)
    admin = AdminCommands(settings, reloader, door.respond)

    lifecycle = Lifecycle(engine, store, admin, retention, reminders if settings.reminders.send else None,
                          renderer, operations, clock, conversations)
    app.post_init, app.post_shutdown = lifecycle.start, lifecycle.stop
    if inbox is not None:  # each update kept in the database before Telegram is answered
        app.updater = WebhookUpdater(app, inbox, clock, settings.telegram.concurrency,
                                     one_process=not store.dialect.shared,
                                     lease=settings.telegram.webhook.lease_seconds)
    else:  # confirms updates to Telegram only once handled; chats concurrently, each in order
        app.updater = CommitFirstUpdater(app, settings.telegram.concurrency, urgent(conversations),
                                         lambda update: door.ui(language_of(update), "slow_down"))
    app.bot_data["conversations"] = conversations
    app.bot_data["operations"] = operations
    add_handlers(app, door, admin)
    return app


@dataclass
class Lifecycle:
    """What starts with the bot and stops with it, in order (PTB's post_init / post_shutdown)."""

    engine: Engine
    store: ProgressStore
    admin: AdminCommands
    retention: Retention
    reminders: ReminderLoop | None  # None when `reminders.send` is off
    renderer: Renderer
    operations: Operations
    clock: Callable[[], float]
    conversations: Conversations

    async def start(self, app: Application) -> None:  # type: ignore[type-arg]
        """Open the store, then the rounds and the health endpoint."""
        await self.store.open()
        await self.admin.start(app.bot)  # records this version's steps; SIGHUP reloads the curriculum
        await publish_commands(app.bot, self.engine)
        await self.retention.start()
        if self.reminders is not None:
            await self.reminders.start(self.renderer)  # due reminders, every reminders.poll_seconds
        await self.operations.start()  # /healthz and /metrics; systemd's READY=1 and watchdog
        if is_fake(self.clock):
            log.warning("the clock is read from %s (a test hook)", CLOCK_ENV)
        log.info("bot started: curriculum %s, %d stored user(s)", self.admin.reloader.served,
                 await self.store.count_users())

    async def stop(self, app: Application) -> None:  # type: ignore[type-arg]
        """Stop in the reverse order; the store closes last."""
        await self.operations.stop()
        await self.admin.stop()  # no more looks at the published curriculum
        if self.reminders is not None:
            await self.reminders.stop()
        await self.retention.stop()
        await self.conversations.settle()  # crisis turns that ran past their deadline, saved or not
        await self.store.close()
        log.info("bot stopped")


def observed(settings: Settings, transport: Transport | None, liveness: Liveness) -> Transport:
    """The HTTP transport (PTB's own unless given), counted and watched (`bot.ptb.observed`)."""
    calls, updates = transport or (HTTPXRequest(connection_pool_size=connection_pool_size(settings)),
                                   HTTPXRequest(connection_pool_size=1))
    return ObservedRequest(calls), ObservedRequest(updates, liveness.fetched, liveness.asked)


def language_of(update: Update) -> str | None:
    """The language Telegram says the update's sender uses, if any."""
    return update.effective_user.language_code if update.effective_user else None


def urgent(conversations: Conversations) -> Callable[[Update], bool]:
    """Whether an update must be read even from a flooded chat: words of crisis, /safety."""
    def check(update: Update) -> bool:
        message, user = update.effective_message, update.effective_user
        text = (message.text or message.caption) if message is not None else None
        return bool(text) and conversations.engine.answers_without_progress(
            TextIn(text or ""), user.language_code if user else None)
    return check


def application_builder(settings: Settings, transport: Transport,
                        clock: Callable[[], float] = time.time) -> ApplicationBuilder:  # type: ignore[type-arg]
    """PTB's builder for this bot's token, server, HTTP transport and rate limiter."""
    return (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.telegram.base_url)
        .base_file_url(settings.telegram.base_file_url)
        .rate_limiter(outgoing_budget(settings, clock))  # replies and reminders share it
        .request(transport[0])
        .get_updates_request(transport[1])
    )


def outgoing_budget(settings: Settings, clock: Callable[[], float]) -> Budget:
    """The budget for Telegram's limits: this process's own, or on PostgreSQL one shared by every instance."""
    per_second = settings.telegram.max_per_second
    if not settings.storage.shared or per_second <= 0:
        return Budget(per_second)
    from state.store.pgbudget import PgRate, bot_key  # psycopg: only where PostgreSQL is used

    bucket = PgRate(settings.storage.url.get_secret_value(), bot_key(settings.token), rate=per_second,
                    capacity=max(1.0, per_second / 2), clock=clock)  # the burst this process allows itself
    return Budget(per_second, shared=bucket)


def add_handlers(app: Application, door: TelegramDoor,  # type: ignore[type-arg]
                 admin: AdminCommands) -> None:
    """Route updates: groups declined first, then presses, admin commands, edits, the rest."""
    app.add_handler(TypeHandler(Update, door.private_only), group=-1)
    app.add_handler(CallbackQueryHandler(door.on_press))
    app.add_handler(CommandHandler("stats", admin.on_stats, filters.UpdateType.MESSAGE))
    app.add_handler(CommandHandler("reload", admin.on_reload, filters.UpdateType.MESSAGE))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, door.on_edit))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, door.on_command))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, door.on_text))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, door.on_other))
    app.add_error_handler(door.on_error)


def run_bot(settings: Settings, engine: Engine, transport: Transport | None = None) -> int:
    """Run the bot until stopped: by webhook when `telegram.webhook.url` is set, else long polling."""
    app = build_application(settings, engine, transport)
    if settings.telegram.webhook.url:
        try:
            app.run_webhook(**webhook_arguments(settings, UPDATES))
        except WebhookUnavailable as exc:
            log.critical("%s", exc)
            return 2
        return 0
    app.run_polling(allowed_updates=UPDATES, timeout=settings.telegram.poll_timeout,
                    drop_pending_updates=False)
    return 0
