"""Answering a typed rehearsal: too short asks again, a pattern found is coached once.

The talk a CRAFT trainer would have about a rehearsed line, in turns:

1. an answer shorter than the step's `min_words` (or a letter, a bare number) gets a kind nudge
   and the question again; nothing is saved;
2. the answer is saved; on a step with `coach:`, the first of its patterns found in it
   (`state.curriculum.coaching`) is explained kindly, with a model line made from the
   person's own words, and they try once more;
3. the second try is saved too, and gets what improved (the pattern is gone) or a gentle
   note (it is still there); then the step goes on: one retry, never a loop;
4. when nothing is found at the first try, the step goes to `if_clean` (a self-check that
   asks about what the coach cannot see) or else `next`.

What was found is counted as an event by pattern id only, never with the words.
"""

from __future__ import annotations

from state.contracts import Event, Message
from state.curriculum.coaching import Coach, Found, count_words
from state.curriculum.markup import to_html
from state.curriculum.schema import Text, TextStep
from state.engine.discreet import is_discreet
from state.engine.machine import CLEAN
from state.engine.step_view import texts_of
from state.engine.turn import Turn

COACHED = "coached"  # in Progress.pending: the pattern the first try was coached on


def too_short(step: TextStep, text: str) -> bool:
    """Whether an answer is too short to mean anything: fewer words than the step asks for,
    or a single letter or a bare number (any answer does when the step asks for 0)."""
    if step.least_words == 0:
        return False
    return count_words(text) < step.least_words or sum(c.isalpha() for c in text) < 2


def answer(turn: Turn, step: TextStep, text: str) -> None:
    """Typed text at a text step: nudge, coach, or go on."""
    if too_short(step, text):
        turn.say_ui("text_too_short")
        turn.show_current()
        return
    turn.p.answers[step.save] = text
    coach = turn.content.coach
    if not step.coach or coach is None:
        turn.advance(CLEAN if step.if_clean else "next")
        return
    found = coach.find(text, step.coach)
    tried = turn.p.pending.get(COACHED)
    if isinstance(tried, str):
        _second_try(turn, step, coach, text, tried, found)
    elif found:
        _coach(turn, step, coach, text, found[0])
    else:
        turn.advance(CLEAN if step.if_clean else "next")


def _coach(turn: Turn, step: TextStep, coach: Coach, text: str, found: Found) -> None:
    """Explain the first pattern found, show a model, and ask for one more try."""
    pattern = coach.source.patterns[found.pattern]
    _say(turn, step, coach, text, found, pattern.explain)
    _say(turn, step, coach, text, found, pattern.model)
    turn.say_ui("coach_again")
    turn.p.pending[COACHED] = found.pattern
    turn.reply.events.append(Event("coached", turn.p.module, step.id, found.pattern))


def _second_try(turn: Turn, step: TextStep, coach: Coach, text: str, tried: str,
                found: list[Found]) -> None:
    """Say what improved, or a gentle note, and go on."""
    pattern = coach.source.patterns.get(tried)
    still = next((f for f in found if f.pattern == tried), None)
    if pattern is not None:
        said = pattern.still if still else pattern.improved
        _say(turn, step, coach, text, still or Found(tried, ""), said)
    turn.reply.events.append(Event("coached_again", turn.p.module, step.id,
                                   f"{tried}:{'still' if still else 'improved'}"))
    turn.advance()


def _say(turn: Turn, step: TextStep, coach: Coach, text: str, found: Found, said: Text) -> None:
    """Coaching texts, with the person's own words where they quote them."""
    quoted = _quoted(turn, step, coach, text, found)
    answers = {**turn.shown_answers(), **quoted}
    for line in texts_of(said):
        turn.reply.messages.append(Message(to_html(line, answers, turn.locale.defaults)))


def _quoted(turn: Turn, step: TextStep, coach: Coach, text: str, found: Found) -> dict[str, str]:
    """The pieces of the answer a coaching text may show ({feeling}, {request}, {wrote} ...).

    Discreet mode keeps a private step's words out of the chat: stand-ins only.
    """
    private = step.sensitive and is_discreet(turn.p)
    pieces = {name: piece.default for name, piece in coach.pieces.items()} if private \
        else coach.take(text)
    for name, value in step.coach_pieces.items():
        if private or pieces.get(name) == coach.pieces[name].default:
            pieces[name] = value  # this step's own stand-in
    if private:
        return {**pieces, "found": "", "wrote": ""}
    return {**pieces, "found": found.words, "wrote": as_sentence(text)}


def as_sentence(text: str) -> str:
    """The answer as a sentence to quote: capitalised, closed with a full stop if open."""
    text = " ".join(text.split()).strip(" \"'“”")
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."
