"""Publishing curriculum changes to the running bot: `/reload` from an admin, or SIGHUP.

Either way the curriculum folder is validated again (`state.service.reload.Reloader`). If it has
errors the bot keeps serving the old one and the admins are told the errors as
`file:line:col` lines, split into messages that fit Telegram. If it is valid it is swapped
in between two updates, and the admins are told the new version and how many people are
on steps that changed or vanished (they are moved when they next write). A SIGHUP tells
every admin in `telegram.admins`; `/reload` answers the admin who sent it. Anyone else
who sends /reload gets the answer to an unknown command, so nobody learns it exists.

Admin messages are operator output, in English and plain text (no markup), like the CLI.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from telegram import Bot as TelegramBot
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.config import Settings
from bot.ptb.access import is_admin
from state.contracts import Command
from state.engine.engine import Engine
from state.service.reload import Reloader, ReloadOutcome, Standing, compare, record_served
from state.store.reports import ReportError, ReportStore

log = logging.getLogger("craftbot.admin")

MESSAGE_LIMIT = 4000  # characters; Telegram allows 4096
MAX_PROBLEM_LINES = 60  # more than this in a chat helps nobody: `craftbot validate` has them all

Fallback = Callable[[Update, ContextTypes.DEFAULT_TYPE, Command], Awaitable[None]]


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


async def publish_commands(bot: TelegramBot, engine: Engine) -> None:
    """Register each locale's command menu with Telegram."""
    for code, content in engine.curriculum.locales.items():
        assert content.locale is not None
        commands = [BotCommand(name, text) for name, text in content.locale.commands.items()]
        if commands:
            language = None if code == engine.curriculum.default_locale else code
            await bot.set_my_commands(commands, language_code=language)


class ReloadDoor:
    """`/reload` and SIGHUP: reload the curriculum and tell the admins how it went."""

    def __init__(self, reloader: Reloader, settings: Settings, fallback: Fallback) -> None:
        self.reloader = reloader
        self.settings = settings
        self.fallback = fallback
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, app: Application) -> None:  # type: ignore[type-arg]
        """At start-up: record this version's steps, learn earlier ones, listen for SIGHUP."""
        await record_served(self.reloader.conversations)
        if hasattr(signal, "SIGHUP"):
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGHUP, lambda: self._spawn(self.on_hangup(app.bot)))

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)

    async def on_reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/reload: an admin publishes the curriculum as it is now on disk.

        The check runs beside the updates of everyone else, who are not kept waiting.
        """
        user = update.effective_user
        if user is None:
            return
        if not is_admin(self.settings, user.id):
            await self.fallback(update, context, Command("reload"))
            return
        log.info("curriculum reload asked by an admin")
        self._spawn(self.reload_and_tell(context.bot, [user.id]))

    async def on_hangup(self, bot: TelegramBot) -> None:
        """SIGHUP: reload, and tell every admin."""
        log.info("curriculum reload on SIGHUP")
        await self.reload_and_tell(bot, self.settings.telegram.admins)

    async def reload_and_tell(self, bot: TelegramBot, admins: list[int]) -> None:
        """Reload and send the outcome to these admins; a crash is logged and told too."""
        try:
            lines = await self.reload(bot)
        except Exception as exc:  # a reload must never take the bot down
            log.exception("curriculum reload failed")
            lines = [f"Curriculum NOT reloaded: {type(exc).__name__}: {exc}",
                     "Still serving the previous version."]
        await self.tell(bot, admins, lines)

    async def reload(self, bot: TelegramBot) -> list[str]:
        """Reload; on success refresh the command menu; return what to tell the admins."""
        outcome = await self.reloader.reload()
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
        return outcome_lines(outcome, standing)

    def standing(self, engine: Engine) -> Standing | None:
        """Who stands on changed or removed steps (read from the database, read-only)."""
        try:
            with ReportStore(self.settings.storage.database) as report:
                return compare(engine.curriculum, report.placements(), report.fingerprints())
        except (ReportError, OSError) as exc:
            log.warning("could not count affected users: %s", exc)
            return None

    async def tell(self, bot: TelegramBot, admins: list[int], lines: list[str]) -> None:
        """Send the lines to each admin as plain text, split to fit Telegram."""
        for admin in admins:
            try:
                for text in split_lines(lines):
                    await bot.send_message(admin, text)
            except TelegramError as exc:  # an admin who never opened the chat, or blocked it
                log.warning("could not tell an admin about the reload: %s", type(exc).__name__)
