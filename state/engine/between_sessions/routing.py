"""Practice between sessions, on the engine's side: reminders, homework reviews, check-ins.

The engine hands every input to `take` first (after crisis words). It answers:

- `Due`: a reminder whose time has come. It is checked again (reminders off, quiet hours
  now, homework already reviewed, the person moved on) and becomes a message with its own
  buttons: the review's first question or the stress scale, plus "later today" and
  "tomorrow". In discreet mode the words are neutral: no names, no substances.
- presses on those buttons (``r:<reminder>:<action>``), on a side flow's buttons
  (``k:<token>:<value>``) and on `/reminders` (``w:...``, see `state.engine.between_sessions.settings`);
- typed text while a side flow waits for it; `/reminders` and `/checkin`.

Anything else leaves the side flow and goes on to the curriculum as usual. `settle` runs
at the end of every turn: it resolves a typed city to a time zone, plans the check-in for
new homework, and notes when a module's own opening review made the reminder's needless.

The homework review saves `homework_tried` (tried | partly | not_yet), `homework_how`,
`homework_obstacle` and sets `homework_reviewed`; new homework clears them. A module that
opens with a review branches on `homework_reviewed` to skip it once the reminder's review
has happened (see docs/reminders.md).
"""

from __future__ import annotations

from state.contracts import (
    CHECKIN,
    HOMEWORK,
    NUDGE,
    CancelReminders,
    Command,
    DeferReminder,
    Due,
    FollowCheckin,
    Input,
    Other,
    PlanReminder,
    Press,
    ReplanReminders,
    TextIn,
)
from state.curriculum.schema import BranchStep
from state.engine import held
from state.engine.between_sessions import checkins, review, settings
from state.engine.between_sessions.review import LATER_KEY, REVIEW_CHOICES, REVIEW_KEYS
from state.engine.between_sessions.schedule import (
    CHECKIN_PERIODS,
    CHECKINS_KEY,
    CITY_KEY,
    DEFAULT_ZONE,
    ZONE_KEY,
    checkin_next,
    homework_due,
    homework_pending,
    homework_ref,
    snooze_until,
)
from state.engine.between_sessions.sideflow import Aside
from state.engine.between_sessions.timezones import (
    hhmm,
    local,
    local_day,
    resolve_zone,
    valid_zone,
    zone_label,
)
from state.engine.callbacks import HERE, KEEP_HELD, REMINDER, callback
from state.engine.step_view import with_choice_mark
from state.engine.turn import Turn


def take(turn: Turn, message: Input) -> bool:
    """Answer the input if it belongs to practice; False lets the curriculum answer it."""
    aside = Aside(turn)
    if isinstance(message, Due):
        on_due(aside, message)
        return True
    if isinstance(message, Other):
        return False
    if isinstance(message, Press) and message.data in (HERE, KEEP_HELD) and held.for_flow(turn):
        back_with_held_words(aside, keep=message.data == KEEP_HELD)
        return True
    if isinstance(message, Press):
        kind, _, rest = message.data.partition(":")
        if kind in ("r", "k", "w") and not turn.onboarded():
            turn.old_button()
        elif kind == "r":
            on_reminder_press(aside, rest, message)
        elif kind == "k":
            on_flow_press(aside, rest, message)
        elif kind == "w":
            settings.on_press(aside, rest, message)
        else:
            aside.end_flow()
            review.prepare(turn, message)
            return False
        return True
    if isinstance(message, Command) and message.name in ("reminders", "checkin"):
        aside.end_flow()
        if not turn.onboarded():
            turn.say_ui("onboarding_first")
            turn.show_current()
        elif message.name == "reminders":
            settings.show(aside)
        else:
            period = CHECKIN_PERIODS.get(aside.prefs.checkins, 1)
            checkins.start(aside, 1 if period == 1 else 7)
        return True
    if isinstance(message, TextIn) and aside.flow is not None and on_flow_text(aside, message.text):
        return True
    aside.end_flow()
    review.prepare(turn, message)  # may a module opened now look back on the homework?
    return False


# -- a reminder's time has come ------------------------------------------------------------


