"""After the engine answers: what a turn means for reminders, check-ins and the /progress chart.

The engine is pure; what it wants done in the database travels as typed orders on the
turn's `Reply` (`state.contracts`). `FollowUp.during` carries the reminder orders out inside
the turn's transaction, and keeps the one nudge for someone who stopped mid-module right.
`FollowUp.after` runs once the transaction is over: it adds the check-in chart to
`/progress` (drawing takes a moment, and must not hold the writer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import assert_never

from state.contracts import (
    CHECKIN,
    HOMEWORK,
    NUDGE,
    CancelReminders,
    CheckinRecord,
    Command,
    DataOrder,
    DeferReminder,
    Document,
    Due,
    FollowCheckin,
    Input,
    KeepCheckin,
    Message,
    Order,
    PlanReminder,
    Progress,
    ReminderOrder,
    ReplanReminders,
    Reply,
)
from state.curriculum.markup import to_html
from state.curriculum.model import LocaleContent
from state.engine.between_sessions.checkins import weekly
from state.engine.between_sessions.schedule import (
    ReminderPrefs,
    checkin_next,
    homework_due,
    homework_pending,
    homework_ref,
    jittered,
    nudge_due,
)
from state.engine.between_sessions.timezones import local_day
from state.engine.engine import Engine
from state.store.progress import Nudge, ProgressStore, Session
from state.store.reminders import ReminderStore

DAY = 86400.0


@dataclass(frozen=True)
class FollowUpOptions:
    """Settings for what happens between sessions (from the `reminders:` config section)."""

    nudge_after_days: int = 3
    chart_weeks: int = 8
    jitter_seconds: int = 0  # each person's reminders move by up to this much (`schedule.jitter`)


class FollowUp:
    """Carries out a turn's reminder and check-in orders, and draws the progress chart."""

    def __init__(self, engine: Engine, store: ProgressStore,
                 options: FollowUpOptions | None = None) -> None:
        self.engine = engine
        self.reminders = ReminderStore(store)
        self.options = options or FollowUpOptions()

    def _setup(self, progress: Progress) -> tuple[LocaleContent, ReminderPrefs]:
        content = self.engine.curriculum.content(progress.locale)
        assert content.locale is not None
        return content, ReminderPrefs.of(progress.answers, content.locale.defaults)

    async def during(self, session: Session, progress: Progress, message: Input,
                     orders: Sequence[Order], now: float) -> None:
        """Inside the turn's transaction: carry out its reminder orders and keep the nudge right."""
        todo = [*stored_outbox(progress), *(o for o in orders if not isinstance(o, DataOrder))]
        content, prefs = self._setup(progress)
        by_person = not isinstance(message, Due)
        if by_person and session.unreachable and await self.reminders.reachable_again(progress.user_id):
            todo.append(ReplanReminders())
        for order in todo:
            await self._carry_out(progress, prefs, order, now)
        if by_person:
            session.nudge = self._nudge(progress, content, prefs, now)

    def _spread(self, user: int, prefs: ReminderPrefs, when: float) -> float:
        """A planned time moved by the person's own small jitter, so waves spread out."""
        return jittered(prefs, user, when, self.options.jitter_seconds)

    async def _carry_out(self, progress: Progress, prefs: ReminderPrefs, order: ReminderOrder,
                         now: float) -> None:
        user = progress.user_id
        match order:
            case PlanReminder(kind, due, ref):
                if prefs.on:
                    await self.reminders.plan(user, kind, self._spread(user, prefs, due), now, ref)
            case CancelReminders(kind):
                await self.reminders.cancel(user, kind)
            case DeferReminder(reminder_id, due):
                await self.reminders.defer(reminder_id, self._spread(user, prefs, due))
            case FollowCheckin(reminder_id, due):
                await self.reminders.set_follow(reminder_id, self._spread(user, prefs, due))
            case KeepCheckin(record):
                await self.reminders.add_checkin(user, record)
            case ReplanReminders():
                await self.replan(progress, prefs, now)
            case _:
                assert_never(order)

    async def replan(self, progress: Progress, prefs: ReminderPrefs, now: float) -> None:
        """Plan the person's reminders again from their settings (after a change)."""
        user, answers = progress.user_id, progress.answers
        if not prefs.on:
            await self.reminders.cancel(user)
            return
        waiting = {r.kind: r for r in await self.reminders.waiting(user)}
        ref = homework_ref(answers)
        def spread(when: float) -> float:
            return self._spread(user, prefs, when)
        if HOMEWORK in waiting:
            homework = waiting[HOMEWORK]
            await self.reminders.plan(user, HOMEWORK, spread(prefs.same_day_slot(homework.due_at, now)),
                                      now, homework.ref)
        elif homework_pending(answers) and not await self.reminders.was_sent(user, HOMEWORK, ref):
            await self.reminders.plan(user, HOMEWORK, spread(homework_due(answers, prefs, now)), now, ref)
        follow = checkin_next(prefs, now)
        if follow is None:
            await self.reminders.cancel(user, CHECKIN)
        for kind in (CHECKIN, NUDGE):  # kept on their day, at the time now in force
            if kind in waiting and (kind != CHECKIN or follow is not None):
                await self.reminders.plan(user, kind, spread(prefs.same_day_slot(waiting[kind].due_at, now)),
                                          now, waiting[kind].ref)
        if follow is not None and CHECKIN not in waiting:
            await self.reminders.plan(user, CHECKIN, spread(follow), now)

    def _nudge(self, progress: Progress, content: LocaleContent, prefs: ReminderPrefs,
               now: float) -> Nudge | None:
        """One gentle nudge, N days after someone stops mid-module; none again for that stop.

        It is kept on the person's row, saved with the turn at no extra cost; when it falls
        due, `ReminderStore.release_nudges` makes it a reminder unless one about the same
        stop went out already. Most turns fall on the same day and step as the one before,
        and then the row and its index stay as they were.
        """
        module = progress.module
        if not prefs.on or module is None or module == content.onboarding.id:
            return None
        due = nudge_due(prefs, now, self.options.nudge_after_days)
        return Nudge(self._spread(progress.user_id, prefs, due), f"{module}:{progress.step}")

    async def after(self, progress: Progress, message: Input, reply: Reply, now: float) -> None:
        """Once the turn is saved: add the check-in chart to /progress when there are check-ins."""
        if not (isinstance(message, Command) and message.name == "progress"):
            return
        content, prefs = self._setup(progress)
        if content.onboarding.id not in progress.completed:
            return
        weeks = self.options.chart_weeks
        records = await self.reminders.checkins(progress.user_id, now - weeks * 7 * DAY)
        if not records:
            return
        from state.reports.chart import ChartLabels, render_chart

        assert content.locale is not None
        ui, defaults = content.locale.ui, content.locale.defaults
        labels = ChartLabels(ui["chart_title"], ui["chart_stress"], ui["chart_sober"], ui["chart_rewards"],
                             content.code)
        summary = weekly(records, local_day(now, prefs.zone), weeks)
        png = await asyncio.to_thread(render_chart, summary, labels)
        caption = ui["progress_chart"].replace("{weeks}", str(weeks)).replace("{checkins}", str(len(records)))
        reply.messages.append(Message(to_html(caption, progress.answers, defaults)))
        reply.photos.append(Document("progress.png", png))


def stored_outbox(progress: Progress) -> list[ReminderOrder]:
    """Orders that older versions kept in the saved progress (`practice["outbox"]`), as values.

    Before orders travelled on the `Reply`, a turn that no service saw left them there for
    the next one; they are taken out (and carried out) the first time the progress loads.
    """
    found: list[ReminderOrder] = []
    for order in progress.practice.pop("outbox", None) or []:
        do = order.get("do") if isinstance(order, dict) else None
        if do == "plan":
            found.append(PlanReminder(str(order["kind"]), float(order["due"]), str(order.get("ref", ""))))
        elif do == "cancel":
            found.append(CancelReminders(str(order["kind"]) if order.get("kind") else None))
        elif do == "defer":
            found.append(DeferReminder(int(order["rid"]), float(order["due"])))
        elif do == "follow":
            found.append(FollowCheckin(int(order["rid"]), float(order["due"])))
        elif do == "checkin":
            fields = {k: v for k, v in order.items() if k in CheckinRecord.__dataclass_fields__}
            found.append(KeepCheckin(CheckinRecord(**fields)))
        elif do == "replan":
            found.append(ReplanReminders())
    return found
