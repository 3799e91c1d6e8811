"""Who may use admin commands: only the Telegram user ids listed in `telegram.admins`.

Admin commands answer others exactly as an unknown command would, so nobody learns they
exist. Private chats only (groups are declined before any handler runs). What admins see
is numbers, never people: no ids, names or answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from telegram import Update
from telegram.ext import ContextTypes

from bot.config import Settings
from state.contracts import Command
from state.store.privacy import PrivacyData

Fallback = Callable[[Update, ContextTypes.DEFAULT_TYPE, Command], Awaitable[None]]


def is_admin(admins: Settings | Collection[int], user_id: int | None) -> bool:
    """Whether this Telegram user may use admin commands (settings or a list of ids)."""
    allowed = admins.telegram.admins if isinstance(admins, Settings) else admins
    return user_id is not None and user_id in allowed


class AdminCommands:
    """Admin-only commands; anyone else gets the answer to an unknown command."""

    def __init__(self, settings: Settings, privacy: PrivacyData, clock: Callable[[], float],
                 fallback: Fallback) -> None:
        self.settings = settings
        self.privacy = privacy
        self.clock = clock
        self.fallback = fallback

    async def on_stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/stats: how many people use the bot, for admins only."""
        user, message = update.effective_user, update.message
        if user is None or message is None:
            return
        if not is_admin(self.settings, user.id):
            await self.fallback(update, context, Command("stats"))
            return
        counts = await self.privacy.counts(self.clock())
        await message.reply_text(
            f"People stored: {counts['users']}\n"
            f"Active in the last day: {counts['active_1d']}, 7 days: {counts['active_7d']},"
            f" 30 days: {counts['active_30d']}\n"
            f"Data of people inactive for {self.settings.privacy.retention_days} days is erased"
            " (0: kept).")
