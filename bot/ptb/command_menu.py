"""The command menu Telegram shows beside the text box: each locale's commands, in its language."""

from __future__ import annotations

from telegram import Bot, BotCommand

from state.engine.engine import Engine


async def publish_commands(bot: Bot, engine: Engine) -> None:
    """Register each locale's command menu with Telegram (the default locale's for everyone else)."""
    for code, content in engine.curriculum.locales.items():
        assert content.locale is not None
        commands = [BotCommand(name, text) for name, text in content.locale.commands.items()]
        if commands:
            language = None if code == engine.curriculum.default_locale else code
            await bot.set_my_commands(commands, language_code=language)
