"""Admin-only commands: who may use them, `/stats`, and publishing the curriculum (`/reload`, SIGHUP).

Only the Telegram user ids listed in `telegram.admins` are admins. Anyone else who sends
an admin command gets the answer to an unknown command, so nobody learns they exist.
Private chats only (groups are declined before any handler runs). What admins see is
numbers, never people: no ids, names or answers.

`/reload` (from an admin) or SIGHUP validates the curriculum folder again
(`state.service.reload.Reloader`). If it has errors the bot keeps serving the old one and
the admins are told the errors as `file:line:col` lines, split into messages that fit
Telegram. If it is valid it is swapped in between two updates, and the admins are told the
new version and how many people are on steps that changed or vanished (they are moved
when they next write). A SIGHUP tells every admin; `/reload` answers the admin who sent it.
A valid reload is also published (`Reloader.publish`): recorded in the database, so every
other instance on it serves that version too; the answer ends with the publication.

Admin messages are operator output, in English and plain text (no markup), like the CLI.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Collection

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.ptb.command_menu import publish_commands
from state.contracts import Command
from state.engine.engine import Engine
from state.service.reload import Reloader, ReloadOutcome, Standing, compare
from state.store.reports import ReportError, ReportStore

log = logging.getLogger("craftbot.admin")

MESSAGE_LIMIT = 4000  # characters; Telegram allows 4096
MAX_PROBLEM_LINES = 60  # more than this in a chat helps nobody: `craftbot validate` has them all

Fallback = Callable[[Update, ContextTypes.DEFAULT_TYPE, Command], Awaitable[None]]


def is_admin(admins: Settings | Collection[int], user_id: int | None) -> bool:
    """Whether this Telegram user may use admin commands (settings or a list of ids)."""
    allowed = admins.telegram.admins if isinstance(admins, Settings) else admins
    return user_id is not None and user_id in allowed


def split_lines(lines: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Lines joined into as few messages as fit `limit`, never breaking a line if it fits."""
    messages: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:  # a single huge line: cut it, it is better than losing it
            messages.extend([current] if current else [])
            current = ""
            messages.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            messages.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        messages.append(current)
    return messages


def outcome_lines(outcome: ReloadOutcome, standing: Standing | None) -> list[str]:
    """What an admin is told after a reload, line by line."""
    if not outcome.ok:
        errors = outcome.problem_lines(errors_only=True)
        lines = [f"Curriculum NOT reloaded: {len(errors)} error(s) in {outcome.root}.",
                 f"Still serving version {outcome.old_version}. Fix these, then reload again:", ""]
        lines += errors[:MAX_PROBLEM_LINES]
        if len(errors) > MAX_PROBLEM_LINES:
            lines.append(f"... and {len(errors) - MAX_PROBLEM_LINES} more: run craftbot validate")
        return lines
    if outcome.new_version == outcome.old_version:
        lines = [f"Curriculum reloaded: nothing changed (version {outcome.new_version})."]
    else:
        lines = [f"Curriculum reloaded: version {outcome.old_version} -> {outcome.new_version}."]
    if outcome.warnings:
        lines.append(f"{len(outcome.warnings)} warning(s); craftbot validate lists them.")
    if standing is not None and outcome.new_version != outcome.old_version:
        lines += ["", *standing.lines()]
    return lines


def published_lines(reloader: Reloader) -> list[str]:
    """What an admin is told about publishing after a successful reload."""
    published = reloader.published
    if published is None:
        return []
    return [f"Published: version {published.version} (publication {published.seq});"
            " every instance on this database serves it from its next look (at once on"
            " PostgreSQL, within 30 seconds at most)."]


