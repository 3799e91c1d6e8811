"""The store's contract: the roles every storage backend plays, and the records they return.

What the service, the bot and the command line ask of the store. `state.store` implements
these `Protocol` classes once, on SQLite (the embedded default) and on PostgreSQL (several
instances sharing one database): the same methods, the same behaviour, tested on both
(tests/test_store_backends.py). Imports only `state.contracts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol, Self

from state.contracts import CheckinRecord, Event, Fingerprints, Progress


@dataclass(frozen=True)
class Nudge:
    """The one nudge planned for someone who stopped mid-module: when, and about which stop."""

    due: float
    ref: str  # "<module>:<step>"


@dataclass(frozen=True)
class Reminder:
    """One planned message (status: pending, sending, sent, cancelled, superseded, skipped, failed)."""

    id: int
    user_id: int
    kind: str
    due_at: float
    ref: str = ""
    status: str = "pending"
    created_at: float = 0.0


@dataclass(frozen=True)
class Inactive:
    """Someone whose data the retention period has run out for."""

    user_id: int
    last_active: float


@dataclass(frozen=True)
class KeyStatus:
    """How the stored progress blobs are kept: how many sealed, how many plain, how many of the
    sealed ones the key could not open (counted only when every row is checked); and how many
    person keys the key store holds, and how many of those the operator key cannot unwrap."""

    sealed: int
    plain: int
    unreadable: int = 0
    keys: int = 0
    unwrappable: int = 0


class Cipher(Protocol):
    """Seals and opens what people wrote (`state.store.crypto.DataCipher`)."""

    def encrypt(self, text: str) -> str:
        """Seal text with the current key."""

    def decrypt(self, token: str) -> str:
        """Open text sealed with any known key."""

    def rotate(self, token: str) -> str:
        """Re-seal a token with the current key."""


class TurnSession(Protocol):
    """One user's progress inside an open write transaction (see `ProgressRecords.session`)."""

    user_id: int
    progress: Progress | None
    unreachable: bool  # a reminder could not reach them since their last turn
    nudge: Nudge | None  # what their row holds; set it to change it

    def save(self, progress: Progress, events: list[Event]) -> None:
        """Write this progress and these events when the transaction commits."""


class ProgressRecords(Protocol):
    """Where progress lives between messages."""

    def session(self, user_id: int) -> AbstractAsyncContextManager[TurnSession]:
        """A user's progress read and written back in one transaction; an exception rolls back.

        Message ids remembered meanwhile (`MessageRecords.remember`) are written with it.
        """

    async def load(self, user_id: int) -> Progress | None:
        """The user's progress, or None for someone new."""

    async def save(self, progress: Progress, events: list[Event]) -> None:
        """Write progress and its events in one transaction."""

    async def count_users(self) -> int:
        """How many people have progress stored."""


class ReminderRecords(Protocol):
    """Reminders, check-ins and unreachable people.

    The planning methods (`plan` to `reachable_again`) run inside the turn's open session;
    the others in transactions of their own.
    """

    async def plan(self, user_id: int, kind: str, due: float, now: float, ref: str = "") -> None:
        """Plan a reminder; one already waiting of the same kind is moved instead."""

    async def cancel(self, user_id: int, kind: str | None = None) -> None:
        """Cancel the user's waiting reminders (of one kind, or all)."""

    async def waiting(self, user_id: int) -> list[Reminder]:
        """The user's waiting reminders, soonest first."""

    async def was_sent(self, user_id: int, kind: str, ref: str) -> bool:
        """Whether a reminder of this kind about `ref` has already gone out."""

    async def set_follow(self, reminder_id: int, due: float) -> None:
        """Plan the next reminder of the same kind for when this one is marked sent."""

    async def defer(self, reminder_id: int, due: float) -> None:
        """Put a claimed reminder back to wait until `due`."""

    async def add_checkin(self, user_id: int, record: CheckinRecord) -> None:
        """Keep one check-in."""

    async def reachable_again(self, user_id: int) -> bool:
        """Forget that a user was unreachable; True if they were."""

    async def release_nudges(self, now: float, user_id: int | None = None) -> int:
        """Make the nudges due at `now` (of one user, or all) waiting reminders; how many."""

    async def claim_due(self, now: float, limit: int, user_id: int | None = None) -> list[Reminder]:
        """Claim up to `limit` reminders due at `now` (of one user, or all), soonest first."""

    async def mark_sent(self, reminder_id: int, now: float) -> None:
        """Record that Telegram accepted the reminder, and plan its follow-up if it has one."""

    async def finish(self, reminder_id: int, status: str, now: float) -> None:
        """Close a claimed reminder that was not sent."""

    async def release(self, reminder_id: int, due: float) -> None:
        """Give a claimed reminder back to wait until `due`."""

    async def unreachable(self, user_id: int, reminder_id: int, now: float) -> None:
        """Telegram refused for good: fail this reminder, cancel the rest, remember it."""

    async def recover(self, now: float | None = None) -> int:
        """Return claims a crash left unfinished to waiting, those whose lease ran out by `now`; how many."""

    async def checkins(self, user_id: int, since: float) -> list[CheckinRecord]:
        """The user's check-ins since `since`, oldest first."""

    async def count_by_status(self) -> dict[str, int]:
        """How many reminders are in each status."""