def on_due(aside: Aside, due: Due) -> None:
    """Turn a due reminder into its message, or into nothing when it no longer fits."""
    prefs = aside.prefs
    if not aside.turn.onboarded() or not prefs.on:
        aside.event("reminder_skipped")
        return
    if prefs.quiet_now(aside.now):
        aside.order(DeferReminder(due.reminder_id, prefs.place(aside.now)))
        aside.event("reminder_deferred")
        return
    later = (aside.button("snooze_later_button", callback(REMINDER, due.reminder_id, "later")),
             aside.button("snooze_tomorrow_button", callback(REMINDER, due.reminder_id, "tomorrow")))
    if due.kind == HOMEWORK and review.fresh(aside.p.answers, aside.now):
        aside.order(DeferReminder(due.reminder_id, prefs.next_slot(aside.now, days=1)))
        aside.event("reminder_deferred")  # too soon to ask how it went
        return
    if due.kind == HOMEWORK and homework_pending(aside.p.answers):
        choices = tuple(aside.button(f"review_{c}_button", callback(REMINDER, due.reminder_id, c))
                       for c in REVIEW_CHOICES)
        first = aside.outside("homework", aside.text("reminder_homework"))
        aside.turn.say(f"{first}\n\n{aside.text('review_question')}", (choices, later))
    elif due.kind == CHECKIN and prefs.checkins != "off":
        stop = (aside.button("checkin_stop_button", callback(REMINDER, due.reminder_id, "stop")),)
        first = aside.outside("check_in", aside.text(f"checkin_due_{prefs.checkins}"))
        aside.turn.say(f"{first}\n\n{aside.text('checkin_stress')}",
                       (*checkins.stress_rows(callback(REMINDER, due.reminder_id, "s")), later, stop))
        follow = checkin_next(prefs, aside.now, after_due=due.due_at or aside.now)
        if follow is not None:
            aside.order(FollowCheckin(due.reminder_id, follow))
    elif (due.kind == NUDGE and aside.p.module and f"{aside.p.module}:{aside.p.step}" == due.ref
          and aside.p.updated_at <= due.planned_at):  # not if they have written since it fell due
        title = aside.turn.content.modules[aside.p.module].title
        buttons = ((aside.button("continue_button", HERE),
                    aside.button("nudge_dismiss_button", callback(REMINDER, due.reminder_id, "dismiss"))),)
        aside.turn.say(aside.outside("nudge", aside.text("reminder_nudge", title=title)), buttons)
    else:
        aside.event("reminder_skipped")
        return
    aside.opened(due.reminder_id, due.kind)
    aside.event(f"reminder_{due.kind}")


def on_reminder_press(aside: Aside, rest: str, press: Press) -> None:
    """A button on a reminder: snooze it, stop it, or answer its first question."""
    rid, _, action = rest.partition(":")
    kind = aside.close(rid)
    if kind is None:
        aside.turn.old_button()
        return
    aside.end_flow()
    aside.turn.reply.edit = with_choice_mark(press.message_html, _reminder_label(aside, action))
    prefs = aside.prefs
    if action in ("later", "tomorrow"):
        until = snooze_until(prefs, aside.now, action)
        ref = homework_ref(aside.p.answers) if kind == HOMEWORK else ""
        aside.order(PlanReminder(kind, until, ref))
        aside.event("reminder_snoozed")
        same_day = local_day(until, prefs.zone) == local_day(aside.now, prefs.zone)
        aside.say("snoozed_today" if same_day else "snoozed_tomorrow", time=hhmm(_minutes(until, prefs.zone)))
    elif action == "dismiss":
        aside.event("nudge_dismissed")
        aside.say("nudge_dismissed")
    elif action == "stop":
        aside.p.answers[CHECKINS_KEY] = "off"
        aside.order(ReplanReminders())
        aside.event("checkins_stopped")
        aside.say("checkin_stopped")
    elif action in REVIEW_CHOICES and homework_pending(aside.p.answers):
        review.start(aside, action)
    elif action.startswith("s") and action[1:].isdigit() and 1 <= int(action[1:]) <= 10:
        period = CHECKIN_PERIODS.get(prefs.checkins, 1)
        checkins.start(aside, 1 if period == 1 else 7, stress=int(action[1:]))
    else:
        aside.turn.old_button()


def _reminder_label(aside: Aside, action: str) -> str:
    """The label of a reminder's button, from its action (a press does not carry the label)."""
    keys = {"later": "snooze_later_button", "tomorrow": "snooze_tomorrow_button",
            "dismiss": "nudge_dismiss_button", "stop": "checkin_stop_button"}
    keys.update({c: f"review_{c}_button" for c in REVIEW_CHOICES})
    if action in keys:
        return aside.turn.ui[keys[action]]
    return action[1:] if action.startswith("s") else action


def _minutes(epoch: float, zone: str) -> int:
    wall = local(epoch, zone)
    return wall.hour * 60 + wall.minute


# -- side flows ----------------------------------------------------------------------------


def on_flow_press(aside: Aside, rest: str, press: Press) -> None:
    """A button of the side flow in progress (an older flow's buttons are old buttons)."""
    token, _, value = rest.partition(":")
    flow = aside.flow
    if flow is None or str(flow.get("token")) != token:
        aside.turn.old_button()
        return
    aside.turn.reply.edit = with_choice_mark(press.message_html, _label(aside, value))
    if not flow_value(aside, value):
        aside.turn.old_button()


