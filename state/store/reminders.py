"""Reminders, check-ins and unreachable people in SQLite, on the progress store's connection.

Two kinds of method (the contract is `state.contracts.ReminderRecords`):

- planning methods (`plan`, `cancel`, `defer`, `add_checkin` ...) run inside a transaction
  the caller already holds: the conversation service calls them while it saves a turn, so
  a homework and its check-in are written together or not at all;
- dispatch methods (`claim_due`, `mark_sent`, `release`, `recover` ...) open their own.

Each method is one job on the store's writer thread (`state.store.core`): its statements
run together, with one hop there and back.

Sending is claim-then-send: `claim_due` moves due rows from 'pending' to 'sending' in one
transaction, with a lease: who claimed them (`claimed_by`, this process's `Database.owner`)
and until when (`lease_until`, `LEASE` seconds on). After Telegram accepted the message
`mark_sent` moves them to 'sent'. A crash between the two leaves 'sending' rows; once their
lease has run out, the next `claim_due` (by any instance) returns them to 'pending' and
claims them again: nothing is lost, and only a message sent in that instant can go out
twice. On PostgreSQL several instances claim at once: the rows are picked `FOR UPDATE SKIP
LOCKED`, so each goes to one of them, and no instance waits for another's. `recover` at
start-up returns only claims whose lease ran out, never another live instance's (on SQLite,
where one process writes, every claim: that process is the one that died).
"""

from __future__ import annotations

import time
from typing import Any

from state.contracts import NUDGE, CheckinRecord
from state.storage import Reminder
from state.store.core import Database
from state.store.dialect import Connection, dialect_of
from state.store.keyring import for_person
from state.store.sealing import checkin_data, checkin_record

__all__ = ["WAITING", "Reminder", "ReminderStore"]

WAITING = "pending"
LEASE = 600.0  # seconds a claim is kept for the instance that made it; far longer than a send takes
COLUMNS = "id, user_id, kind, due_at, ref, status, created_at"
PLAN = ("INSERT INTO reminders (user_id, kind, due_at, ref, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id, kind) WHERE status = 'pending'"
        " DO UPDATE SET due_at = excluded.due_at, ref = excluded.ref")
RELEASE_NUDGES = (
    "INSERT INTO reminders (user_id, kind, due_at, ref, created_at)"
    f" SELECT u.user_id, '{NUDGE}', u.nudge_due, u.nudge_ref, ?1 FROM users AS u"
    " WHERE u.nudge_due <= ?1{only}"
    " AND NOT EXISTS (SELECT 1 FROM reminders AS r WHERE r.user_id = u.user_id"
    f" AND r.kind = '{NUDGE}' AND r.ref = u.nudge_ref AND r.status IN ('sending', 'sent'))"
    " AND NOT EXISTS (SELECT 1 FROM unreachable AS x WHERE x.user_id = u.user_id)"
    " ON CONFLICT (user_id, kind) WHERE status = 'pending'"
    " DO UPDATE SET due_at = excluded.due_at, ref = excluded.ref")


def _reminder(row: Any) -> Reminder:
    return Reminder(int(row[0]), int(row[1]), str(row[2]), float(row[3]), str(row[4]), str(row[5]),
                    float(row[6]))


def cancel(db: Connection, user_id: int, kind: str | None) -> None:
    """Cancel the user's waiting reminders (of one kind, or all)."""
    if kind is None:
        db.execute("UPDATE reminders SET status = 'cancelled' WHERE user_id = ? AND status = 'pending'",
                   (user_id,))
    else:
        db.execute("UPDATE reminders SET status = 'cancelled'"
                   " WHERE user_id = ? AND kind = ? AND status = 'pending'", (user_id, kind))


def defer(db: Connection, reminder_id: int, due: float) -> None:
    """Put a claimed reminder back to wait, or mark it 'superseded' if another one waits."""
    cursor = db.execute(
        "UPDATE reminders SET status = 'pending', due_at = ? WHERE id = ? AND status = 'sending'"
        " AND NOT EXISTS (SELECT 1 FROM reminders AS o WHERE o.user_id = reminders.user_id"
        " AND o.kind = reminders.kind AND o.status = 'pending')", (due, reminder_id))
    if cursor.rowcount == 0:
        db.execute("UPDATE reminders SET status = 'superseded' WHERE id = ? AND status = 'sending'",
                   (reminder_id,))


def release_nudges(db: Connection, now: float, user_id: int | None) -> int:
    """Make the due nudges waiting reminders (see `ReminderStore.release_nudges`); how many."""
    only = "" if user_id is None else " AND u.user_id = ?2"
    params = (now,) if user_id is None else (now, user_id)
    released = max(db.execute(RELEASE_NUDGES.replace("{only}", only), params).rowcount, 0)
    db.execute("UPDATE users SET nudge_due = NULL, nudge_ref = NULL"
               f" WHERE nudge_due <= ?1{only.replace('u.', '')}", params)
    return released


