"""`craftbot backup FILE`: a consistent, private copy of the database while the bot runs.

It reads from a snapshot (the bot keeps answering, erasure is not held up) and writes a new
file readable by its owner only. Use it instead of `sqlite3 .backup` or copying files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import load_settings
from state.store.backup import BackupExists, backup
from state.store.keyring import key_store_path


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot backup` on the parser."""
    cmd = sub.add_parser("backup", help="copy the database, consistently and privately, while the bot runs")
    cmd.add_argument("file", type=Path, help="the new file to write (never overwritten)")
    cmd.add_argument("--config", type=Path, help="settings file (for storage.database)")


def run(args: argparse.Namespace) -> int:
    """Write the backup; 0, or 1 with one line when the file exists or the database is missing."""
    database = load_settings(args.config).storage.sqlite_file
    if database is None:
        print("craftbot: the store is PostgreSQL (storage.url): back it up with pg_dump or your"
              " PostgreSQL backups (docs/operations.md, \"Scaling out\")", file=sys.stderr)
        return 2
    if not database.exists():
        print(f"craftbot: {database}: no such database", file=sys.stderr)
        return 1
    try:
        pages = backup(database, args.file)
    except BackupExists:
        print(f"craftbot: {args.file} exists; give a new file name", file=sys.stderr)
        return 1
    print(f"backup written: {args.file} ({pages} pages, readable by its owner only)")
    if key_store_path(database).exists():  # the person keys are kept out of this copy on purpose
        print(f"The person keys are not in it: back up {key_store_path(database)} with `craftbot keys"
              " backup FILE`, apart and for days, not years (docs/operations.md, Backups).")
    return 0