def on_flow_text(aside: Aside, text: str) -> bool:
    """Typed text while a side flow is open; False when it is not meant for the flow."""
    flow = aside.flow
    assert flow is not None
    if flow["name"] == "review":
        return review.text(aside, text)
    if flow["name"] == "checkin":
        value = checkins.typed(aside, text)
        return value is not None and checkins.answer(aside, value)
    if flow["name"] == "set":
        return settings.on_text(aside, text)
    return False


def flow_value(aside: Aside, value: str) -> bool:
    """Apply a flow button's value to the flow in progress."""
    flow = aside.flow
    assert flow is not None
    if flow["name"] == "checkin":
        return checkins.answer(aside, value)
    if flow["name"] == "review":
        return review.press(aside, value)
    return False


def _label(aside: Aside, value: str) -> str:
    flow = aside.flow or {}
    if flow.get("name") == "checkin":
        pairs = checkins.options(aside, str(flow["stage"]), int(flow["period"]))
        return next((label for label, v in pairs if v == value), value)
    return aside.turn.ui.get(f"review_{value}_button", value)


def back_with_held_words(aside: Aside, *, keep: bool) -> None:
    """Back from a crisis interrupt to a side flow's question: offer, or use, the words it held."""
    words = held.for_flow(aside.turn)
    assert words is not None
    if keep:
        held.take(aside.turn)
        if not on_flow_text(aside, words):  # not an answer this question takes: ask it again
            ask_again(aside)
        return
    aside.turn.say(aside.turn.ui["crisis_held"],
                   ((aside.button("crisis_keep_button", KEEP_HELD),),))
    ask_again(aside)


def ask_again(aside: Aside) -> None:
    """The open side flow's question once more."""
    flow = aside.flow
    assert flow is not None
    if flow["name"] == "review":
        review.ask(aside, flow)
    elif flow["name"] == "checkin":
        checkins.ask(aside)
    elif flow["name"] == "set":
        settings.ask(aside, str(flow.get("field")))


# -- the end of every turn -----------------------------------------------------------------


def settle(turn: Turn) -> None:
    """What a turn's moves mean for practice: a typed city, new homework, a module's review."""
    aside = Aside(turn)
    answers = turn.p.answers
    if answers.get(ZONE_KEY) == "other" and answers.get(CITY_KEY):
        _settle_city(aside, str(answers[CITY_KEY]))
    for event in list(turn.reply.events):
        if event.kind == "homework_set":
            for key in REVIEW_KEYS:
                answers.pop(key, None)
            aside.close_kind(HOMEWORK)
            if aside.prefs.on:
                aside.order(PlanReminder(HOMEWORK, homework_due(answers, aside.prefs, turn.now),
                                         homework_ref(answers)))
        elif event.kind == "module_started" and event.module and _opens_with_review(turn, event.module):
            if homework_pending(answers) and not answers.get(LATER_KEY):
                answers["homework_reviewed"] = True
                answers["homework_reviewed_at"] = turn.now
                aside.close_kind(HOMEWORK)
                aside.order(CancelReminders(HOMEWORK))
        elif event.kind == "module_completed" and _all_done(turn) and not aside.prefs.checkins_chosen:
            answers[CHECKINS_KEY] = "monthly"  # after the last module, monthly check-ins go on
            if aside.prefs.on:
                aside.order(PlanReminder(CHECKIN, aside.prefs.next_slot(turn.now, days=30)))
    answers.pop(LATER_KEY, None)  # it holds for one turn only


def _settle_city(aside: Aside, city: str) -> None:
    zone = resolve_zone(city)
    answers = aside.p.answers
    if zone is None:
        fallback = str(aside.turn.locale.defaults.get(ZONE_KEY) or DEFAULT_ZONE)
        answers[ZONE_KEY] = fallback if valid_zone(fallback) else DEFAULT_ZONE
        text = aside.text("zone_city_unknown", city=city,
                          zone=zone_label(answers[ZONE_KEY], aside.turn.content.code))
    else:
        answers[ZONE_KEY] = zone
        text = aside.text("zone_set", zone=zone_label(zone, aside.turn.content.code),
                          local=hhmm(_minutes(aside.now, zone)))
    aside.order(ReplanReminders())
    before = len(aside.turn.reply.messages)
    aside.turn.say(text)
    aside.turn.reply.messages.insert(0, aside.turn.reply.messages.pop(before))


def _opens_with_review(turn: Turn, module_id: str) -> bool:
    """Whether a teaching module begins by looking back at the homework (a branch on it)."""
    module = turn.content.modules.get(module_id)
    if module is None or module.onboarding:
        return False
    first = turn.content.step(module_id, module.first_step)
    return isinstance(first, BranchStep) and any(
        c.key == "homework" for case in first.cases for c in case.conditions)


def _all_done(turn: Turn) -> bool:
    return all(m.id in turn.p.completed for m in turn.content.path_modules)
