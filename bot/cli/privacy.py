"""The operator's privacy commands: `craftbot keygen`, `craftbot rotate-key`, `craftbot purge`.

- `keygen` prints a new data key for CRAFTBOT_DATA_KEY.
- `rotate-key` re-wraps every person's data key with the first key in CRAFTBOT_DATA_KEY
  (`NEW,OLD`: any listed key unwraps the old ones); the data itself is not re-encrypted, so
  it takes a moment however much is stored. Values still in clear or sealed with the
  operator key alone (from before person keys) are sealed with person keys.
- `purge` erases the data of people inactive for longer than `privacy.retention_days`
  (the bot also does this daily); `--dry-run` only counts them.

They print counts and dates, never user ids. All are safe to run while the bot runs
(SQLite serialises the writes); see docs/operations.md for the key rotation steps.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from bot.config import load_settings
from bot.ptb.privacy import data_cipher
from state.store.crypto import KEY_ENV, new_key
from state.store.privacy import PrivacyData
from state.store.progress import ProgressStore

COMMANDS = ("keygen", "rotate-key", "purge")


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the privacy subcommands on the `craftbot` parser."""
    sub.add_parser("keygen", help=f"print a new data key for {KEY_ENV}")
    rotate = sub.add_parser("rotate-key",
                            help=f"re-wrap every person's data key with the first key in {KEY_ENV}")
    rotate.add_argument("--config", type=Path, help="settings file")
    purge = sub.add_parser("purge", help="erase the data of people inactive for privacy.retention_days")
    purge.add_argument("--config", type=Path, help="settings file")
    purge.add_argument("--dry-run", action="store_true", help="only count who would be erased")


def run(args: argparse.Namespace) -> int:
    """Run one privacy subcommand; its exit code."""
    if args.command == "keygen":
        return cmd_keygen()
    settings = load_settings(args.config)
    if args.command == "rotate-key":
        return asyncio.run(cmd_rotate_key(settings.storage.location(), settings.storage.keys()))
    return asyncio.run(cmd_purge(settings.storage.location(), settings.privacy.retention_days,
                                 dry_run=args.dry_run, now=time.time(), keys_url=settings.storage.keys()))


def cmd_keygen() -> int:
    """Print a fresh key on standard output, and how to use it on standard error."""
    print(new_key())
    print(f"Set it in the bot's environment as {KEY_ENV}, and keep a copy somewhere safe:"
          " without it the stored answers cannot be read. To replace a key, list the new one"
          f" first: {KEY_ENV}=NEW,OLD, then run `craftbot rotate-key`.", file=sys.stderr)
    return 0


async def cmd_rotate_key(database: Path | str, keys_url: str | None = None) -> int:
    """Re-wrap every person key with the first key in the environment; seal what is left over."""
    cipher = data_cipher()
    if cipher is None:
        print(f"craftbot: {KEY_ENV} is not set. Set it to NEW,OLD (the new key first, then the"
              " key(s) the data was encrypted with) and run this again.", file=sys.stderr)
        return 2
    store = await ProgressStore(database, cipher, keys_url=keys_url).open()  # opening seals older values
    try:
        privacy = PrivacyData(store)
        count = await privacy.rotate(cipher)
        status = await privacy.key_status(every=True)
    finally:
        await store.close()
    print(f"re-wrapped {count} person key(s) with the first key in {KEY_ENV}; their data was not"
          " re-encrypted (it is sealed with those keys).")
    if status.unreadable:
        print(f"{status.unreadable} user(s) cannot be decrypted (damaged, or erased since a restored"
              " backup); `craftbot keys status` counts them.")
    if cipher.count > 1:
        print(f"Once every running bot has the new key, keep only it in {KEY_ENV}; old key-store"
              " backups, wrapped with the old key, then become unreadable too.")
    return 0


async def cmd_purge(database: Path | str, days: int, *, dry_run: bool, now: float,
                    keys_url: str | None = None) -> int:
    """Erase (or with dry_run, count) everyone inactive for more than `days` days."""
    if days <= 0:
        print("privacy.retention_days is 0: data is kept until people delete it; nothing to do.")
        return 0
    store = await ProgressStore(database, keys_url=keys_url).open()
    try:
        privacy = PrivacyData(store)
        found = await (privacy.inactive(now, days) if dry_run else privacy.purge(now, days))
    finally:
        await store.close()
    verb = "would erase" if dry_run else "erased"
    line = f"{verb} {len(found)} user(s) inactive for more than {days} day(s)"
    if found:
        oldest, newest = (time.strftime("%Y-%m-%d", time.gmtime(p.last_active))
                          for p in (found[0], found[-1]))
        line += f" (last active between {oldest} and {newest})"
    print(line + ".")
    return 0