class AdminCommands:
    """`/stats`, `/reload` and SIGHUP; anyone but an admin gets the answer to an unknown command."""

    def __init__(self, settings: Settings, reloader: Reloader, fallback: Fallback) -> None:
        self.settings = settings
        self.reloader = reloader
        self.fallback = fallback
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, bot: Bot) -> None:
        """At start-up: record this version's steps, learn earlier ones, publish it if it is
        new, watch for versions other instances publish, listen for SIGHUP."""
        await self.reloader.start()

        async def menu(engine: Engine) -> None:  # a version another instance published
            try:
                await publish_commands(bot, engine)
            except TelegramError as exc:
                log.warning("command menu not updated: %s", type(exc).__name__)

        self.reloader.followed.append(menu)
        self.reloader.watch()
        if hasattr(signal, "SIGHUP"):
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGHUP, lambda: self._spawn(self.on_hangup(bot)))

    async def stop(self) -> None:
        """Stop watching for publications."""
        await self.reloader.stop()

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)

    async def on_stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/stats: how many people use the bot, for admins only."""
        user, message = update.effective_user, update.message
        if user is None or message is None:
            return
        if not is_admin(self.settings, user.id):  # the words after it are read too (crisis words)
            await self.fallback(update, context, Command.from_text(message.text or "/stats"))
            return
        conversations = self.reloader.conversations
        counts = await conversations.privacy.counts(conversations.clock())
        await message.reply_text(
            f"People stored: {counts['users']}\n"
            f"Active in the last day: {counts['active_1d']}, 7 days: {counts['active_7d']},"
            f" 30 days: {counts['active_30d']}\n"
            f"Data of people inactive for {self.settings.privacy.retention_days} days is erased"
            " (0: kept).")

    async def on_reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/reload: an admin publishes the curriculum as it is now on disk.

        The check runs beside the updates of everyone else, who are not kept waiting.
        """
        user = update.effective_user
        if user is None:
            return
        if not is_admin(self.settings, user.id):  # the words after it are read too (crisis words)
            typed = update.message.text if update.message is not None else None
            await self.fallback(update, context, Command.from_text(typed or "/reload"))
            return
        log.info("curriculum reload asked by an admin")
        self._spawn(self.reload_and_tell(context.bot, [user.id]))

    async def on_hangup(self, bot: Bot) -> None:
        """SIGHUP: reload, and tell every admin."""
        log.info("curriculum reload on SIGHUP")
        await self.reload_and_tell(bot, self.settings.telegram.admins, how="hangup")

    async def reload_and_tell(self, bot: Bot, admins: list[int], how: str = "reload") -> None:
        """Reload, publish, and send the outcome to these admins; a crash is logged and told too."""
        try:
            lines = await self.reload(bot, how)
        except Exception as exc:  # a reload must never take the bot down
            log.exception("curriculum reload failed")
            lines = [f"Curriculum NOT reloaded: {type(exc).__name__}: {exc}",
                     "Still serving the previous version."]
        await self.tell(bot, admins, lines)

    async def reload(self, bot: Bot, how: str = "reload") -> list[str]:
        """Reload and publish; on success refresh the command menu; return what to tell the admins."""
        outcome = await self.reloader.publish(how)
        if not outcome.ok:
            log.warning("curriculum reload refused, still serving %s: %d error(s)",
                        outcome.old_version, len(outcome.errors))
            for line in outcome.problem_lines(errors_only=True):
                log.warning("  %s", line)
            return outcome_lines(outcome, None)
        log.info("curriculum reloaded: %s -> %s", outcome.old_version, outcome.new_version)
        engine = self.reloader.conversations.engine
        try:
            await publish_commands(bot, engine)
        except TelegramError as exc:
            log.warning("command menu not updated: %s", type(exc).__name__)
        standing = await asyncio.to_thread(self.standing, engine)
        return [*outcome_lines(outcome, standing), "", *published_lines(self.reloader)]

    def standing(self, engine: Engine) -> Standing | None:
        """Who stands on changed or removed steps (read from the database, read-only)."""
        try:
            with ReportStore(self.settings.storage.location()) as report:
                return compare(engine.curriculum, report.placements(), report.fingerprints())
        except (ReportError, OSError) as exc:
            log.warning("could not count affected users: %s", exc)
            return None

    async def tell(self, bot: Bot, admins: list[int], lines: list[str]) -> None:
        """Send the lines to each admin as plain text, split to fit Telegram."""
        for admin in admins:
            try:
                for text in split_lines(lines):
                    await bot.send_message(admin, text)
            except TelegramError as exc:  # an admin who never opened the chat, or blocked it
                log.warning("could not tell an admin about the reload: %s", type(exc).__name__)
