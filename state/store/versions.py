"""The fingerprints of every curriculum version served, kept so later versions can be compared.

The contract is `state.contracts.CurriculumRecords`; `state.service.reload` decides what to
record and when, and reads it back to catch up people still on an earlier version.
"""

from __future__ import annotations

from state.contracts import Fingerprints
from state.store.core import Database
from state.store.dialect import Connection


def record(db: Connection, version: str, fingerprints: Fingerprints) -> None:
    """Keep a version's step fingerprints; forget versions nobody is on any more."""
    db.executemany("INSERT INTO curriculum_steps (version, locale, module, step, fingerprint)"
                   " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   [(version, *key, fingerprint) for key, fingerprint in fingerprints.items()])
    # Versions nobody is on any more can never be compared against again.
    db.execute("DELETE FROM curriculum_steps WHERE version != ? AND version NOT IN"
               " (SELECT DISTINCT version FROM users)", (version,))


def recorded(db: Connection) -> dict[str, Fingerprints]:
    """Every recorded version's fingerprints, by version."""
    out: dict[str, Fingerprints] = {}
    for version, locale, module, step, fingerprint in db.execute(
            "SELECT version, locale, module, step, fingerprint FROM curriculum_steps"):
        out.setdefault(version, {})[(locale, module, step)] = fingerprint
    return out


class CurriculumVersions:
    """Curriculum-version records on one open store."""

    def __init__(self, store: Database) -> None:
        self.store = store

    async def record(self, version: str, fingerprints: Fingerprints) -> None:
        """Keep a served version's fingerprints; forget versions nobody is on any more."""
        await self.store.write(lambda db: record(db, version, fingerprints))

    async def recorded(self) -> dict[str, Fingerprints]:
        """Every recorded version's fingerprints."""
        return await self.store.read(recorded)
