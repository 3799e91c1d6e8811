"""Read-only queries for reports: statistics and `craftbot validate --against`.

Reports run from the command line beside a live bot, so they open the database read-only
(SQLite's WAL lets them read while the bot writes; on PostgreSQL a read-only session) with
a connection of their own, not through the bot's single async writer. They return counts
and timestamps, never text: the progress blobs (which may be encrypted) are only peeked at
for a user's locale. With a data key the crisis pathways in event details are sealed
(`state.store.sealing`): given the key, `event_details` opens them to count them; without
it they count as `SEALED`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from state.contracts import Fingerprints
from state.storage import Cipher
from state.store.dialect import Connection, Location, dialect_of
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

    def __init__(self, path: Path | str, cipher: Cipher | None = None, keys_url: str | None = None) -> None:
        where = Location.parse(path)
        self.path = where
        self.db = self._connect(where)
        self.dialect = dialect_of(self.db)
        tables = {row[0] for row in self.db.execute(self.dialect.table_names)}
        if not {"users", "events"} <= tables:
            self._close_db()
            raise ReportError(f"{where}: not a craftbot database (no users and events tables)")
        self.tables = tables
        # opens sealed event details (crisis pathways)
        self.cipher = keyring_for(where, cipher, keys_url) if cipher is not None else None

    @staticmethod
    def _connect(where: Location) -> Connection:
        """A read-only connection: the SQLite file opened `mode=ro`, or a read-only PostgreSQL session."""
        if where.url is not None:
            from state.store.postgres import read_only

            try:
                return read_only(where.url)
            except Exception as exc:  # psycopg's errors: the server is not there, refused, ...
                raise ReportError(f"{where}: cannot connect ({type(exc).__name__})") from None
        path = where.path or Path(":memory:")
        if not path.is_file():
            raise ReportError(f"{path}: no such database file")
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        db.execute("PRAGMA busy_timeout=5000")
        return db

    def _close_db(self) -> None:
        self.db.close()

    def close(self) -> None:
        """Close the connection (and the key store's)."""
        self._close_db()
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
            f"SELECT version, {self.dialect.locale_of_data} AS locale, module, step, count(*)"
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
        columns = {row[0] for row in self.db.execute(self.dialect.column_names, ("events",))}
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
