"""Contracts between the engine and its doors: a user's progress, inputs, replies, the store.

Everything here is plain data that round-trips through JSON, so what the engine keeps
about a person is exactly what the store writes and what `/mydata` can show. The store's
roles are `Protocol` classes at the end (`Store` and the parts it hands out): the service
and the bot are written against them, and `state.store` implements them with SQLite.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Self


@dataclass
class Progress:
    """Where one family member is and what they have written.

    `seq` grows each time a step with buttons is shown; every button carries it, so a
    press on an older message is recognised and never moves the user.
    """

    user_id: int
    locale: str = "en"
    module: str | None = None
    step: str | None = None
    seq: int = 0
    answers: dict[str, Any] = field(default_factory=dict)
    positions: dict[str, str] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    completed: dict[str, float] = field(default_factory=dict)
    pending: dict[str, Any] = field(default_factory=dict)
    practice: dict[str, Any] = field(default_factory=dict)  # reminders, check-ins: between_sessions
    created_at: float = 0.0
    updated_at: float = 0.0
    last_update_id: int = 0
    version: str = ""
    discreet: bool | None = None  # set by /discreet; None: follow the onboarding answers

    def to_json(self) -> dict[str, Any]:
        """The progress as JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Progress:
        """Progress from data written by `to_json` (unknown keys are ignored)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


# The kinds of reminder: homework check-ins, regular check-ins, one nudge after a stop.
HOMEWORK, CHECKIN, NUDGE = "homework", "checkin", "nudge"

StepKey = tuple[str, str, str]  # (locale, module, step)
Fingerprints = dict[StepKey, str]  # step -> a short hash of what it says and does


@dataclass(frozen=True)
class CheckinRecord:
    """One check-in: stress 1-10, days sober time was noticed, rewards given, the loved one's day."""

    at: float
    day: str
    period_days: int
    stress: int | None
    sober_days: int | None
    rewards: int | None
    loved_one_day: str | None


@dataclass(frozen=True)
class Command:
    """A slash command such as /menu."""

    name: str
    arg: str = ""

    @classmethod
    def from_text(cls, text: str) -> Command:
        """The command a typed `/name@bot args` stands for; the name ends at any white space.

        Everything after the name, over any number of lines, is the argument, so words of
        crisis on the line after a command are still read.
        """
        head, *rest = text.strip().removeprefix("/").split(maxsplit=1)
        return cls(head.split("@")[0].lower(), rest[0].strip() if rest else "")


@dataclass(frozen=True)
class TextIn:
    """A text message."""

    text: str


@dataclass(frozen=True)
class Press:
    """A button press; `message_html` is the pressed message's text, when known."""

    data: str
    message_html: str | None = None


@dataclass(frozen=True)
class Other:
    """Anything else a person can send: a sticker, photo, voice note, an edit ...

    `text` is what it says in words, if anything (an edited text, a photo's caption): it is
    not taken as an answer, but words of crisis in it are never missed.
    """

    what: str
    text: str = ""


@dataclass(frozen=True)
class Due:
    """A reminder whose time has come, handed in by the scheduler (see `bot.ptb.reminders`)."""

    reminder_id: int
    kind: str
    due_at: float = 0.0
    ref: str = ""
    planned_at: float = 0.0  # when the reminder was planned (a nudge: when it fell due)


Input = Command | TextIn | Press | Other | Due


@dataclass(frozen=True)
class Button:
    """One button: its label and the callback data it sends back."""

    label: str
    data: str


@dataclass(frozen=True)
class Message:
    """One message to send, as Telegram HTML, with rows of buttons under it."""

    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class Event:
    """Something worth counting (a module started, a crisis interrupt). Never holds text.

    `detail` is a short code, never words the user wrote (a crisis pathway's name).
    """

    kind: str
    module: str | None = None
    step: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Document:
    """A file to send, such as the /mydata export."""

    name: str
    data: bytes


# -- orders: what an answer asks the service to do beyond saving progress ----------------------
#
# The engine is pure: what it wants done in the database travels on the `Reply` as one of
# these values. The conversation service carries out the reminder orders inside the turn's
# transaction and the data-rights orders once it is over (`state.service`).


@dataclass(frozen=True)
class PlanReminder:
    """Plan (or move) the person's one reminder of `kind` to `due`."""

    kind: str
    due: float
    ref: str = ""


@dataclass(frozen=True)
class CancelReminders:
    """Drop the person's waiting reminders of `kind` (every kind when None)."""

    kind: str | None = None


@dataclass(frozen=True)
class DeferReminder:
    """A reminder that fell due in quiet hours waits until `due`."""

    reminder_id: int
    due: float


@dataclass(frozen=True)
class FollowCheckin:
    """After this check-in reminder, the next one falls due at `due`."""

    reminder_id: int
    due: float


@dataclass(frozen=True)
class KeepCheckin:
    """Keep a finished check-in's values (for the /progress chart)."""

    record: CheckinRecord


@dataclass(frozen=True)
class ReplanReminders:
    """Plan every reminder again from the person's settings (they changed)."""


@dataclass(frozen=True)
class HideRecent:
    """/hide: delete the chat's messages of the last 48 hours."""


@dataclass(frozen=True)
class ExportData:
    """/mydata: send everything stored about the person as a file."""

    locale: str


@dataclass(frozen=True)
class EraseData:
    """/delete, confirmed twice: erase everything stored about the person."""


ReminderOrder = PlanReminder | CancelReminders | DeferReminder | FollowCheckin | KeepCheckin | ReplanReminders
DataOrder = HideRecent | ExportData | EraseData
Order = ReminderOrder | DataOrder


@dataclass
class Reply:
    """What the engine answers to one input.

    The door deletes the messages in `delete` (ids in the user's private chat) first, then
    sends `documents`, then `messages`. `remember` is False once a user's data is erased:
    the ids of the messages sent then are not recorded either. `orders` are carried out by
    the conversation service. `save` is False for an answer that leaves the person's
    progress as it was (the privacy commands): then nothing about them is written.
    """

    messages: list[Message] = field(default_factory=list)
    edit: Message | None = None
    toast: str | None = None
    events: list[Event] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    photos: list[Document] = field(default_factory=list)  # sent after `messages` (the /progress chart)
    delete: list[int] = field(default_factory=list)
    remember: bool = True
    orders: list[Order] = field(default_factory=list)
    save: bool = True



# -- the store's roles ------------------------------------------------------------------------
# What the service, the bot and the command line ask of the store. `state.store` implements
# them with SQLite; another database can slot in behind the same methods.


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
    """How the stored progress blobs are kept: how many sealed, how many plain."""

    sealed: int
    plain: int


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

    async def recover(self) -> int:
        """Return claims a crash left unfinished to waiting; how many."""

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

    async def key_status(self) -> KeyStatus:
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
