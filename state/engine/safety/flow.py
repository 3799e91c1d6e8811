"""What the bot does for someone in danger: the crisis interrupt and its next steps, /safety,
/safetyplan and /discreet.

A crisis interrupt never moves the user and never saves the message that caused it:

```mermaid
flowchart TD
    U[unsure signs of crisis] --> C{Is someone in danger right now?}
    C -- Yes --> M
    C -- No --> H
    T[words of crisis, at any step] --> M[pathway message + resources] --> A{the pathway's question}
    A -- I'm safe right now / No, it's over --> N[next steps + Back to where I was]
    A -- I'm not safe / Yes, right now / not sure --> R[resources again + next steps + I'm safe now]
    R -- I'm safe now --> N
    N -- safety plan / overdose steps / calming --> S[the step + Other help + Back]
    N -- Back to where I was --> H[v:here: the step they were on]
```

The pathway's question fits it: "Are you safe right now?" after violence or the person's own
thoughts of suicide, "Is this happening right now?" after an overdose or a medical emergency.
The resources are sent as their own messages and are never edited or deleted, and no
button under them leads straight back: leaving the crisis screen takes two taps. When the
signs are unsure (the detector says `ask`), one question comes first; No leads back to the
step, with the words they typed offered to keep.

Buttons carry `s:<action>:<arg>`: `safe`, `unsafe`, `unsure` (answers), `cy`, `cn` (Yes or
No to the first question), `more` (the next steps again), `plan`, `od`, `calm` (one next
step) with the matched pathways joined by `+` as the argument, and `dm` with `on` or `off`
for discreet mode.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from state.contracts import Button, Command, Event, Input, Message, Other, Press, TextIn
from state.curriculum.markup import to_html
from state.curriculum.model import LocaleContent
from state.curriculum.schema import Module, TextStep
from state.engine import answers
from state.engine.callbacks import HERE, MODULE, SAFETY, callback
from state.engine.discreet import is_discreet
from state.engine.safety.detection import GENERAL, CrisisGuide, Detection
from state.engine.step_view import texts_of, with_choice_mark
from state.engine.turn import Turn

PREFIX = f"{SAFETY}:"
COMMANDS = frozenset({"safety", "safetyplan", "discreet"})
CALLBACK_LIMIT = 64  # bytes of callback data Telegram allows
PLAN_PREFIX = "safety_plan_"
OWN = frozenset({"plan", "dm"})  # presses that show or change the person's own data
# next step -> (callback action, ui key of its button)
NEXT_STEPS = {"safety_plan": ("plan", "crisis_plan_button"),
              "overdose": ("od", "crisis_overdose_button"),
              "grounding": ("calm", "crisis_grounding_button")}
ANSWERS = ("safe", "unsafe", "unsure")

Rows = tuple[tuple[Button, ...], ...]


def free_text(message: Input) -> str:
    """The words an input carries, where crisis words must be looked for."""
    if isinstance(message, TextIn | Other):
        return message.text
    if isinstance(message, Command):
        return message.arg
    return ""


def handles(press: Press) -> bool:
    """Whether a button press belongs to this flow."""
    return press.data.startswith(PREFIX)


def is_help(message: Input) -> bool:
    """Whether a press or command of this flow is help itself, the same for anyone: /safety and
    the crisis buttons, not the person's own plan (/safetyplan) nor discreet mode."""
    if isinstance(message, Press):
        return handles(message) and message.data.removeprefix(PREFIX).partition(":")[0] not in OWN
    return isinstance(message, Command) and message.name == "safety"


def interrupt(turn: Turn, guide: CrisisGuide, found: Detection) -> None:
    """Interrupt with the pathways' help; when the signs are unsure, first ask if someone is in danger."""
    check = guide.crisis.check
    if found.level == "ask" and check is not None:
        tag = _tag(found.pathways)
        turn.say(check.text, ((Button(check.yes, f"{PREFIX}cy:{tag}"),),
                              (Button(check.no, f"{PREFIX}cn:{tag}"),)))
        turn.reply.events.append(Event("crisis_check", turn.p.module, turn.p.step, found.pathway))
        return
    _help(turn, guide, found.pathways)


