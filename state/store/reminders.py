"""Reminders, check-ins and unreachable people in SQLite, on the progress store's connection.

Two kinds of method, on the store's one connection (one writer, as everywhere):

- planning methods (`plan`, `cancel`, `defer`, `add_checkin` ...) run inside a transaction
  the caller already holds: the conversation service calls them while it saves a turn, so
  a homework and its check-in are written together or not at all;
- dispatch methods (`claim_due`, `mark_sent`, `release`, `recover` ...) open their own.

Sending is claim-then-send: `claim_due` moves due rows from 'pending' to 'sending' in one
transaction; after Telegram accepted the message `mark_sent` moves them to 'sent'. A crash
between the two leaves 'sending' rows, which `recover` returns to 'pending' at start-up:
nothing is lost, and only a message sent in that instant can go out twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from state.contracts import NUDGE, CheckinRecord
from state.store.progress import SqliteProgressStore

WAITING = "pending"
SENDING = "sending"


@dataclass(frozen=True)
class Reminder:
    """One planned message."""

    id: int
    user_id: int
    kind: str
    due_at: float
    ref: str = ""
    status: str = WAITING
    created_at: float = 0.0


def _reminder(row: Any) -> Reminder:
    return Reminder(int(row[0]), int(row[1]), str(row[2]), float(row[3]), str(row[4]), str(row[5]),
                    float(row[6]))


COLUMNS = "id, user_id, kind, due_at, ref, status, created_at"


class ReminderStore:
    """Reminder and check-in rows next to the progress they belong to."""

    def __init__(self, store: SqliteProgressStore) -> None:
        self.store = store

    # -- planning: inside the caller's transaction --------------------------------------------

    async def plan(self, user_id: int, kind: str, due: float, now: float, ref: str = "") -> None:
        """Plan a reminder; one already waiting of the same kind is moved instead."""
        await self.store.db.execute(
            "INSERT INTO reminders (user_id, kind, due_at, ref, created_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, kind) WHERE status = 'pending'"
            " DO UPDATE SET due_at = excluded.due_at, ref = excluded.ref",
            (user_id, kind, due, ref, now))

    async def cancel(self, user_id: int, kind: str | None = None) -> None:
        """Cancel the user's waiting reminders (of one kind, or all)."""
        if kind is None:
            await self.store.db.execute(
                "UPDATE reminders SET status = 'cancelled' WHERE user_id = ? AND status = 'pending'",
                (user_id,))
        else:
            await self.store.db.execute(
                "UPDATE reminders SET status = 'cancelled'"
                " WHERE user_id = ? AND kind = ? AND status = 'pending'", (user_id, kind))

    async def waiting(self, user_id: int) -> list[Reminder]:
        """The user's waiting reminders, soonest first."""
        rows = await self.store.db.execute_fetchall(
            f"SELECT {COLUMNS} FROM reminders WHERE user_id = ? AND status = 'pending'"
            " ORDER BY due_at", (user_id,))
        return [_reminder(r) for r in rows]

    async def was_sent(self, user_id: int, kind: str, ref: str) -> bool:
        """Whether a reminder of this kind about `ref` has already gone out."""
        rows = list(await self.store.db.execute_fetchall(
            "SELECT 1 FROM reminders WHERE user_id = ? AND kind = ? AND ref = ?"
            " AND status IN ('sending', 'sent') LIMIT 1", (user_id, kind, ref)))
        return bool(rows)

    async def set_follow(self, reminder_id: int, due: float) -> None:
        """Plan the next reminder of the same kind for when this one is marked sent."""
        await self.store.db.execute("UPDATE reminders SET follow_due = ? WHERE id = ?", (due, reminder_id))

    async def defer(self, reminder_id: int, due: float) -> None:
        """Put a claimed reminder back to wait until `due` (it fell in quiet hours).

        If another of the same kind is already waiting, that one stands and this one is
        marked 'superseded'.
        """
        cursor = await self.store.db.execute(
            "UPDATE reminders SET status = 'pending', due_at = ? WHERE id = ? AND status = 'sending'"
            " AND NOT EXISTS (SELECT 1 FROM reminders AS o WHERE o.user_id = reminders.user_id"
            " AND o.kind = reminders.kind AND o.status = 'pending')", (due, reminder_id))
        if cursor.rowcount == 0:
            await self.store.db.execute(
                "UPDATE reminders SET status = 'superseded' WHERE id = ? AND status = 'sending'",
                (reminder_id,))
        await cursor.close()

    async def add_checkin(self, user_id: int, record: CheckinRecord) -> None:
        """Keep one check-in."""
        await self.store.db.execute(
            "INSERT INTO checkins (user_id, at, day, period_days, stress, sober_days, rewards,"
            " loved_one_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (user_id, record.at, record.day, record.period_days, record.stress, record.sober_days,
             record.rewards, record.loved_one_day))

    async def reachable_again(self, user_id: int) -> bool:
        """Forget that a user was unreachable; True if they were."""
        cursor = await self.store.db.execute("DELETE FROM unreachable WHERE user_id = ?", (user_id,))
        gone = cursor.rowcount > 0
        await cursor.close()
        return gone

    # -- dispatching: each in its own transaction ---------------------------------------------

    async def release_nudges(self, now: float, user_id: int | None = None) -> int:
        """Make the nudges due at `now` (of one user, or all) waiting reminders; how many.

        A nudge lives on the person's row until then (see `state.service.orders`). It is dropped
        instead when one about the same stop has gone out already, or the person cannot
        be reached.
        """
        only = "" if user_id is None else " AND u.user_id = ?2"
        params = (now,) if user_id is None else (now, user_id)
        async with self.store.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO reminders (user_id, kind, due_at, ref, created_at)"
                f" SELECT u.user_id, '{NUDGE}', u.nudge_due, u.nudge_ref, ?1 FROM users AS u"
                f" WHERE u.nudge_due <= ?1{only}"
                f" AND NOT EXISTS (SELECT 1 FROM reminders AS r WHERE r.user_id = u.user_id"
                f" AND r.kind = '{NUDGE}' AND r.ref = u.nudge_ref AND r.status IN ('sending', 'sent'))"
                " AND NOT EXISTS (SELECT 1 FROM unreachable AS x WHERE x.user_id = u.user_id)"
                " ON CONFLICT (user_id, kind) WHERE status = 'pending'"
                " DO UPDATE SET due_at = excluded.due_at, ref = excluded.ref", params)
            released = max(cursor.rowcount, 0)
            await cursor.close()
            await db.execute("UPDATE users SET nudge_due = NULL, nudge_ref = NULL"
                             f" WHERE nudge_due <= ?1{only.replace('u.', '')}", params)
        return released

    async def planned_nudge(self, user_id: int) -> tuple[float, str] | None:
        """The nudge kept on a person's row until it falls due: (due, "<module>:<step>")."""
        rows = list(await self.store.db.execute_fetchall(
            "SELECT nudge_due, nudge_ref FROM users WHERE user_id = ? AND nudge_due IS NOT NULL",
            (user_id,)))
        return (float(rows[0][0]), str(rows[0][1])) if rows else None

    async def claim_due(self, now: float, limit: int, user_id: int | None = None) -> list[Reminder]:
        """Claim up to `limit` reminders due at `now` (of one user, or all), soonest first."""
        only = "" if user_id is None else " AND user_id = ?"
        params = (now, now) + (() if user_id is None else (user_id,)) + (limit,)
        async with self.store.transaction() as db:
            rows = await db.execute_fetchall(
                "UPDATE reminders SET status = 'sending', claimed_at = ?, attempts = attempts + 1"
                f" WHERE id IN (SELECT id FROM reminders WHERE status = 'pending' AND due_at <= ?{only}"
                f" ORDER BY due_at, id LIMIT ?) RETURNING {COLUMNS}", params)
        return sorted((_reminder(r) for r in rows), key=lambda r: (r.due_at, r.id))

    async def mark_sent(self, reminder_id: int, now: float) -> None:
        """Record that Telegram accepted the reminder, and plan its follow-up if it has one."""
        async with self.store.transaction() as db:
            rows = list(await db.execute_fetchall(
                "UPDATE reminders SET status = 'sent', done_at = ? WHERE id = ? AND status = 'sending'"
                " RETURNING user_id, kind, follow_due, ref", (now, reminder_id)))
            if rows and rows[0][2] is not None:
                user_id, kind, follow, ref = rows[0]
                await db.execute(
                    "INSERT INTO reminders (user_id, kind, due_at, ref, created_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (user_id, kind) WHERE status = 'pending' DO NOTHING",
                    (user_id, kind, follow, ref, now))

    async def finish(self, reminder_id: int, status: str, now: float) -> None:
        """Close a claimed reminder that was not sent ('skipped': nothing to say any more)."""
        async with self.store.transaction() as db:
            await db.execute("UPDATE reminders SET status = ?, done_at = ?"
                             " WHERE id = ? AND status = 'sending'", (status, now, reminder_id))

    async def release(self, reminder_id: int, due: float) -> None:
        """Give a claimed reminder back to wait until `due` (Telegram was busy or unreachable)."""
        async with self.store.transaction():
            await self.defer(reminder_id, due)

    async def unreachable(self, user_id: int, reminder_id: int, now: float) -> None:
        """Telegram refused for good (blocked): fail this reminder, cancel the rest, remember it."""
        async with self.store.transaction() as db:
            await db.execute("UPDATE reminders SET status = 'failed', done_at = ? WHERE id = ?",
                             (now, reminder_id))
            await self.cancel(user_id)
            await db.execute("UPDATE users SET nudge_due = NULL, nudge_ref = NULL WHERE user_id = ?",
                             (user_id,))
            await db.execute("INSERT OR REPLACE INTO unreachable (user_id, since) VALUES (?, ?)",
                             (user_id, now))

    async def recover(self) -> int:
        """Return claims a crash left in 'sending' to 'pending'; how many were returned."""
        async with self.store.transaction() as db:
            rows = list(await db.execute_fetchall(
                "SELECT id, due_at FROM reminders WHERE status = 'sending' ORDER BY id"))
            for reminder_id, due in rows:
                await self.defer(int(reminder_id), float(due))
        return len(rows)

    # -- reading -----------------------------------------------------------------------------

    async def checkins(self, user_id: int, since: float) -> list[CheckinRecord]:
        """The user's check-ins since `since`, oldest first."""
        async with self.store.transaction() as db:
            rows = await db.execute_fetchall(
                "SELECT at, day, period_days, stress, sober_days, rewards, loved_one_day FROM checkins"
                " WHERE user_id = ? AND at >= ? ORDER BY at", (user_id, since))
        return [CheckinRecord(*row) for row in rows]

    async def count_by_status(self) -> dict[str, int]:
        """How many reminders are in each status (for admins, tests and benchmarks)."""
        async with self.store.transaction() as db:
            rows = await db.execute_fetchall("SELECT status, count(*) FROM reminders GROUP BY status")
        return {str(status): int(n) for status, n in rows}

    async def all_for(self, user_id: int) -> list[Reminder]:
        """Every reminder row of one user, oldest first (for tests and /mydata-like views)."""
        async with self.store.transaction() as db:
            rows = await db.execute_fetchall(
                f"SELECT {COLUMNS} FROM reminders WHERE user_id = ? ORDER BY id", (user_id,))
        return [_reminder(r) for r in rows]
