"""Read-only queries for reports: statistics and `craftbot validate --against`.

Reports run from the command line beside a live bot, so they open the database read-only
(SQLite's WAL lets them read while the bot writes) with the standard library, not
through the bot's single async writer. They return counts and timestamps, never text:
the progress blobs (which may be encrypted) are only peeked at for a user's locale. With
a data key the crisis pathways in event details are sealed (`state.store.sealing`): given
the key, `event_details` opens them to count them; without it they count as `SEALED`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from state.contracts import Fingerprints
from state.storage import Cipher
from state.store.keyring import Keyring, keyring_for
from state.store.sealing import is_token, open_detail

SEALED = "(encrypted: run with the data key)"  # event details no key was given to open


class ReportError(Exception):
    """The database cannot be read for a report (missing, or not a craftbot database)."""


@dataclass(frozen=True)
class Placement:
    """How many users stand on one step, and which curriculum version they last saw."""

    version: str
    locale: str | None
    module: str
    step: str
    users: int


@dataclass(frozen=True)
class ModuleEvent:
    """A module started or completed by someone (the id stays inside the report code)."""

    user_id: int
    kind: str
    module: str
    at: float


class ReportStore:
    """One read-only connection to a craftbot database."""

    def __init__(self, path: Path, cipher: Cipher | None = None) -> None:
        if not path.is_file():
            raise ReportError(f"{path}: no such database file")
        uri = path.resolve().as_uri() + "?mode=ro"
        self.path = path
        self.cipher = keyring_for(path, cipher)  # opens sealed event details (crisis pathways)
        self.db = sqlite3.connect(uri, uri=True)
        self.db.execute("PRAGMA busy_timeout=5000")
        tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"users", "events"} <= tables:
            self.db.close()
            raise ReportError(f"{path}: not a craftbot database (no users and events tables)")
        self.tables = tables

    def close(self) -> None:
        """Close the connection (and the key store's)."""
        self.db.close()
        if isinstance(self.cipher, Keyring):
            self.cipher.close()

    def __enter__(self) -> ReportStore:
        """Use as a context manager that closes the connection."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the connection."""
        self.close()

    def placements(self) -> list[Placement]:
        """Users grouped by the step they are on (users between modules are left out)."""
        rows = self.db.execute(
            "SELECT version, CASE WHEN substr(data, 1, 1) = '{' AND json_valid(data)"
            " THEN json_extract(data, '$.locale') END AS locale, module, step, count(*)"
            " FROM users WHERE module IS NOT NULL AND step IS NOT NULL"
            " GROUP BY 1, 2, 3, 4 ORDER BY 3, 4")
        return [Placement(str(v or ""), loc, str(m), str(s), int(n)) for v, loc, m, s, n in rows]

    def fingerprints(self) -> dict[str, Fingerprints]:
        """The recorded step fingerprints of every curriculum version served, by version."""
        out: dict[str, Fingerprints] = {}
        if "curriculum_steps" not in self.tables:
            return out
        for version, locale, module, step, fingerprint in self.db.execute(
                "SELECT version, locale, module, step, fingerprint FROM curriculum_steps"):
            out.setdefault(version, {})[(locale, module, step)] = fingerprint
        return out

    def module_events(self) -> list[ModuleEvent]:
        """Every module start and completion, in time order."""
        rows = self.db.execute(
            "SELECT user_id, kind, module, at FROM events WHERE module IS NOT NULL"
            " AND kind IN ('module_started', 'module_completed') ORDER BY at, id")
        return [ModuleEvent(int(u), str(k), str(m), float(a)) for u, k, m, a in rows]

    def idle_placements(self, before: float) -> list[tuple[str, str, int]]:
        """(module, step, users) for users on a step whose last update was before `before`."""
        rows = self.db.execute(
            "SELECT module, step, count(*) FROM users WHERE module IS NOT NULL"
            " AND step IS NOT NULL AND updated_at < ? GROUP BY 1, 2", (before,))
        return [(str(m), str(s), int(n)) for m, s, n in rows]

    def weekly_active(self) -> dict[str, int]:
        """Different people active in each ISO week (counted since migration 004)."""
        if "weekly_active" not in self.tables:
            return {}
        return {str(w): int(n) for w, n in self.db.execute("SELECT week, users FROM weekly_active")}

    def event_times(self, kind: str) -> list[float]:
        """When each event of one kind happened (for crisis interrupts: no one's id)."""
        return [float(row[0]) for row in self.db.execute(
            "SELECT at FROM events WHERE kind = ? ORDER BY at", (kind,))]

    def event_details(self, kind: str) -> dict[str, int]:
        """How many events of one kind carry each detail (a crisis pathway, for instance).

        Sealed details are opened with the cipher; without one they are counted together
        under `SEALED` (DataKeyError when a cipher is given that cannot open them).
        """
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(events)")}
        if "detail" not in columns:
            return {}
        counts: dict[str, int] = {}
        for stored, n in self.db.execute(
                "SELECT detail, count(*) FROM events WHERE kind = ? AND detail IS NOT NULL"
                " GROUP BY detail", (kind,)):
            detail = SEALED if is_token(stored) and self.cipher is None else open_detail(self.cipher, stored)
            counts[str(detail)] = counts.get(str(detail), 0) + int(n)
        return dict(sorted(counts.items()))

    def user_count(self) -> int:
        """How many people have progress stored."""
        row = self.db.execute("SELECT count(*) FROM users").fetchone()
        return int(row[0]) if row else 0
