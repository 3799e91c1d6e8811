"""A world below Telegram for reminder and check-in tests: real engine, SQLite, service, dispatcher.

`World` holds the engine, a store on one SQLite file, the conversation service and the
reminder dispatcher, all in simulated time (`SimulatedTime`): tests move the clock and
call `run()` themselves. Messages the dispatcher delivers go to a `RecordingSender` that can
also refuse (blocked) or ask to wait (retry after), as Telegram does. `at` and `local`
turn wall-clock times of a zone into epoch seconds and back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.ptb.reminders import DispatchReport, RetryLater, Scheduler, Unreachable
from state.contracts import CheckinRecord, Command, Input, Message, Press, Progress, Reply, TextIn
from state.curriculum.loader import load_curriculum
from state.curriculum.markup import to_plain
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.service.driver import find_button
from state.service.pacing import Pacer, SimulatedTime
from state.storage import Cipher
from state.store.progress import SqliteProgressStore
from state.store.reminders import Reminder, ReminderStore
from tests.kit.curricula import practice_curriculum

NY, LA = "America/New_York", "America/Los_Angeles"


def at(zone: str, text: str) -> float:
    """Epoch seconds of a local wall-clock time such as "2024-03-11 19:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def local(zone: str, epoch: float) -> str:
    """A time as "2024-03-11 19:00" on a zone's clock."""
    return datetime.fromtimestamp(epoch, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


@dataclass
class Sent:
    """One message the dispatcher delivered."""

    at: float
    chat_id: int
    text: str
    message: Message


class RecordingSender:
    """Telegram as the dispatcher sees it: takes messages, or refuses as told."""

    def __init__(self, time: SimulatedTime) -> None:
        self.time = time
        self.sent: list[Sent] = []
        self.attempts: dict[int, int] = {}
        self.blocked: set[int] = set()
        self.floods: dict[int, list[float]] = {}

    async def send(self, chat_id: int, message: Message) -> None:
        self.attempts[chat_id] = self.attempts.get(chat_id, 0) + 1
        if chat_id in self.blocked:
            raise Unreachable("Forbidden: bot was blocked by the user")
        if self.floods.get(chat_id):
            raise RetryLater(self.floods[chat_id].pop(0))
        self.sent.append(Sent(self.time.now(), chat_id, to_plain(message.html), message))

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]


class World:
    """Engine, store, conversations and dispatcher on one SQLite file, in simulated time."""

    def __init__(self, folder: Path, curriculum: Path, start: float, cipher: Cipher | None = None,
                 where: str | None = None, keys_url: str | None = None) -> None:
        self.path = folder / "bot.sqlite3"
        self.where: Path | str = where or self.path  # a PostgreSQL URL, else the SQLite file
        self.keys_url = keys_url
        self.cipher = cipher
        self.engine = Engine(load_curriculum(curriculum))
        self.time = SimulatedTime(start)
        self.sender = RecordingSender(self.time)
        self.last: dict[int, Reply] = {}

    async def open(self) -> World:
        self.store = await SqliteProgressStore(self.where, self.cipher, keys_url=self.keys_url).open()
        self.conversations = Conversations(self.engine, self.store, self.time.now)
        self.pacer = Pacer(25, 1.0, now=self.time.now, sleep=self.time.sleep)
        self.scheduler = Scheduler(self.conversations, self.sender, clock=self.time.now, pacer=self.pacer)
        self.reminders = ReminderStore(self.store)
        return self

    async def close(self) -> None:
        await self.store.close()

    async def restart(self) -> int:
        """Stop and start again on the same file; how many claims the restart recovered."""
        await self.close()
        await self.open()
        return await self.scheduler.recover()

    def move(self, when: float) -> None:
        assert when >= self.time.t, "time only moves forward"
        self.time.t = when

    async def run(self) -> DispatchReport:
        return await self.scheduler.run_due()

    async def say(self, user: int, message: Input) -> Reply:
        reply = await self.conversations.handle(user, message)
        assert reply is not None
        self.last[user] = reply
        return reply

    async def text(self, user: int, words: str) -> Reply:
        return await self.say(user, TextIn(words))

    async def press(self, user: int, label: str, reply: Reply | None = None) -> Reply:
        """Tap the newest button whose label is (or contains) `label`."""
        shown = reply or self.last[user]
        return await self.say(user, Press(button(shown.messages, label)))

    async def press_sent(self, user: int, label: str) -> Reply:
        """Tap a button on the newest reminder the dispatcher delivered."""
        return await self.say(user, Press(button([self.sender.to(user)[-1].message], label)))

    async def onboard(self, user: int, *, time: str = "Evening (19:00)", zone: str = "Eastern",
                      city: str | None = None) -> None:
        """Through the sample onboarding and the real reminder questions."""
        await self.say(user, Command("start"))
        await self.press(user, "Yes, let's start")
        await self.text(user, "Sam")
        for label in ("My partner", "Alcohol"):
            await self.press(user, label)
        for _ in range(3):
            await self.press(user, "No")
        await self.press(user, time)
        if time != "No reminders":
            await self.press(user, "Somewhere else" if city else zone)
            if city:
                await self.text(user, city)
        assert "onboarding" in (await self.progress(user)).completed

    async def basics(self, user: int) -> Reply:
        """Through the sample Basics module to its homework (check-in in 2 days)."""
        await self.press(user, "Basics", await self.say(user, Command("menu")))
        await self.press(user, "Ready")
        await self.press(user, "7")
        await self.press(user, "I'd love your help")
        await self.text(user, "evenings")
        await self.press(user, "sober and calm")
        await self.press(user, "Paid a bill")
        reply = await self.press(user, "Done")
        assert "notice one sober moment" in said(reply)
        return reply

    async def progress(self, user: int) -> Progress:
        progress = await self.store.load(user)
        assert progress is not None
        return progress

    async def waiting(self, user: int) -> list[Reminder]:
        return [r for r in await self.reminders.all_for(user) if r.status == "pending"]


def button(messages: list[Message], label: str) -> str:
    """The callback data of the newest button labelled `label` (else whose label contains it)."""
    newest_first = [b for m in reversed(messages) for row in m.buttons for b in row]
    return find_button(newest_first, label, partial=True).data


def said(reply: Reply) -> str:
    """The plain text of a reply's messages."""
    return "\n".join(to_plain(m.html) for m in reply.messages)


async def make_world(tmp_path: Path, cipher: Cipher | None = None, where: str | None = None,
                     keys_url: str | None = None) -> World:
    """A world on the practice curriculum, on the Saturday before US summer time begins
    (Sunday 2024-03-10), so a two-day homework check-in falls on the other side of it.
    With a cipher, the store seals what it keeps (`state.store.crypto`)."""
    curriculum = practice_curriculum(tmp_path / "curriculum")
    return await World(tmp_path, curriculum, at(NY, "2024-03-09 10:00"), cipher, where, keys_url).open()


def record(day: str, stress: int | None, sober: int | None, rewards: int | None,
           period: int = 1) -> CheckinRecord:
    """A check-in answered at 19:00 New York time on `day` ("2024-05-06")."""
    return CheckinRecord(at(NY, f"{day} 19:00"), day, period, stress, sober, rewards, "unknown")
