"""`craftbot migrate --from sqlite:///FILE --to postgresql://...`: move a deployment to PostgreSQL.

Stop the bot first: the source file's instance lock is taken, so a running bot stops the
move. Everything is copied as stored (sealed values stay sealed), the person keys too (into
`--to-keys`, a PostgreSQL database of their own), in one transaction: all or nothing. Then
each table is counted on both sides and every sealed value re-read through the target's own
keys; the move is reported good only when everything matches. The source is left as it was,
to go back to. Passwords: give the URLs in CRAFTBOT_STORAGE__URL and CRAFTBOT_STORAGE__KEYS_URL
rather than on the command line, where other users of the machine can see them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import load_settings
from bot.ops.instance import AlreadyRunning, hold_instance_lock
from bot.ptb.privacy import data_cipher
from state.store.dialect import Location
from state.store.progress import ProgressStore
from state.store.transfer import NotEmpty, Tally, tally, transfer


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot migrate` on the parser."""
    cmd = sub.add_parser("migrate", help="move the bot's data from SQLite to PostgreSQL, verified",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cmd.add_argument("--from", dest="source", help="sqlite:///FILE (default: storage.database)")
    cmd.add_argument("--to", dest="target", help="postgresql://... (default: storage.url)")
    cmd.add_argument("--to-keys", dest="target_keys",
                     help="postgresql://... for the person keys (default: storage.keys_url)")
    cmd.add_argument("--config", type=Path, help="settings file")


def run(args: argparse.Namespace) -> int:
    """Carry out the move; 0 when verified, 1 when something does not match, 2 when it cannot start."""
    storage = load_settings(args.config).storage
    source = Location.parse(args.source) if args.source else Location(path=storage.database)
    target = Location.parse(args.target or storage.url.get_secret_value() or "")
    keys_url = args.target_keys or storage.keys()
    if source.path is None or target.url is None:
        print("craftbot: migrate moves a SQLite file (--from sqlite:///FILE) into PostgreSQL"
              " (--to postgresql://..., or CRAFTBOT_STORAGE__URL)", file=sys.stderr)
        return 2
    if not source.path.exists():
        print(f"craftbot: {source.path}: no such database", file=sys.stderr)
        return 2
    try:
        hold_instance_lock(source.path)
    except AlreadyRunning as exc:
        print(f"{exc}\nStop the bot before moving its data.", file=sys.stderr)
        return 2
    return asyncio.run(move(source.path, target.url, keys_url))


async def move(source_path: Path, target_url: str, keys_url: str | None) -> int:
    """Copy, then verify; print what was moved and whether every count and sealed value matches."""
    cipher = data_cipher()
    source = await ProgressStore(source_path, cipher).open()
    try:
        target = await ProgressStore(target_url, cipher, keys_url=keys_url).open()
    except BaseException:
        await source.close()
        raise
    try:
        try:
            await transfer(source, target)
        except NotEmpty as exc:
            print(f"craftbot: {exc}", file=sys.stderr)
            return 2
        before, after = await tally(source), await tally(target)
    finally:
        await source.close()
        await target.close()
    report(before, after, Location.parse(target_url))
    if before != after:
        print("craftbot: the copy does not match its source; keep running on the source", file=sys.stderr)
        return 1
    print("verified: every table's rows and every sealed value match. Point storage.url at the new"
          " database (CRAFTBOT_STORAGE__URL) and start the bot; keep the SQLite file until you are sure.")
    return 0


def report(before: Tally, after: Tally, target: Location) -> None:
    """One line per table, then the sealed values and keys, source against target."""
    print(f"moved into {target}:")
    for table, rows in before.rows.items():
        print(f"  {table}: {rows} -> {after.rows.get(table)}")
    print(f"  sealed values opened: {before.opened} -> {after.opened}")
    print(f"  sealed values unreadable (key erased before): {before.unreadable} -> {after.unreadable}")
    print(f"  person keys: {before.keys} -> {after.keys}")