def mark_sent(db: Connection, reminder_id: int, now: float) -> None:
    """Mark a claimed reminder sent, and plan its follow-up if it has one."""
    row = db.execute("UPDATE reminders SET status = 'sent', done_at = ? WHERE id = ? AND status = 'sending'"
                     " RETURNING user_id, kind, follow_due, ref", (now, reminder_id)).fetchone()
    if row is not None and row[2] is not None:
        user_id, kind, follow, ref = row
        db.execute("INSERT INTO reminders (user_id, kind, due_at, ref, created_at) VALUES (?, ?, ?, ?, ?)"
                   " ON CONFLICT (user_id, kind) WHERE status = 'pending' DO NOTHING",
                   (user_id, kind, follow, ref, now))


def unreachable(db: Connection, user_id: int, reminder_id: int, now: float) -> None:
    """Fail this reminder, cancel the rest and the nudge, and remember the person unreachable."""
    db.execute("UPDATE reminders SET status = 'failed', done_at = ? WHERE id = ?", (now, reminder_id))
    cancel(db, user_id, None)
    db.execute("UPDATE users SET nudge_due = NULL, nudge_ref = NULL WHERE user_id = ?", (user_id,))
    db.execute("INSERT INTO unreachable (user_id, since) VALUES (?, ?)"
               " ON CONFLICT (user_id) DO UPDATE SET since = excluded.since", (user_id, now))


def recover(db: Connection, now: float | None) -> int:
    """Return to 'pending' the claims whose lease ran out at `now` (every claim when None); how many.

    Claims another instance is working on are passed over (`SKIP LOCKED`), and so are those
    whose lease still runs.
    """
    expired = "" if now is None else " AND (lease_until IS NULL OR lease_until < ?)"
    rows = db.execute(f"SELECT id, due_at FROM reminders WHERE status = 'sending'{expired}"
                      f" ORDER BY id{dialect_of(db).skip_locked}", () if now is None else (now,)).fetchall()
    for reminder_id, due in rows:
        defer(db, int(reminder_id), float(due))
    return len(rows)


def renew(db: Connection, owner: str, now: float) -> None:
    """Run the leases of `owner`'s claims on from `now` (it is making progress)."""
    db.execute("UPDATE reminders SET lease_until = ? WHERE status = 'sending' AND claimed_by = ?"
               " AND lease_until < ?", (now + LEASE, owner, now + LEASE))


def claim(db: Connection, now: float, limit: int, user_id: int | None, owner: str) -> list[Any]:
    """Return expired claims, then claim up to `limit` due reminders for `owner`; the rows claimed."""
    recover(db, now)
    only = "" if user_id is None else " AND user_id = ?"
    values = (now, owner, now + LEASE, now) + (() if user_id is None else (user_id,)) + (limit,)
    return db.execute(
        "UPDATE reminders SET status = 'sending', claimed_at = ?, claimed_by = ?, lease_until = ?,"
        " attempts = attempts + 1"
        f" WHERE id IN (SELECT id FROM reminders WHERE status = 'pending' AND due_at <= ?{only}"
        f" ORDER BY due_at, id LIMIT ?{dialect_of(db).skip_locked}) AND status = 'pending'"
        f" RETURNING {COLUMNS}", values).fetchall()


