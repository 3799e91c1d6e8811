"""Answering what a person sends at a step: a press, typed text, or something else.

Each step kind's answer lives in one `match` per kind of input, closed by `assert_never`,
so a new kind of step cannot be forgotten (mypy finds the missing case). Presses are
checked against the step they were shown for: their `seq` must be the person's current
one (see `state.engine.callbacks`).
"""

from __future__ import annotations

from typing import assert_never

from state.contracts import Button, Message, Press
from state.curriculum.schema import (
    BranchStep,
    ChecklistStep,
    ChoiceStep,
    EndStep,
    HomeworkStep,
    MessageStep,
    QuizStep,
    ScaleStep,
    Step,
    TextStep,
)
from state.engine import coaching, held
from state.engine.callbacks import (
    CONTINUE,
    DONE,
    HERE,
    KEEP_HELD,
    MENU,
    MODULE,
    OPTION,
    STEP_PREFIXES,
    TOGGLE,
    parse,
)
from state.engine.step_view import step_buttons, texts_of, with_choice_mark
from state.engine.turn import Turn


def on_press(turn: Turn, press: Press) -> None:
    """A button press, checked against the step it was made for."""
    prefix, rest = parse(press.data)
    if press.data == HERE:
        if not offer_held_answer(turn):
            turn.show_current()
    elif press.data == KEEP_HELD:
        keep_held_answer(turn)
    elif press.data == MENU:
        turn.show_menu()
    elif prefix == MODULE:
        turn.on_open(rest)
    elif prefix in STEP_PREFIXES:
        seq_text, _, index_text = rest.partition(":")
        step = turn.current()
        fresh = step is not None and seq_text.isdigit() and int(seq_text) == turn.p.seq
        index = int(index_text) if index_text.isdigit() else -1
        if step is None or not fresh or not on_step_press(turn, prefix, index, step, press):
            turn.old_button()
    else:
        turn.old_button()


def on_step_press(turn: Turn, prefix: str, index: int, step: Step, press: Press) -> bool:
    """Apply a press to the current step; False if it does not fit the step."""
    match step:
        case ChoiceStep() | QuizStep() | ScaleStep():
            count = (step.max - step.min + 1) if isinstance(step, ScaleStep) else len(step.options)
            if prefix != OPTION or not 0 <= index < count:
                return False
            pick(turn, step, index, press.message_html)
        case ChecklistStep():
            if prefix == TOGGLE and 0 <= index < len(step.options):
                toggle(turn, step, index, press.message_html)
            elif prefix == DONE:
                close_checklist(turn, step, press.message_html)
            else:
                return False
        case MessageStep():
            if prefix != CONTINUE or not step.button:
                return False
            turn.reply.edit = with_choice_mark(press.message_html, step.button)
            turn.advance()
        case TextStep() | HomeworkStep() | BranchStep() | EndStep():
            return False  # typed, or passed through without stopping: no buttons of their own
        case _:
            assert_never(step)
    return True


def on_text(turn: Turn, text: str) -> None:
    """Typed text: an answer to a text or scale step, a typed option, or a nudge to the buttons."""
    step = turn.current()
    match step:
        case None:
            turn.show_current()
        case TextStep():
            if not text:
                turn.say_ui("text_expected")
                turn.show_current()
                return
            coaching.answer(turn, step, text)
        case ScaleStep():
            number = _as_int(text)
            if number is None or not step.min <= number <= step.max:
                turn.say_ui("scale_hint", min=str(step.min), max=str(step.max))
                turn.show_current()
                return
            pick(turn, step, number - step.min, None)
        case ChoiceStep() | QuizStep():
            index = _typed_option(text, [o.label for o in step.options])
            if index is None:
                turn.say_ui("use_buttons")
                turn.show_current()
                return
            pick(turn, step, index, None)
        case MessageStep() | ChecklistStep() | HomeworkStep() | BranchStep() | EndStep():
            turn.say_ui("use_buttons")
            turn.show_current()
        case _:
            assert_never(step)


# -- the kinds that take a choice ------------------------------------------------------------------


