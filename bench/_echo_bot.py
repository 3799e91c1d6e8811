"""A bare python-telegram-bot echo bot: the framework's own floor for bench/e2e.py.

PTB's defaults (long polling, one update at a time, httpx): each text message is sent
straight back. With `aiohttp` as second argument it uses the aiohttp transport instead
(bench/_aiohttp_transport.py), to show how much of the difference the transport makes. Not a
benchmark itself; bench/e2e.py starts it.

    CRAFTBOT_TELEGRAM_TOKEN=... .venv/bin/python bench/_echo_bot.py <base_url> [aiohttp]
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
    builder = ApplicationBuilder().token(os.environ["CRAFTBOT_TELEGRAM_TOKEN"]).base_url(sys.argv[1])
    if sys.argv[2:] == ["aiohttp"]:
        from _aiohttp_transport import AiohttpRequest

        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest(connections=1))
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=[Update.MESSAGE], timeout=10)


if __name__ == "__main__":
    main()