def _help(turn: Turn, guide: CrisisGuide, pathways: Sequence[str]) -> None:
    """The pathways' messages and resources, then the first pathway's question."""
    shown: set[str] = set()
    for pathway in pathways:
        for text in guide.messages(pathway, shown):
            turn.say(text)
    tag = _tag(pathways)
    question = guide.question(pathways[0])
    order = ("unsafe", "safe", "unsure") if question else ANSWERS  # "Yes, right now" comes first
    rows = tuple((Button(_answer_label(turn, guide, answer, pathways[0]), f"{PREFIX}{answer}:{tag}"),)
                 for answer in order)
    turn.say(question.text if question else turn.ui["crisis_ask_safe"], rows)
    turn.reply.events.append(Event("crisis", turn.p.module, turn.p.step, pathways[0]))


def _answer_label(turn: Turn, guide: CrisisGuide, answer: str, pathway: str) -> str:
    """A button's label: the pathway's own Yes/No, or "I'm safe right now" and the like."""
    question = guide.question(pathway)
    if question is not None and answer != "unsure":
        return question.no if answer == "safe" else question.yes  # Yes, it is happening: unsafe
    return turn.ui[f"crisis_{answer}_button"]


def on_press(turn: Turn, guide: CrisisGuide, press: Press) -> None:
    """A button of the crisis flow or of /discreet."""
    action, _, arg = press.data.removeprefix(PREFIX).partition(":")
    pathways = [name for name in arg.split("+") if name] or [GENERAL]
    if action in ANSWERS:
        _answer(turn, guide, action, pathways, press)
    elif action in ("cy", "cn"):
        _checked(turn, guide, action == "cy", pathways, press)
    elif action == "more":
        turn.say(turn.ui["crisis_next"], _next_rows(turn, guide, pathways, back=True))
    elif action in ("plan", "od", "calm"):
        _next_step(turn, guide, action, pathways)
    elif action == "dm" and arg in ("on", "off"):
        label = turn.ui[f"discreet_turn_{arg}_button"]
        turn.reply.edit = with_choice_mark(press.message_html, label)
        set_discreet(turn, arg == "on")
    else:
        turn.old_button()


def command(turn: Turn, guide: CrisisGuide, message: Command) -> None:
    """/safety, /safetyplan or /discreet, at any time, even before onboarding."""
    if message.name == "safety":
        turn.say_ui("safety")
        for text in guide.messages(GENERAL):
            turn.say(text)
        turn.say(turn.ui["crisis_next"], _next_rows(turn, guide, [GENERAL], back=True))
    elif message.name == "safetyplan":
        show_safety_plan(turn, guide, _here_row(turn))
    else:
        wanted = {"on": True, "off": False}.get(message.arg.strip().casefold())
        if wanted is not None:
            set_discreet(turn, wanted)
            return
        on = is_discreet(turn.p)
        flip = "off" if on else "on"
        rows = ((Button(turn.ui[f"discreet_turn_{flip}_button"], f"{PREFIX}dm:{flip}"),),
                (Button(turn.ui["discreet_keep_button"], HERE),))
        turn.say(turn.ui["discreet_on" if on else "discreet_off"], rows)


def set_discreet(turn: Turn, on: bool) -> None:
    """Turn discreet mode on or off and say what that does."""
    turn.p.discreet = on
    turn.reply.events.append(Event("discreet", detail="on" if on else "off"))
    turn.say_ui("discreet_on" if on else "discreet_off", here_button=True)


def show_safety_plan(turn: Turn, guide: CrisisGuide, rows: Rows) -> None:
    """The user's safety plan as they wrote it, with a note on who can see it; or how to make one."""
    items = plan_items(turn.p.answers, guide)
    if not items:
        module = plan_module(turn.content)
        open_row = ((Button(turn.ui["safetyplan_open_button"].replace("{title}", module.title),
                            callback(MODULE, module.id)),),) if module else ()
        turn.say(turn.ui["safetyplan_none"], (*open_row, *rows))
        return
    lines = [to_html(turn.ui["safetyplan_title"], {})]
    lines += [f"<b>{html.escape(label)}:</b> {html.escape(value)}" for label, value in items]
    turn.reply.messages.append(Message("\n\n".join(lines)))
    turn.say(turn.ui["safetyplan_note"], rows)


def plan_items(answers: dict[str, object], guide: CrisisGuide) -> list[tuple[str, str]]:
    """(label, answer) for each part of the safety plan the user wrote, in the plan's order."""
    labels = guide.crisis.safety_plan
    keys = [*labels, *sorted(k for k in answers if k.startswith(PLAN_PREFIX) and k not in labels)]
    skip = {word.casefold() for word in guide.crisis.skip_words}
    items = []
    for key in keys:
        value = answers.get(key)
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value or "")
        if text.strip() and text.strip().casefold() not in skip:
            label = labels.get(key) or key.removeprefix(PLAN_PREFIX).replace("_", " ").capitalize()
            items.append((label, text.strip()))
    return items


