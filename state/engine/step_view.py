"""Showing a step: its messages, its buttons, and the callback data each button carries.

Callback data is short and self-checking: ``o:<seq>:<i>`` picks option i, ``t:<seq>:<i>``
ticks a checklist item, ``d:<seq>`` closes a checklist, ``c:<seq>`` continues past a
message; ``m:<module>`` opens a module and ``v:menu`` / ``v:here`` show the menu or the
current step. `seq` is the user's step counter when the buttons were shown, so a press on
an older message is recognised as old.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from state.contracts import Button, Message
from state.curriculum.markup import to_html, to_plain
from state.curriculum.schema import (
    ChecklistStep,
    ChoiceStep,
    MessageStep,
    QuizStep,
    ScaleStep,
    Step,
    Text,
)
from state.engine.callbacks import CONTINUE, DONE, OPTION, TOGGLE, callback


def texts_of(text: Text | None) -> list[str]:
    """A `text:` field (one string or a list) as a list of non-empty messages."""
    if text is None:
        return []
    items = [text] if isinstance(text, str) else text
    return [t for t in items if t.strip()]


def option_rows(labels: list[str], datas: list[str], columns: int) -> tuple[tuple[Button, ...], ...]:
    """Buttons laid out `columns` to a row."""
    buttons = [Button(label, data) for label, data in zip(labels, datas, strict=True)]
    return tuple(tuple(buttons[i:i + columns]) for i in range(0, len(buttons), columns))


def label_text(label: str, answers: Mapping[str, Any], defaults: Mapping[str, str]) -> str:
    """A button label with its placeholders filled (labels are plain text, not HTML)."""
    return to_plain(to_html(label, answers, defaults))[:64]


def step_buttons(step: Step, seq: int, ui: Mapping[str, str], picked: list[int] | None = None,
                 answers: Mapping[str, Any] | None = None,
                 defaults: Mapping[str, str] | None = None) -> tuple[tuple[Button, ...], ...]:
    """The buttons under a step's last message (none for free-text steps)."""
    answers, defaults = answers or {}, defaults or {}
    if isinstance(step, ChoiceStep):
        labels = [label_text(o.label, answers, defaults) for o in step.options]
        return option_rows(labels, [callback(OPTION, seq, i) for i in range(len(labels))], step.columns)
    if isinstance(step, QuizStep):
        labels = [label_text(o.label, answers, defaults) for o in step.options]
        return option_rows(labels, [callback(OPTION, seq, i) for i in range(len(labels))], 1)
    if isinstance(step, ScaleStep):
        values = list(range(step.min, step.max + 1))
        per_row = 6 if len(values) > 6 else len(values)
        return option_rows([str(v) for v in values],
                           [callback(OPTION, seq, i) for i in range(len(values))], per_row)
    if isinstance(step, ChecklistStep):
        chosen = set(picked or [])
        labels = [("✅ " if i in chosen else "▫️ ") + label_text(o.label, answers, defaults)
                  for i, o in enumerate(step.options)]
        rows = option_rows(labels, [callback(TOGGLE, seq, i) for i in range(len(labels))], 1)
        done = step.done_label or ui["checklist_done"]
        return (*rows, (Button(done, callback(DONE, seq)),))
    if isinstance(step, MessageStep) and step.button:
        return ((Button(step.button, callback(CONTINUE, seq)),),)
    return ()


def show_step(step: Step, seq: int, answers: Mapping[str, Any], ui: Mapping[str, str],
              defaults: Mapping[str, str], picked: list[int] | None = None) -> list[Message]:
    """A step's messages, the last one carrying its buttons (and the scale's end labels)."""
    texts = [to_html(t, answers, defaults) for t in texts_of(step.text)]
    if isinstance(step, ScaleStep) and (step.min_label or step.max_label):
        ends = "<i>" + to_html(f"{step.min} = {step.min_label or ''}\n"
                               f"{step.max} = {step.max_label or ''}", answers, defaults) + "</i>"
        if texts:
            texts[-1] = f"{texts[-1]}\n\n{ends}"
        else:
            texts.append(ends)
    buttons = step_buttons(step, seq, ui, picked, answers, defaults)
    if not texts:
        return []
    return [Message(t) for t in texts[:-1]] + [Message(texts[-1], buttons)]


def with_choice_mark(message_html: str | None, label: str) -> Message | None:
    """The pressed message again, without buttons, showing what was picked."""
    if message_html is None:
        return None
    escaped = to_html(label, {}, {})
    return Message(f"{message_html}\n\n<i>» {escaped}</i>")
