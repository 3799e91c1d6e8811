"""The `craftbot` command: run the bot, chat in a terminal, check a curriculum.

All wiring happens here and in `bot.ptb.app`, never at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.cli import privacy, safety, stats, transcripts
from bot.config import BUNDLED_CURRICULUM, TOKEN_ENV, Settings, load_settings
from bot.config_sources import ConfigError
from bot.documents import book, graph
from bot.ptb.privacy import check_at_start, open_store
from state.curriculum.diagnostics import CurriculumError
from state.curriculum.loader import load_curriculum, read_curriculum
from state.engine.engine import Engine
from state.engine.safety.detection import Resource
from state.service.clock import clock_from_env
from state.service.conversations import Conversations
from state.service.reload import record_served
from state.store.crypto import DataKeyError

NO_TOKEN = f"""No Telegram bot token is set.

To run the bot on Telegram:
  1. Open Telegram, talk to @BotFather, send /newbot and follow the steps.
  2. Put the token it gives you in the environment:  export {TOKEN_ENV}=...
     (or under telegram.token in a config file: craftbot run --config config.yaml)

To try the bot without Telegram, use the terminal chat:  craftbot chat
"""


# The help text as it stood before the house move (tests/golden/cli.json); issue 15 rewrites it.
DESCRIPTION = ("The `craftbot` command: run the bot, chat in a terminal, check a curriculum.\n\n"
               "All wiring happens here and in `bot.app`, never at import time.\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line: one program, several subcommands."""
    parser = argparse.ArgumentParser(prog="craftbot", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the Telegram bot (terminal chat if no token and a terminal)")
    run.add_argument("--config", type=Path, help="settings file (see config.example.yaml)")

    chat = sub.add_parser("chat", help="chat with the bot in this terminal, no Telegram needed")
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

    validate = sub.add_parser("validate", help="check a curriculum folder and print problems")
    validate.add_argument("path", nargs="?", type=Path, default=None, help="curriculum folder")
    validate.add_argument("--quiet", action="store_true", help="print errors only, no warnings")
    validate.add_argument("--against", type=Path, metavar="DB",
                          help="also count the people in this database on steps that change or vanish")

    stats.add_stats_arguments(sub.add_parser(
        "stats", help="anonymous statistics: modules started and completed, where people stop"))
    privacy.add_commands(sub)
    graph.add_command(sub)
    book.add_command(sub)
    transcripts.add_command(sub)
    safety.add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `craftbot` command."""
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        folder = args.path or BUNDLED_CURRICULUM
        code = cmd_validate(folder, quiet=args.quiet)
        return stats.cmd_against(folder, args.against) if args.against and code == 0 else code
    if args.command == "keygen":
        return privacy.cmd_keygen()
    if args.command == "graph":
        return graph.cmd_graph(args, BUNDLED_CURRICULUM)
    if args.command == "test-curriculum":
        return transcripts.cmd_test_curriculum(args, BUNDLED_CURRICULUM)
    if args.command == "book":
        return book.cmd_book(args, BUNDLED_CURRICULUM)
    if args.command == "safety":
        return safety.run(args)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(*exc.lines, sep="\n", file=sys.stderr)
        return 2
    try:
        if args.command in privacy.COMMANDS:
            return privacy.run(args, settings)
        if args.command == "chat":
            return cmd_chat(settings, args)
        if args.command == "stats":
            return stats.cmd_stats(settings, args)
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


def load_engine(path: Path, default_locale: str = "en",
                resources: Mapping[str, Resource] | None = None) -> Engine | None:
    """Load and validate the curriculum; print the problems and return None if invalid.

    `resources` are the crisis lines from the configuration (default: the US ones).
    """
    try:
        return Engine(load_curriculum(path, default_locale), resources)
    except CurriculumError as exc:
        print(exc.report(), file=sys.stderr)
        print(f"craftbot: the curriculum in {path} has errors; not starting.", file=sys.stderr)
        return None


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Chat in the terminal with the same engine and store as the bot."""
    from bot.terminal import TerminalChat

    engine = load_engine(args.curriculum or settings.curriculum.path, settings.curriculum.default_locale,
                         settings.crisis.resource_map())
    if engine is None:
        return 1
    if getattr(args, "start", None) or getattr(args, "profile", None):
        if not args.start:
            print("craftbot: --profile needs --start MODULE[:STEP]", file=sys.stderr)
            return 2
        from bot.terminal import preview_chat

        return preview_chat(engine, args, args.db)
    database = args.db or settings.storage.database

    async def chat() -> None:
        store = await open_store(database)
        try:
            conversations = Conversations(engine, store, clock_from_env())  # state/service/clock.py
            await record_served(conversations)  # so validate --against can tell what changed
            await TerminalChat(conversations, args.user, echo=not sys.stdin.isatty(),
                               language=getattr(args, "locale", None)).run()
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
    engine = load_engine(settings.curriculum.path, settings.curriculum.default_locale,
                         settings.crisis.resource_map())
    if engine is None:
        return 1
    check_at_start(settings.storage.database)
    from bot.ptb.app import run_bot

    return run_bot(settings, engine)


if __name__ == "__main__":
    sys.exit(main())