def plan_module(content: LocaleContent) -> Module | None:
    """The module where the safety plan is written (a text step saves a `safety_plan_*` key)."""
    return next((m for m in content.path_modules for s in m.steps
                 if isinstance(s, TextStep) and s.save.startswith(PLAN_PREFIX)), None)


# -- inside the flow -------------------------------------------------------------------------------


def _checked(turn: Turn, guide: CrisisGuide, yes: bool, pathways: list[str], press: Press) -> None:
    """Yes or No to "Is someone in danger right now?": the pathway's help, or back to the step."""
    check = guide.crisis.check
    if check is None:  # the locale lost its question since: help, to be safe
        _help(turn, guide, pathways)
        return
    turn.reply.edit = with_choice_mark(press.message_html, check.yes if yes else check.no)
    turn.reply.events.append(Event("crisis_check_answer", turn.p.module, turn.p.step,
                                   "yes" if yes else "no"))
    if yes:
        _help(turn, guide, pathways)
        return
    if turn.p.practice.get("flow"):  # a review or check-in was waiting: its own way back
        turn.say(check.after_no, _here_row(turn))
        return
    turn.say(check.after_no)
    if not turn.onboarding_started():
        turn.start_onboarding()
    elif not answers.offer_held_answer(turn):  # their words, kept to use as the answer with one tap
        turn.show_current()


def _answer(turn: Turn, guide: CrisisGuide, answer: str, pathways: list[str], press: Press) -> None:
    """The person answered the pathway's question (are they safe; is it happening now)."""
    turn.reply.edit = with_choice_mark(press.message_html, _answer_label(turn, guide, answer, pathways[0]))
    turn.reply.events.append(Event("crisis_answer", turn.p.module, turn.p.step, answer))
    question = guide.question(pathways[0])
    if answer == "safe":
        turn.say(guide.fill(question.after_no, pathways[0]) if question else turn.ui["crisis_safe"])
        turn.say(turn.ui["crisis_next"], _next_rows(turn, guide, pathways, back=True))
        return
    lines = guide.resource_lines(pathways[0])
    if lines:
        turn.say(lines)
    turn.say_ui(f"crisis_{answer}", emergency=guide.emergency)
    safe = (Button(turn.ui["crisis_safe_now_button"], f"{PREFIX}safe:{_tag(pathways)}"),)
    turn.say(turn.ui["crisis_next"], (*_next_rows(turn, guide, pathways, back=False), safe))


def _next_step(turn: Turn, guide: CrisisGuide, action: str, pathways: list[str]) -> None:
    """Show one next step, then the way to other help and back."""
    rows = ((Button(turn.ui["crisis_more_button"], f"{PREFIX}more:{_tag(pathways)}"),),
            *_here_row(turn))
    if action == "plan":
        show_safety_plan(turn, guide, rows)
        return
    texts = texts_of(guide.crisis.overdose_steps if action == "od" else guide.crisis.grounding)
    filled = [guide.fill(t, pathways[0]) for t in texts]
    for text in filled[:-1]:
        turn.say(text)
    turn.say(filled[-1] if filled else turn.ui["crisis_next"], rows)


def _next_rows(turn: Turn, guide: CrisisGuide, pathways: Sequence[str], *, back: bool) -> Rows:
    """One button per next step the pathways offer, then the way back."""
    tag = _tag(pathways)
    steps = list(dict.fromkeys(s for p in pathways for s in guide.next_steps(p)))
    rows = tuple((Button(turn.ui[NEXT_STEPS[s][1]], f"{PREFIX}{NEXT_STEPS[s][0]}:{tag}"),)
                 for s in steps)
    return (*rows, *_here_row(turn)) if back else rows


def _here_row(turn: Turn) -> Rows:
    return ((Button(turn.ui["crisis_back_button"], HERE),),)


def _tag(pathways: Sequence[str]) -> str:
    """The pathways for callback data: as many as fit in Telegram's 64 bytes."""
    tag = pathways[0]
    for name in pathways[1:]:
        if len(f"{PREFIX}unsure:{tag}+{name}".encode()) <= CALLBACK_LIMIT:
            tag = f"{tag}+{name}"
    return tag
