"""The `craftbot` command: the parser, built from each group of subcommands, and the dispatch.

Each group lives in a module of its own (run, chat, validate, stats, privacy, graph, book,
transcripts, translate, safety) with an `add_command(s)` that registers its subcommands and a `run`
that carries one out; nothing is wired at import time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

from bot.cli import (
    backup,
    book,
    chat,
    graph,
    keys,
    migrate,
    privacy,
    run,
    safety,
    stats,
    transcripts,
    translate,
    validate,
)
from bot.config_sources import ConfigError
from state.store.crypto import DataKeyError
from state.store.dialect import StoreUnavailable
from state.store.keyring import NoKeyStore

DESCRIPTION = """\
craftbot teaches CRAFT (Community Reinforcement and Family Training) to family members
of people who use alcohol or drugs, in short steps on Telegram. This command runs the
bot, and helps counselors try, check, draw and review the curriculum it teaches."""

MOST_USED = """\
most used:
  craftbot run --config config.yaml   run the bot on Telegram
  craftbot chat                       try the bot in this terminal, no Telegram needed
  craftbot validate [DIR]             check a curriculum before publishing it
  craftbot book --out DIR             the curriculum as a book, for clinical review

`craftbot COMMAND --help` shows what a command does and its options."""

# In the order `craftbot --help` lists them.
REGISTRATIONS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (  # type: ignore[type-arg]
    run.add_command, chat.add_command, validate.add_command, stats.add_command, privacy.add_commands,
    keys.add_command, backup.add_command, migrate.add_command,
    graph.add_command, book.add_command, transcripts.add_command, translate.add_command,
    safety.add_command)

HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": run.run, "chat": chat.run, "validate": validate.run, "stats": stats.run,
    **dict.fromkeys(privacy.COMMANDS, privacy.run), "graph": graph.run, "book": book.run,
    "test-curriculum": transcripts.run, "safety": safety.run, "backup": backup.run,
    "keys": keys.run, "migrate": migrate.run,
    "translate": translate.run,
}


def build_parser() -> argparse.ArgumentParser:
    """The command line: one program, several subcommands."""
    parser = argparse.ArgumentParser(prog="craftbot", description=DESCRIPTION, epilog=MOST_USED,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"craftbot {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for register in REGISTRATIONS:
        register(sub)
    return parser


def installed_version() -> str:
    """The version of the installed craftbot package, from its metadata."""
    try:
        return version("craftbot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed; pip install -e . in the checkout)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `craftbot` command: run the subcommand asked for; its exit code."""
    args = build_parser().parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except ConfigError as exc:  # settings mistakes: one line each, exit 2
        print(*exc.lines, sep="\n", file=sys.stderr)
        return 2
    except DataKeyError as exc:  # a missing or wrong data key is the operator's to fix: one line
        print(f"craftbot: {exc}", file=sys.stderr)
        return 1
    except (NoKeyStore, StoreUnavailable) as exc:  # storage settings, or the database is not there
        print(f"craftbot: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
