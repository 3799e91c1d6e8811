"""The homework review: did you try it, how did it go, and a short problem-solving pass.

CRAFT's rhythm is homework set, tried, then talked over. The review listens to the answer:

    tried / partly   praised as the skill of the module it came from, then "How did it go?"
                     went well  celebrated and tied to rewarding sober time; "what happened?"
                     mixed      "what got in the way, if anything?"
                     badly      the problem-solving pass
    not yet          the problem-solving pass: what got in the way, one small change,
                     when to try again (CRAFT's problem solving, procedure 8, in three taps)

Saved: `homework_tried`, `homework_outcome` (well | mixed | badly), `homework_how`,
`homework_obstacle`, `homework_plan`, `homework_plan_when`, then `homework_reviewed`; after a
plan for a new try the homework stays open and its check-in is planned again (today: next day,
this week: in four days, not sure: in three).
`homework_setbacks` counts reviews in a row that went badly or were not tried; from the
second, the review ends by offering people (a counsellor, family groups: `people:` in the
configuration). Homework is looked back on only once it is a day old (`review_later`).
"""

from __future__ import annotations

from typing import Any

from state.contracts import HOMEWORK, CancelReminders, Input, PlanReminder, Press
from state.engine.between_sessions.schedule import homework_pending, homework_ref
from state.engine.between_sessions.sideflow import Aside
from state.engine.callbacks import MODULE, SIDE_FLOW, callback, parse
from state.engine.step_view import option_rows
from state.engine.turn import Turn

REVIEW_CHOICES = ("tried", "partly", "not_yet")
OUTCOMES = ("well", "mixed", "badly")
WHENS = ("today", "week", "unsure")
REVIEW_KEYS = ("homework_tried", "homework_outcome", "homework_how", "homework_obstacle",
               "homework_plan", "homework_plan_when", "homework_reviewed", "homework_reviewed_at")
SETBACKS_KEY = "homework_setbacks"  # reviews in a row not tried or gone badly
PEOPLE_AFTER = 2  # setbacks in a row before the review offers people
LATER_KEY = "homework_review_later"  # for this turn: a module must not look back on the homework
FRESH_SECONDS = 24 * 3600  # homework younger than this is not reviewed yet
TEXT_STAGES = ("how", "obstacle", "solve_obstacle", "solve_idea")
SOLVED = "review_solve_done"  # the closing words after a plan for a new try
SELF_CARE = "self_care"  # its homework's review ends by rating life again (the happiness scale)


def fresh(answers: dict[str, Any], now: float) -> bool:
    """Whether the current homework was set less than a day ago (too soon to ask how it went)."""
    set_at = answers.get("homework_set_at")
    return isinstance(set_at, int | float) and now - float(set_at) < FRESH_SECONDS


def prepare(turn: Turn, message: Input) -> None:
    """Before the curriculum answers: may a module opened now look back on the homework?

    Not when the homework is under a day old, and not when a finished module is opened
    again (a second look at old lessons must not use up the review of this week's practice).
    Modules test `homework_review_later` before `homework` (docs/reminders.md); `settle`
    removes it at the end of the turn.
    """
    answers = turn.p.answers
    reopening = False
    if isinstance(message, Press):
        prefix, rest = parse(message.data)
        reopening = prefix == MODULE and rest in turn.p.completed
    later = homework_pending(answers) and (fresh(answers, turn.now) or reopening)
    if later:
        answers[LATER_KEY] = True
    else:
        answers.pop(LATER_KEY, None)


def start(aside: Aside, tried: str) -> None:
    """"Did you try it?" was answered: praise a try, or go to problem solving."""
    answers = aside.p.answers
    answers["homework_tried"] = tried
    if tried == "not_yet":
        _setback(aside)
        _solve(aside)
        return
    aside.say("review_tried_praise" if tried == "tried" else "review_partly_praise", title=_title(aside))
    ask(aside, aside.start_flow("review", stage="outcome"))


def ask(aside: Aside, flow: dict[str, Any]) -> None:
    """The review's current question, with its buttons."""
    token, stage = flow["token"], str(flow["stage"])

    def button(key: str, value: str) -> Any:
        return aside.button(f"review_{key}_button", callback(SIDE_FLOW, token, value))

    skip = button("skip", "skip")
    if stage == "outcome":
        aside.say("review_outcome", (tuple(button(o, o) for o in OUTCOMES),))
    elif stage == "rerate":
        aside.say("happiness_rerate", happiness_rows(token))
    elif stage == "solve_when":
        aside.say("review_solve_when", (tuple(button(w, w) for w in WHENS),))
    elif stage == "obstacle":
        aside.say("review_obstacle", ((button("nothing", "nothing"), skip),))
    else:
        aside.say(f"review_{stage}", ((skip,),))


def press(aside: Aside, value: str) -> bool:
    """A button of the review; False if it does not fit the question on screen."""
    flow = aside.flow
    assert flow is not None
    stage = str(flow["stage"])
    if stage == "outcome" and value in OUTCOMES:
        _outcome(aside, value)
    elif stage == "rerate" and value.isdigit() and 1 <= int(value) <= 10:
        rerated(aside, int(value))
        closing = str(flow.get("closing") or "review_done")
        finish(aside, closing)
        if closing == SOLVED:
            _try_again(aside)
    elif stage == "solve_when" and value in WHENS:
        _plan_made(aside, value)
    elif stage in TEXT_STAGES and value in ("skip", "nothing"):
        return text(aside, "" if value == "skip" else aside.turn.ui["review_nothing_button"])
    else:
        return False
    return True


