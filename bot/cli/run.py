"""`craftbot run`: the Telegram bot; without a token, how to get one, and the terminal chat."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from bot.cli.chat import cmd_chat
from bot.cli.curriculum import load_engine
from bot.cli.environment import environment_help
from bot.config import TOKEN_ENV, Settings, load_settings
from bot.ops.instance import AlreadyRunning, hold_instance_lock
from bot.ops.pseudonym import choose_key, use_key
from bot.ptb.privacy import check_at_start
from state.service.clock import CLOCK_ENV
from state.store.crypto import KEY_ENV

NO_TOKEN = f"""No Telegram bot token is set.

To run the bot on Telegram:
  1. Open Telegram, talk to @BotFather, send /newbot and follow the steps.
  2. Put the token it gives you in the environment:  export {TOKEN_ENV}=...
     (or under telegram.token in a config file: craftbot run --config config.yaml)

To try the bot without Telegram, use the terminal chat:  craftbot chat
"""


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot run` on the `craftbot` parser."""
    run = sub.add_parser("run", help="run the Telegram bot (terminal chat if no token and a terminal)",
                         description="Run the Telegram bot (long polling, or a webhook when"
                         " telegram.webhook.url is set). Without a token it says"
                         " how to get one\nand, in a terminal, starts the chat instead.",
                         epilog=environment_help(TOKEN_ENV, KEY_ENV, CLOCK_ENV),
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--config", type=Path, help="settings file (see config.example.yaml)")


def run(args: argparse.Namespace) -> int:
    """Run `craftbot run` with the settings of `--config`."""
    return cmd_run(load_settings(args.config))


def cmd_run(settings: Settings) -> int:
    """Run the Telegram bot; without a token, explain and offer the terminal chat."""
    # The logging setup and the Telegram application are imported only when the bot starts.
    from bot.logs import setup_logging

    token = settings.token
    if not token:
        print(NO_TOKEN, file=sys.stderr)
        if not sys.stdin.isatty():
            return 2
        print("Starting the terminal chat now.\n", file=sys.stderr)
        return cmd_chat(settings, argparse.Namespace(curriculum=None, db=None, user=1))
    try:  # one bot per database: a second one would split people's updates between them
        hold_one_poller(settings)
    except AlreadyRunning as exc:
        print(exc, file=sys.stderr)
        return 2
    setup_logging(settings.logging.level, settings.logging.format, token)
    key_pseudonyms(settings)
    engine = load_engine(settings.curriculum.path, settings.curriculum.default_locale,
                         settings.resource_map(), settings.wording())
    if engine is None:
        return 1
    check_at_start(settings.storage.location(), settings.storage.keys())
    from bot.ptb.app import run_bot

    return run_bot(settings, engine)


def hold_one_poller(settings: Settings) -> None:
    """One process polls Telegram for a database: the SQLite file's lock, or an advisory lock on
    PostgreSQL. Webhook instances on PostgreSQL share that lock (any number of them serve one
    inbox; docs/operations.md, "Scaling out"), so a poller and webhook instances exclude each other."""
    storage = settings.storage
    if storage.sqlite_file is not None:
        hold_instance_lock(storage.sqlite_file)
        return
    from state.store.postgres import LockHeld, hold_for_process

    webhook = bool(settings.telegram.webhook.url)
    try:
        hold_for_process(str(storage.location()), "poller", shared=webhook)
    except LockHeld:
        raise AlreadyRunning(
            "another craftbot instance is polling Telegram for this PostgreSQL database;"
            " webhook instances cannot serve beside it" if webhook else
            "another craftbot instance is polling Telegram for this PostgreSQL database (or webhook"
            " instances serve it); only one may poll (several instances need webhooks)") from None


def key_pseudonyms(settings: Settings) -> None:
    """Key the log pseudonyms: from the data key, else `logging.pseudonym_key`, else at random."""
    key, source = choose_key(os.environ.get(KEY_ENV), settings.logging.pseudonym_key.get_secret_value())
    use_key(key)
    logging.getLogger("craftbot").info(
        "log pseudonyms use a random key: they do not link across restarts" if source == "random"
        else f"log pseudonyms are keyed by the {source}")
