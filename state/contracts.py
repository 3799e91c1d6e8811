"""Contracts between the engine and its doors: a user's progress, inputs, replies and orders.

Everything here is plain data that round-trips through JSON, so what the engine keeps
about a person is exactly what the store writes and what `/mydata` can show. The store's
own contract (its roles as `Protocol` classes) is `state.storage`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
    # For someone whose phone may be read (discreet mode): no sound, no link previews.
    silent: bool = False
    previews: bool = True


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

CRISIS_EVENTS = frozenset({"crisis", "crisis_check"})  # the events of a crisis interrupt


@dataclass(frozen=True)
class Delivery:
    """A reply the store keeps until Telegram has accepted all of it (`state.service.redelivery`).

    Set on a `Reply` by the conversation service, never by the engine: `update_id` is the
    update it answers; `accepted` how many of its sends (a long message's parts each count)
    Telegram took before a kill, so a reply taken up again starts after them; `crisis` whether
    it carries crisis help (sent first and tried until Telegram takes it).
    """

    update_id: int
    accepted: int = 0
    crisis: bool = False


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
    # The safety plan and the data export: protected from forwarding and saving.
    protect: bool = False
    delivery: Delivery | None = None  # kept in the store until sent whole (set by the service)

    @property
    def crisis(self) -> bool:
        """Whether this reply carries crisis help (a crisis interrupt, or one taken up again)."""
        return any(event.kind in CRISIS_EVENTS for event in self.events) or bool(
            self.delivery and self.delivery.crisis)