def pick(turn: Turn, step: ChoiceStep | QuizStep | ScaleStep, index: int, message_html: str | None) -> None:
    """Choose option `index` of a choice, quiz or scale."""
    match step:
        case ScaleStep():
            value = step.min + index
            turn.reply.edit = with_choice_mark(message_html, str(value))
            turn.p.answers[step.save] = value
            turn.advance()
        case ChoiceStep():
            option = step.options[index]
            turn.reply.edit = with_choice_mark(message_html, option.label)
            if step.save:
                turn.p.answers[step.save] = option.value if option.value is not None else option.label
            turn.p.answers.update(option.set)
            turn.say_texts(texts_of(option.feedback))
            turn.advance(f"opt_{index}")
        case QuizStep():
            answer_quiz(turn, step, index, message_html)
        case _:
            assert_never(step)


def answer_quiz(turn: Turn, step: QuizStep, index: int, message_html: str | None) -> None:
    """Explain the chosen answer; move on when right (or when no retry is allowed)."""
    option = step.options[index]
    tries = int(turn.p.pending.get("tries", 0)) + 1
    turn.reply.edit = with_choice_mark(message_html, option.label)
    if step.save and tries == 1:
        turn.p.answers[step.save] = option.correct
    if option.correct:
        turn.say_ui("quiz_correct")
    turn.say_texts(texts_of(option.explain))
    if option.correct or not step.retry:
        turn.advance()
        return
    turn.p.pending["tries"] = tries
    turn.say_ui("quiz_try_again")
    turn.show_current()


def toggle(turn: Turn, step: ChecklistStep, index: int, message_html: str | None) -> None:
    """Tick or untick one checklist item and redraw the buttons."""
    picked: list[int] = list(turn.p.pending.get("picked", []))
    picked.remove(index) if index in picked else picked.append(index)
    turn.p.pending["picked"] = sorted(picked)
    if message_html is None:
        turn.show_current()
        return
    buttons = step_buttons(step, turn.p.seq, turn.ui, picked, turn.shown_answers(), turn.locale.defaults)
    turn.reply.edit = Message(message_html, buttons)


def close_checklist(turn: Turn, step: ChecklistStep, message_html: str | None) -> None:
    """Save the ticked items and move on (if enough are ticked)."""
    picked: list[int] = list(turn.p.pending.get("picked", []))
    if len(picked) < step.min_selected:
        turn.say_ui("checklist_need_more", count=str(step.min_selected))
        turn.show_current()
        return
    options = [step.options[i] for i in picked]
    turn.p.answers[step.save] = [o.value or o.label for o in options]
    summary = ", ".join(o.label for o in options) or "-"
    turn.reply.edit = with_choice_mark(message_html, summary)
    turn.advance()


# -- words a crisis interrupt held -------------------------------------------------------------------


def offer_held_answer(turn: Turn) -> bool:
    """Back from a crisis interrupt at a free-text step: offer the words it interrupted.

    They may be the answer (a list of costs that says "overdose") or not at all, so the
    person chooses: keep them with one tap, or type a new answer.
    """
    if held.for_step(turn) is None:
        return False
    turn.say(turn.ui["crisis_held"], ((Button(turn.ui["crisis_keep_button"], KEEP_HELD),),))
    turn.show_current()
    return True


def keep_held_answer(turn: Turn) -> None:
    """Save the held words as the answer to the free-text step they were typed at, and go on."""
    step, words = turn.current(), held.for_step(turn)
    if not isinstance(step, TextStep) or words is None:
        turn.old_button()
        return
    held.take(turn)
    if step.coach:  # a rehearsal: the kept words are coached like typed ones
        coaching.answer(turn, step, words)
        return
    turn.p.answers[step.save] = words
    turn.say_ui("crisis_kept_answer")
    turn.advance()


def _as_int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _typed_option(text: str, labels: list[str]) -> int | None:
    """The option a person typed, by its label or its number."""
    wanted = text.strip().casefold()
    for i, label in enumerate(labels):
        if label.strip().casefold() == wanted:
            return i
    number = _as_int(wanted)
    return number - 1 if number is not None and 1 <= number <= len(labels) else None
