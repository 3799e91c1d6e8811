"""`craftbot chat`: the bot in this terminal, with the same engine and store, no Telegram needed.

With `--start MODULE[:STEP]` (and `--profile`) it previews any step as a family member who
has finished onboarding (`bot.terminal.preview_chat`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cli.curriculum import load_engine
from bot.cli.environment import environment_help
from bot.config import Settings, load_settings
from bot.ptb.privacy import open_store
from state.service.clock import CLOCK_ENV, clock_from_env
from state.service.conversations import Conversations
from state.service.reload import record_served
from state.store.crypto import KEY_ENV


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot chat` on the `craftbot` parser."""
    chat = sub.add_parser("chat", help="chat with the bot in this terminal, no Telegram needed",
                          epilog=environment_help(KEY_ENV, CLOCK_ENV),
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    chat.add_argument("--config", type=Path, help="settings file")
    chat.add_argument("--db", type=Path, help="SQLite file to keep progress in (default: the config's)")
    chat.add_argument("--user", type=int, default=1, help="user id, to resume a conversation")
    chat.add_argument("--curriculum", type=Path, help="curriculum folder (default: the bundled one)")
    chat.add_argument("--locale", help="the language a new user gets, such as en")
    chat.add_argument("--start", metavar="MODULE[:STEP]",
                      help="preview from this step as a family member who finished onboarding"
                      " (a throwaway user in a temporary database unless --db is given)")
    chat.add_argument("--profile", metavar="KEY=VALUE,...",
                      help="with --start: onboarding answers, such as"
                      " relationship=partner,substance=opioids,loved_one=Sam")


def run(args: argparse.Namespace) -> int:
    """Run `craftbot chat` with the settings of `--config`."""
    return cmd_chat(load_settings(args.config), args)


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Chat in the terminal with the same engine and store as the bot."""
    # bot.terminal is imported only when a chat starts, so other commands start faster.
    from bot.terminal import TerminalChat

    engine = load_engine(args.curriculum or settings.curriculum.path, settings.curriculum.default_locale,
                         settings.resource_map(), settings.wording())
    if engine is None:
        return 1
    if getattr(args, "start", None) or getattr(args, "profile", None):
        if not args.start:
            print("craftbot: --profile needs --start MODULE[:STEP]", file=sys.stderr)
            return 2
        from bot.terminal import preview_chat

        return preview_chat(engine, args, args.db)
    database = args.db or settings.storage.location()  # the bot's own store, SQLite or PostgreSQL

    async def chat() -> None:
        store = await open_store(database, None if args.db else settings.storage.keys())
        try:
            conversations = Conversations(engine, store, clock_from_env())  # state/service/clock.py
            await record_served(conversations)  # so validate --against can tell what changed
            await TerminalChat(conversations, args.user, echo=not sys.stdin.isatty(),
                               language=getattr(args, "locale", None)).run()
        finally:
            await store.close()

    asyncio.run(chat())
    return 0