class ReminderStore:
    """Reminder and check-in rows next to the progress they belong to."""

    def __init__(self, store: Database) -> None:
        self.store = store

    # -- planning: inside the caller's transaction --------------------------------------------

    async def plan(self, user_id: int, kind: str, due: float, now: float, ref: str = "") -> None:
        """Plan a reminder; one already waiting of the same kind is moved instead."""
        await self.store.run(lambda db: db.execute(PLAN, (user_id, kind, due, ref, now)))

    async def cancel(self, user_id: int, kind: str | None = None) -> None:
        """Cancel the user's waiting reminders (of one kind, or all)."""
        await self.store.run(lambda db: cancel(db, user_id, kind))

    async def waiting(self, user_id: int) -> list[Reminder]:
        """The user's waiting reminders, soonest first."""
        rows = await self.store.run(lambda db: db.execute(
            f"SELECT {COLUMNS} FROM reminders WHERE user_id = ? AND status = 'pending'"
            " ORDER BY due_at", (user_id,)).fetchall())
        return [_reminder(r) for r in rows]

    async def was_sent(self, user_id: int, kind: str, ref: str) -> bool:
        """Whether a reminder of this kind about `ref` has already gone out."""
        row = await self.store.run(lambda db: db.execute(
            "SELECT 1 FROM reminders WHERE user_id = ? AND kind = ? AND ref = ?"
            " AND status IN ('sending', 'sent') LIMIT 1", (user_id, kind, ref)).fetchone())
        return row is not None

    async def set_follow(self, reminder_id: int, due: float) -> None:
        """Plan the next reminder of the same kind for when this one is marked sent."""
        await self.store.run(lambda db: db.execute(
            "UPDATE reminders SET follow_due = ? WHERE id = ?", (due, reminder_id)))

    async def defer(self, reminder_id: int, due: float) -> None:
        """Put a claimed reminder back to wait until `due` (it fell in quiet hours).

        If another of the same kind is already waiting, that one stands and this one is
        marked 'superseded'.
        """
        await self.store.run(lambda db: defer(db, reminder_id, due))

    async def add_checkin(self, user_id: int, record: CheckinRecord) -> None:
        """Keep one check-in."""
        data = checkin_data(for_person(self.store.cipher, user_id), record)  # their data key
        await self.store.run(lambda db: db.execute(
            "INSERT INTO checkins (user_id, at, day, period_days, data) VALUES (?, ?, ?, ?, ?)",
            (user_id, record.at, record.day, record.period_days, data)))

    async def reachable_again(self, user_id: int) -> bool:
        """Forget that a user was unreachable; True if they were."""
        return bool(await self.store.run(lambda db: db.execute(
            "DELETE FROM unreachable WHERE user_id = ?", (user_id,)).rowcount > 0))

    # -- dispatching: each in its own transaction ---------------------------------------------

    async def release_nudges(self, now: float, user_id: int | None = None) -> int:
        """Make the nudges due at `now` (of one user, or all) waiting reminders; how many.

        A nudge lives on the person's row until then (see `state.service.orders`). It is dropped
        instead when one about the same stop has gone out already, or the person cannot
        be reached.
        """
        return await self.store.write(lambda db: release_nudges(db, now, user_id))

    async def planned_nudge(self, user_id: int) -> tuple[float, str] | None:
        """The nudge kept on a person's row until it falls due: (due, "<module>:<step>")."""
        row = await self.store.run(lambda db: db.execute(
            "SELECT nudge_due, nudge_ref FROM users WHERE user_id = ? AND nudge_due IS NOT NULL",
            (user_id,)).fetchone())
        return (float(row[0]), str(row[1])) if row else None

    async def claim_due(self, now: float, limit: int, user_id: int | None = None) -> list[Reminder]:
        """Claim up to `limit` reminders due at `now` (of one user, or all), soonest first."""
        owner = self.store.owner
        rows = await self.store.write(lambda db: claim(db, now, limit, user_id, owner))
        return sorted((_reminder(r) for r in rows), key=lambda r: (r.due_at, r.id))

    async def mark_sent(self, reminder_id: int, now: float) -> None:
        """Record that Telegram accepted the reminder, and plan its follow-up if it has one.

        The leases of this instance's other claims run on from `now`: a batch sent slowly
        (a low `reminders.per_second`) stays this instance's for as long as it makes progress.
        """
        owner = self.store.owner

        def sent(db: Connection) -> None:
            mark_sent(db, reminder_id, now)
            renew(db, owner, now)

        await self.store.write(sent)

    async def finish(self, reminder_id: int, status: str, now: float) -> None:
        """Close a claimed reminder that was not sent ('skipped': nothing to say any more)."""
        owner = self.store.owner

        def finished(db: Connection) -> None:
            db.execute("UPDATE reminders SET status = ?, done_at = ? WHERE id = ? AND status = 'sending'",
                       (status, now, reminder_id))
            renew(db, owner, now)

        await self.store.write(finished)

    async def release(self, reminder_id: int, due: float) -> None:
        """Give a claimed reminder back to wait until `due` (Telegram was busy or unreachable)."""
        await self.store.write(lambda db: defer(db, reminder_id, due))

    async def unreachable(self, user_id: int, reminder_id: int, now: float) -> None:
        """Telegram refused for good (blocked): fail this reminder, cancel the rest, remember it."""
        await self.store.write(lambda db: unreachable(db, user_id, reminder_id, now))

    async def recover(self, now: float | None = None) -> int:
        """Return claims a crash left in 'sending' to 'pending'; how many were returned.

        Only those whose lease ran out by `now`; without it, on SQLite every claim (one
        process writes: the one that crashed was this one), on PostgreSQL those expired
        by this machine's clock (other instances' live claims stay theirs).
        """
        if now is None and self.store.dialect.shared:
            now = time.time()
        return await self.store.write(lambda db: recover(db, now))

    # -- reading -----------------------------------------------------------------------------

    async def checkins(self, user_id: int, since: float) -> list[CheckinRecord]:
        """The user's check-ins since `since`, oldest first."""
        rows = await self.store.read(lambda db: db.execute(
            "SELECT at, day, period_days, data FROM checkins"
            " WHERE user_id = ? AND at >= ? ORDER BY at", (user_id, since)).fetchall())
        cipher = self.store.cipher
        return [checkin_record(cipher, *row) for row in rows]

    async def count_by_status(self) -> dict[str, int]:
        """How many reminders are in each status (for admins, tests and benchmarks)."""
        rows = await self.store.read(lambda db: db.execute(
            "SELECT status, count(*) FROM reminders GROUP BY status").fetchall())
        return {str(status): int(n) for status, n in rows}

    async def all_for(self, user_id: int) -> list[Reminder]:
        """Every reminder row of one user, oldest first (for tests and /mydata-like views)."""
        rows = await self.store.read(lambda db: db.execute(
            f"SELECT {COLUMNS} FROM reminders WHERE user_id = ? ORDER BY id", (user_id,)).fetchall())
        return [_reminder(r) for r in rows]
