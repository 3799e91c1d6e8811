"""A bare python-telegram-bot echo bot: the framework's own floor for bench/e2e.py.

Same PTB version, same defaults as craftbot's (long polling, one update at a time): each
text message is sent straight back. Not a benchmark itself; bench/e2e.py starts it.

    CRAFTBOT_TELEGRAM_TOKEN=... .venv/bin/python bench/_echo_bot.py <base_url>
"""

from __future__ import annotations

import os
import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


def main() -> None:
    """Run until stopped."""
    app = (ApplicationBuilder().token(os.environ["CRAFTBOT_TELEGRAM_TOKEN"])
           .base_url(sys.argv[1]).build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=[Update.MESSAGE], timeout=10)


if __name__ == "__main__":
    main()