def text(aside: Aside, typed: str) -> bool:
    """Typed words as the answer to the review's question; False if they are not one."""
    flow = aside.flow
    assert flow is not None
    stage, answers = str(flow["stage"]), aside.p.answers
    if stage == "rerate":
        return press(aside, typed.strip())
    if stage in ("outcome", "solve_when"):
        choices = OUTCOMES if stage == "outcome" else WHENS
        labels = {aside.turn.ui[f"review_{c}_button"].strip().casefold(): c for c in choices}
        value = labels.get(typed.strip().casefold())
        if value is not None:
            return press(aside, value)
        if stage == "solve_when":
            return False
        answers["homework_how"] = typed  # told in their own words: ask what got in the way
        flow["stage"] = "obstacle"
        ask(aside, flow)
        return True
    if stage == "how":
        answers["homework_how"] = typed
        finish(aside)
    elif stage == "obstacle":
        answers["homework_obstacle"] = typed
        finish(aside)
    elif stage == "solve_obstacle":
        answers["homework_obstacle"] = typed
        flow["stage"] = "solve_idea"
        ask(aside, flow)
    else:
        answers["homework_plan"] = typed
        flow["stage"] = "solve_when"
        ask(aside, flow)
    return True


def finish(aside: Aside, key: str = "review_done") -> None:
    """The review is over: mark the homework reviewed, offer people after setbacks, go back."""
    answers = aside.p.answers
    flow = aside.flow
    if answers.get("homework_module") == SELF_CARE and flow is not None and flow["stage"] != "rerate":
        flow["stage"], flow["closing"] = "rerate", key  # first: how is life now, 1-10?
        ask(aside, flow)
        return
    answers["homework_reviewed"] = True
    answers["homework_reviewed_at"] = aside.now
    aside.end_flow()
    aside.close_kind(HOMEWORK)
    aside.order(CancelReminders(HOMEWORK))
    aside.event("homework_reviewed")
    if int(answers.get(SETBACKS_KEY) or 0) >= PEOPLE_AFTER:
        aside.event("people_offered")
        aside.say("review_people")
    aside.turn.say_ui(key, here_button=True)


def _outcome(aside: Aside, value: str) -> None:
    flow = aside.flow
    assert flow is not None
    aside.p.answers["homework_outcome"] = value
    if value == "badly":
        _setback(aside)
        _solve(aside)
        return
    if value == "well":
        aside.p.answers[SETBACKS_KEY] = 0
        aside.say("review_went_well")
        flow["stage"] = "how"
    else:
        flow["stage"] = "obstacle"
    ask(aside, flow)


def _solve(aside: Aside) -> None:
    """The short problem-solving pass: what got in the way, one change, when."""
    aside.say("review_solve_intro")
    ask(aside, aside.start_flow("review", stage="solve_obstacle"))


def _plan_made(aside: Aside, when: str) -> None:
    """A new try is planned: the homework stays open and its check-in comes again."""
    answers = aside.p.answers
    answers["homework_plan_when"] = when
    finish(aside, SOLVED)
    if aside.flow is None:  # (self-care asks the happiness scale first, then reopens)
        _try_again(aside)


def _try_again(aside: Aside) -> None:
    """The homework stays open for the new try; its check-in is planned again."""
    answers = aside.p.answers
    when = str(answers.get("homework_plan_when") or "")
    answers.pop("homework_reviewed", None)
    answers["homework_set_at"] = aside.now  # a fresh try: not looked back on for a day
    if aside.prefs.on:
        days = {"today": 1, "week": 4}.get(when, 3)
        due = aside.prefs.next_slot(aside.now, days=days)
        aside.order(PlanReminder(HOMEWORK, due, homework_ref(answers)))


def _setback(aside: Aside) -> None:
    answers = aside.p.answers
    answers[SETBACKS_KEY] = int(answers.get(SETBACKS_KEY) or 0) + 1


def _title(aside: Aside) -> str:
    module = aside.turn.content.modules.get(str(aside.p.answers.get("homework_module") or ""))
    return module.title if module else aside.turn.ui["review_practice_word"]


def happiness_rows(token: object) -> tuple[tuple[Any, ...], ...]:
    """The 1-10 buttons of the happiness scale, in a side flow with this token (two rows of five)."""
    numbers = [str(n) for n in range(1, 11)]
    return option_rows(numbers, [callback(SIDE_FLOW, token, n) for n in numbers], 5)


def rerated(aside: Aside, now_rating: int) -> None:
    """Save life rated again (self-care's happiness scale) and compare it with the first rating."""
    answers = aside.p.answers
    answers["self_care_overall_again"] = now_rating
    answers["self_care_overall_again_at"] = aside.now
    before = answers.get("self_care_overall")
    if isinstance(before, int) and not isinstance(before, bool):
        aside.say("happiness_compare", before=str(before), now=str(now_rating))
