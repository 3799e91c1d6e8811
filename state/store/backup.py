"""A consistent, private copy of the database, made while the bot runs.

SQLite's online backup API copies the database page by page from a read snapshot: writers
go on meanwhile (WAL mode), and the copy is one consistent moment. The copy is created
0600 before anything is written into it, because it holds everything the bot keeps.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

PAGES_PER_STEP = 1024  # copied between pauses, so a long backup never holds a lock for long


class BackupExists(Exception):
    """The target file is already there; a backup never overwrites one."""


def backup(database: Path, target: Path) -> int:
    """Copy `database` to `target` (a new file, 0600); the number of pages copied."""
    if target.exists():
        raise BackupExists(str(target))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=PAGES_PER_STEP)
        pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    except BaseException:
        copy.close()
        target.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    copy.close()
    os.chmod(target, 0o600)
    return pages