class MessageRecords(Protocol):
    """The ids and dates (never the text) of the recent messages in each chat, for /hide."""

    async def remember(self, user_id: int, messages: list[tuple[int, float, bool]]) -> None:
        """Keep (message id, Telegram date, sent by the bot) of new messages in a user's chat.

        They may be written with the next transaction rather than at once; `take_recent`,
        `export` and `erase` see them either way.
        """

    async def take_recent(self, user_id: int, now: float) -> list[int]:
        """The ids of the user's messages that may still be deleted, newest first; all forgotten."""

    async def forget_expired(self, now: float) -> int:
        """Drop every record of a message too old for /hide to delete; how many."""


class PrivacyRecords(MessageRecords, Protocol):
    """Everything stored about a person: shown, erased, expired; and the data key."""

    async def export(self, user_id: int) -> dict[str, Any] | None:
        """Everything stored about a user, as JSON-ready data; None when nothing is."""

    async def erase(self, user_id: int) -> int:
        """Delete every row about a user and leave no copy of it behind; rows deleted."""

    async def inactive(self, now: float, days: int) -> list[Inactive]:
        """People whose last message is more than `days` days before `now`."""

    async def purge(self, now: float, days: int) -> list[Inactive]:
        """Erase everyone inactive for more than `days` days, and expired message records."""

    async def counts(self, now: float) -> dict[str, int]:
        """How many people are stored and how many were active lately."""

    async def key_status(self, *, every: bool = False) -> KeyStatus:
        """Count sealed and plain progress, proving the key opens a sealed one."""

    async def rotate(self, cipher: Cipher) -> int:
        """Re-encrypt every progress blob with the cipher's current key; how many."""


class CurriculumRecords(Protocol):
    """The fingerprints of every curriculum version served, to compare later versions against."""

    async def record(self, version: str, fingerprints: Fingerprints) -> None:
        """Keep a served version's fingerprints; forget versions nobody is on any more."""

    async def recorded(self) -> dict[str, Fingerprints]:
        """Every recorded version's fingerprints."""


class Store(ProgressRecords, Protocol):
    """The whole store: progress, and the parts it hands out, on one open database."""

    async def open(self) -> Self:
        """Open (creating and migrating when needed)."""

    async def close(self) -> None:
        """Write what is buffered and close."""

    @property
    def reminders(self) -> ReminderRecords:
        """Reminders, check-ins and unreachable people."""

    @property
    def privacy(self) -> PrivacyRecords:
        """Message ids for /hide; export, erasure, retention and keys."""

    @property
    def curricula(self) -> CurriculumRecords:
        """The fingerprints of the curriculum versions served."""


@dataclass(frozen=True)
class InboxEntry:
    """One update in the webhook's inbox, as a worker takes it: its JSON opened (None when it
    cannot be: its person key erased, or damaged), and how many times it has been taken."""

    update_id: int
    chat_id: int
    body: str | None
    received_at: float
    attempts: int


class InboxRecords(Protocol):
    """The webhook's inbox: updates kept durably from their delivery until handled (state/store/inbox.py).

    Each chat's updates are taken one at a time in update-id order: only a chat's oldest
    unhandled update (its head) is ever leased, to one owner until a time; a chat whose head
    is leased is left alone by every other owner until the lease runs out.
    """

    async def add(self, updates: Sequence[tuple[int, int, str]], now: float) -> list[bool]:
        """Keep (chat id, update id, JSON) updates, committed durably; for each, whether it was new."""

    async def claim(self, owner: str, now: float, until: float, limit: int) -> list[InboxEntry]:
        """Lease up to `limit` heads of chats no owner holds (or whose lease ran out) until `until`."""

    async def done(self, entry: InboxEntry, owner: str, now: float, until: float) -> InboxEntry | None:
        """Mark an update handled (its JSON dropped) and lease its chat's next one, if any."""

    async def renew(self, owner: str, update_ids: Sequence[int], until: float) -> int:
        """Extend this owner's leases on these updates; how many it still held."""

    async def release(self, owner: str | None) -> int:
        """Drop an owner's leases (every lease for None: a one-process backend at start); how many."""

    async def forget_handled(self, before: float) -> int:
        """Drop the records of updates handled before `before`; how many."""

    async def backlog(self, now: float) -> tuple[int, float]:
        """How many updates wait, and the oldest one's age in seconds (0 when none wait)."""


@dataclass(frozen=True)
class Grant:
    """The shared outgoing budget's answer: how many messages may go now, and why the rest wait."""

    granted: int
    tokens: float  # left in the bucket after this grant (negative: owed after crisis help)
    held: float  # seconds a 429 for the whole bot, met by any instance, still holds (0: none)
    clock_behind: bool = False  # this instance's clock is well behind the bucket's time


class SharedRate(Protocol):
    """One outgoing budget per bot token for every instance (state/store/pgbudget.py).

    A token bucket: `rate` messages a second, at most `capacity` at once. A call keeps
    `reserve` tokens in the bucket for more urgent messages (a negative reserve may go into
    debt: crisis help). Its clock is the instance's, so tests move time.
    """

    rate: float
    capacity: float

    async def take(self, want: int, reserve: float) -> Grant:
        """Take up to `want` tokens, leaving at least `reserve`; none while a hold lasts (unless in debt)."""

    async def hold(self, seconds: float) -> None:
        """Telegram answered 429 for the whole bot: every instance holds for `seconds`."""

    async def close(self) -> None:
        """Let the connection go."""
