"""The `craftbot` command: run the bot, chat in a terminal, check a curriculum.

All wiring happens here and in `bot.app`, never at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot import privacy_cli
from bot.config import BUNDLED_CURRICULUM, TOKEN_ENV, Settings, load_settings
from bot.privacy import check_at_start, open_store
from state.crypto import DataKeyError
from state.diagnostics import CurriculumError
from state.engine import Engine
from state.loader import load_curriculum, read_curriculum
from state.service import Conversations

NO_TOKEN = f"""No Telegram bot token is set.

To run the bot on Telegram:
  1. Open Telegram, talk to @BotFather, send /newbot and follow the steps.
  2. Put the token it gives you in the environment:  export {TOKEN_ENV}=...
     (or under telegram.token in a config file: craftbot run --config config.yaml)

To try the bot without Telegram, use the terminal chat:  craftbot chat
"""


def build_parser() -> argparse.ArgumentParser:
    """The command line: one program, several subcommands."""
    parser = argparse.ArgumentParser(prog="craftbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the Telegram bot (terminal chat if no token and a terminal)")
    run.add_argument("--config", type=Path, help="settings file (see config.example.yaml)")

    chat = sub.add_parser("chat", help="chat with the bot in this terminal, no Telegram needed")
    chat.add_argument("--config", type=Path, help="settings file")
    chat.add_argument("--db", type=Path, help="SQLite file to keep progress in (default: the config's)")
    chat.add_argument("--user", type=int, default=1, help="user id, to resume a conversation")
    chat.add_argument("--curriculum", type=Path, help="curriculum folder (default: the bundled one)")

    validate = sub.add_parser("validate", help="check a curriculum folder and print problems")
    validate.add_argument("path", nargs="?", type=Path, default=None, help="curriculum folder")
    validate.add_argument("--quiet", action="store_true", help="print errors only, no warnings")
    privacy_cli.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `craftbot` command."""
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        return cmd_validate(args.path or BUNDLED_CURRICULUM, quiet=args.quiet)
    if args.command == "keygen":
        return privacy_cli.cmd_keygen()
    settings = load_settings(args.config)
    try:
        if args.command in privacy_cli.COMMANDS:
            return privacy_cli.run(args, settings)
        if args.command == "chat":
            return cmd_chat(settings, args)
        return cmd_run(settings)
    except DataKeyError as exc:
        print(f"craftbot: {exc}", file=sys.stderr)
        return 1


def cmd_validate(path: Path, *, quiet: bool = False) -> int:
    """Print every problem in a curriculum; exit 1 if any is an error."""
    curriculum, problems = read_curriculum(path)
    errors = [p for p in problems if p.is_error]
    for problem in problems:
        if problem.is_error or not quiet:
            print(problem)
    modules = sum(len(c.modules) for c in curriculum.locales.values())
    warnings = len(problems) - len(errors)
    summary = (f"{len(errors)} error(s), {warnings} warning(s) in {modules} module(s),"
               f" {len(curriculum.locales)} locale(s)")
    print(summary if errors else f"ok: {summary} (version {curriculum.version})",
          file=sys.stderr if errors else sys.stdout)
    return 1 if errors else 0


def load_engine(path: Path, default_locale: str = "en") -> Engine | None:
    """Load and validate the curriculum; print the problems and return None if invalid."""
    try:
        return Engine(load_curriculum(path, default_locale))
    except CurriculumError as exc:
        print(exc.report(), file=sys.stderr)
        print(f"craftbot: the curriculum in {path} has errors; not starting.", file=sys.stderr)
        return None


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Chat in the terminal with the same engine and store as the bot."""
    from bot.chat import TerminalChat

    engine = load_engine(args.curriculum or settings.curriculum.path, settings.curriculum.default_locale)
    if engine is None:
        return 1
    database = args.db or settings.storage.database

    async def chat() -> None:
        store = await open_store(database)
        try:
            conversations = Conversations(engine, store)
            await TerminalChat(conversations, args.user, echo=not sys.stdin.isatty()).run()
        finally:
            await store.close()

    asyncio.run(chat())
    return 0


def cmd_run(settings: Settings) -> int:
    """Run the Telegram bot; without a token, explain and offer the terminal chat."""
    from bot.logs import setup_logging

    token = settings.token
    if not token:
        print(NO_TOKEN, file=sys.stderr)
        if not sys.stdin.isatty():
            return 2
        print("Starting the terminal chat now.\n", file=sys.stderr)
        return cmd_chat(settings, argparse.Namespace(curriculum=None, db=None, user=1))
    setup_logging(settings.logging.level, settings.logging.format, token)
    engine = load_engine(settings.curriculum.path, settings.curriculum.default_locale)
    if engine is None:
        return 1
    check_at_start(settings.storage.database)
    from bot.app import run_bot

    return run_bot(settings, engine)


if __name__ == "__main__":
    sys.exit(main())
