"""`craftbot keys status` and `craftbot keys backup FILE`: the person keys in the key store.

Each person's data is sealed with a data key of their own, kept wrapped by the operator key
(CRAFTBOT_DATA_KEY) in a key store beside the database (`state.store.keyring`).

- `status` counts the keys by the operator key that wrapped them, the keys no given key can
  unwrap (their people's data cannot be read), and the values still sealed with the
  operator key alone; it says when an old operator key wraps nothing and can be retired.
  Exit code 1 when a key cannot be unwrapped.
- `backup FILE` copies the key store, consistently and privately, while the bot runs. It is
  kept apart from the database's backups on purpose: see docs/operations.md ("Keys").

They print counts and key ids (hashes of the keys, not the keys), never user ids.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import load_settings
from bot.ptb.privacy import data_cipher
from state.store.backup import BackupExists, backup
from state.store.crypto import KEY_ENV
from state.store.keyring import Keyring, key_store_path
from state.store.progress import ProgressStore
from state.store.sealing import legacy_count


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot keys` on the parser."""
    keys = sub.add_parser("keys", help="the person keys: status, backup of the key store")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    status = actions.add_parser("status", help="count person keys and prove the operator key unwraps them")
    status.add_argument("--config", type=Path, help="settings file")
    save = actions.add_parser("backup", help="copy the key store, consistently and privately")
    save.add_argument("file", type=Path, help="the new file to write (never overwritten)")
    save.add_argument("--config", type=Path, help="settings file")


def run(args: argparse.Namespace) -> int:
    """Run one `keys` action; its exit code."""
    storage = load_settings(args.config).storage
    if args.action == "backup":
        if storage.sqlite_file is None:
            print("craftbot: the person keys are in the PostgreSQL database storage.keys_url: back it"
                  " up with pg_dump on a short cycle of its own (docs/operations.md, \"Scaling out\")",
                  file=sys.stderr)
            return 2
        return cmd_backup(storage.sqlite_file, args.file)
    return asyncio.run(cmd_status(storage.location(), storage.keys()))


def cmd_backup(database: Path, target: Path) -> int:
    """Copy the key store to a new private file."""
    source = key_store_path(database)
    if not source.exists():
        print(f"craftbot: {source}: no key store (it is made when the bot first seals with {KEY_ENV})",
              file=sys.stderr)
        return 1
    try:
        pages = backup(source, target)
    except BackupExists:
        print(f"craftbot: {target} exists; give a new file name", file=sys.stderr)
        return 1
    print(f"key store backup written: {target} ({pages} pages, readable by its owner only). Keep it"
          " apart from the database's backups and for days, not years: a person erased since can"
          " be read from it with a database backup of the same age.")
    return 0


async def cmd_status(database: Path | str, keys_url: str | None = None) -> int:
    """Print the key store's counts; 1 when some key cannot be unwrapped."""
    operator = data_cipher()
    if operator is None:
        print(f"craftbot: {KEY_ENV} is not set: nothing is sealed and there are no person keys.",
              file=sys.stderr)
        return 2
    store = await ProgressStore(database, operator, keys_url=keys_url).open()
    try:
        keyring = store.cipher
        assert isinstance(keyring, Keyring)
        check = keyring.check()
        legacy = await store.read(legacy_count)
    finally:
        await store.close()
    print(f"key store: {keyring.keys.path}")
    print(f"person keys: {check.keys}")
    for number, kid in enumerate(operator.key_ids, start=1):
        wrapped = check.by_operator_key.get(kid, 0)
        note = "" if wrapped or number == 1 or legacy else " (wraps nothing: it can be retired)"
        print(f"  wrapped by key {number} in {KEY_ENV} ({kid}): {wrapped}{note}")
    others = sum(n for kid, n in check.by_operator_key.items() if kid not in operator.key_ids)
    if others:
        print(f"  wrapped by a key not in {KEY_ENV}: {others}")
    print(f"keys no given key can unwrap: {check.unwrappable}")
    print(f"values still sealed with the operator key alone: {legacy}")
    if check.unwrappable:
        print(f"craftbot: {check.unwrappable} person key(s) cannot be unwrapped: give the operator key"
              f" they were wrapped with in {KEY_ENV} (after the new one) and run `craftbot rotate-key`."
              " Until then those people get crisis help and can /delete, nothing more.", file=sys.stderr)
        return 1
    return 0

