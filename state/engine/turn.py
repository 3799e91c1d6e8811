"""One turn of the conversation: moving a user through steps and saying what fits.

A `Turn` holds the user's progress, the locale's content and the reply being built. The
engine creates one per input; nothing here lives longer than that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from state.contracts import Button, Event, Message, Press, Progress, Reply
from state.curriculum.markup import to_html, to_plain
from state.curriculum.model import LocaleContent
from state.curriculum.schema import (
    BranchStep,
    ChecklistStep,
    ChoiceStep,
    EndStep,
    HomeworkStep,
    MessageStep,
    Module,
    QuizStep,
    ScaleStep,
    Step,
    TextStep,
)
from state.engine.discreet import shown_answers
from state.engine.machine import CurriculumMachine
from state.engine.step_view import show_step, step_buttons, texts_of, with_choice_mark

MAX_HOPS = 500  # a guard: validation already rules out loops without an end


class Turn:
    """Builds the reply to one input."""

    def __init__(self, content: LocaleContent, machine: CurriculumMachine, progress: Progress,
                 now: float) -> None:
        assert content.locale is not None
        self.content = content
        self.locale = content.locale
        self.ui = content.locale.ui
        self.machine = machine
        self.p = progress
        self.now = now
        self.reply = Reply()
        self.sensitive: frozenset[str] = frozenset()  # answer keys of `sensitive: true` steps

    # -- saying things -------------------------------------------------------------------

    def say(self, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """Add one counselor-written text (rendered with the user's answers)."""
        html = to_html(text, self.shown_answers(), self.locale.defaults)
        self.reply.messages.append(Message(html, buttons))

    def shown_answers(self) -> Mapping[str, Any]:
        """The answers placeholders may show: in discreet mode, private ones stand hidden."""
        return shown_answers(self.p, self.sensitive, self.locale.discreet.hidden)

    def say_ui(self, key: str, *, here_button: bool = False, **values: str) -> None:
        """Add one of the bot's own texts from the locale's `ui:`."""
        text = self.ui[key]
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        buttons = ((Button(self.ui["continue_button"], "v:here"),),) if here_button else ()
        self.say(text, buttons)

    def say_texts(self, texts: list[str]) -> None:
        """Add several counselor texts, one message each."""
        for text in texts:
            self.say(text)

    # -- where the user is ----------------------------------------------------------------

    def current(self) -> Step | None:
        """The step the user is on, or None at the menu."""
        if self.p.module is None or self.p.step is None:
            return None
        return self.content.step(self.p.module, self.p.step)

    def onboarding_started(self) -> bool:
        """Whether the user has begun onboarding (a brand-new user has not)."""
        return self.p.module is not None or bool(self.p.completed) or bool(self.p.started)

    def onboarded(self) -> bool:
        """Whether the user has finished onboarding."""
        return self.content.onboarding.id in self.p.completed

    def show_current(self) -> None:
        """Show the current step again (or the menu when between modules)."""
        step = self.current()
        if step is None:
            if self.onboarded():
                self.show_menu()
            else:
                self.start_onboarding()
            return
        picked = self.p.pending.get("picked", [])
        self.reply.messages.extend(show_step(step, self.p.seq, self.shown_answers(), self.ui,
                                             self.locale.defaults, picked))

    # -- moving ---------------------------------------------------------------------------

    def start_onboarding(self) -> None:
        """Begin (or resume) onboarding."""
        self.open_module(self.content.onboarding)

    def open_module(self, module: Module) -> None:
        """Open a module: resume where the user left it, or start it afresh."""
        if self.p.module and self.p.step and self.p.module != module.id:
            self.p.positions[self.p.module] = self.p.step
        resume = self.p.positions.get(module.id)
        if resume and self.content.step(module.id, resume) is not None:
            self.p.module = module.id
            self.p.step = resume
            self.show_current()
            return
        self.p.started[module.id] = self.now
        self.reply.events.append(Event("module_started", module.id))
        self.enter(module.id, module.first_step)

    def enter(self, module_id: str, step_id: str) -> None:
        """Arrive at a step; run through steps that need no answer until one does."""
        for _ in range(MAX_HOPS):
            step = self.content.step(module_id, step_id)
            assert step is not None, f"validated curriculum lacks {module_id}:{step_id}"
            self.p.module, self.p.step = module_id, step_id
            self.p.positions[module_id] = step_id
            self.p.pending = {}
            if isinstance(step, EndStep):
                self.say_texts(texts_of(step.text))
                if step.complete:
                    self.finish_module(module_id, step.suggest)
                else:
                    self.leave_module(module_id, step.suggest)
                return
            if isinstance(step, BranchStep) or (isinstance(step, MessageStep) and not step.button):
                self.say_texts(texts_of(step.text))
                step_id = self.machine.move(module_id, step_id, "next", self.p.answers)
                continue
            if isinstance(step, HomeworkStep):
                self.set_homework(module_id, step)
                step_id = self.machine.move(module_id, step_id, "next", self.p.answers)
                continue
            self.p.seq += 1
            self.show_current()
            return
        raise RuntimeError(f"more than {MAX_HOPS} steps without a question in {module_id}")

    def advance(self, trigger: str = "next") -> None:
        """Leave the current step by `trigger` and enter wherever it leads."""
        assert self.p.module and self.p.step
        target = self.machine.move(self.p.module, self.p.step, trigger, self.p.answers)
        self.enter(self.p.module, target)

    def set_homework(self, module_id: str, step: HomeworkStep) -> None:
        """Give the homework and remember it as the user's current practice task."""
        self.say_texts(texts_of(step.text))
        rendered = [to_html(t, self.p.answers, self.locale.defaults) for t in texts_of(step.text)]
        self.p.answers["homework"] = to_plain("\n".join(rendered))
        self.p.answers["homework_module"] = module_id
        self.p.answers["homework_set_at"] = self.now
        if step.check_in_days:
            self.p.answers["homework_check_in_days"] = step.check_in_days
        self.reply.events.append(Event("homework_set", module_id, step.id))

    def finish_module(self, module_id: str, suggest: str | None = None) -> None:
        """Mark a module done and offer the next one (or the one the end step suggests)."""
        self.p.completed[module_id] = self.now
        self.p.positions.pop(module_id, None)
        self.p.module = self.p.step = None
        self.reply.events.append(Event("module_completed", module_id))
        module = self.content.modules[module_id]
        upcoming = self.content.modules.get(suggest or "") or self.next_open_module()
        rows: list[tuple[Button, ...]] = []
        if upcoming:
            rows.append((Button(self.ui["next_module_button"].replace("{title}", upcoming.title),
                                f"m:{upcoming.id}"),))
        rows.append((Button(self.ui["menu_button"], "v:menu"),))
        key = "module_done" if upcoming or module.onboarding else "all_done"
        self.say(self.ui[key].replace("{title}", module.title), tuple(rows))

    def leave_module(self, module_id: str, suggest: str | None) -> None:
        """An early exit: the module is not done and starts afresh next time."""
        self.p.positions.pop(module_id, None)
        self.p.module = self.p.step = None
        self.reply.events.append(Event("module_left", module_id))
        rows: list[tuple[Button, ...]] = []
        target = self.content.modules.get(suggest or "")
        if target:
            rows.append((Button(self.ui["next_module_button"].replace("{title}", target.title),
                                f"m:{target.id}"),))
        rows.append((Button(self.ui["menu_button"], "v:menu"),))
        last = self.reply.messages.pop() if self.reply.messages else Message(self.ui["menu_title"])
        self.reply.messages.append(Message(last.html, tuple(rows)))

    # -- modules and the menu ---------------------------------------------------------------

    def missing_requirements(self, module: Module) -> list[Module]:
        """The modules that must be finished before this one opens."""
        if not self.onboarded():
            return [self.content.onboarding]
        return [self.content.modules[r] for r in module.requires if r not in self.p.completed]

    def next_open_module(self) -> Module | None:
        """The first teaching module not yet done whose requirements are met."""
        for module in self.content.path_modules:
            if module.id not in self.p.completed and not self.missing_requirements(module):
                return module
        return None

    def show_menu(self) -> None:
        """The modules as buttons: done, in progress, open or not yet open."""
        if not self.onboarded():
            self.say_ui("onboarding_first")
            self.show_current() if self.current() else self.start_onboarding()
            return
        rows = []
        for module in self.content.path_modules:
            if module.id in self.p.completed:
                key = "menu_done"
            elif module.id in self.p.positions:
                key = "menu_in_progress"
            elif self.missing_requirements(module):
                key = "menu_locked"
            else:
                key = "menu_open"
            needs = ", ".join(m.title for m in self.missing_requirements(module))
            label = self.ui[key].replace("{title}", module.title).replace("{needs}", needs)
            rows.append((Button(label, f"m:{module.id}"),))
        self.say(self.ui["menu_title"], tuple(rows))

    def show_progress(self) -> None:
        """How many modules are done, and where the user is."""
        modules = self.content.path_modules
        done = sum(1 for m in modules if m.id in self.p.completed)
        current = self.content.modules[self.p.module].title if self.p.module else "-"
        self.say_ui("progress", done=str(done), total=str(len(modules)), current=current,
                    here_button=True)

    # -- answering input ----------------------------------------------------------------------

    def on_other(self, what: str) -> None:
        """A sticker, photo, voice note, edit ...: a kind word and the step again."""
        self.say_ui("edited" if what == "edit" else "not_text")
        self.show_current()

    def old_button(self) -> None:
        """A press on an old or unknown button: say so kindly and show where the user is."""
        self.reply.toast = to_plain(to_html(self.ui["old_button"], {}, {}))
        self.say_ui("old_button")
        self.show_current()

    def on_press(self, press: Press) -> None:
        """A button press, checked against the step it was made for."""
        kind, _, rest = press.data.partition(":")
        if kind == "v" and rest == "here" and self.offer_held_answer():
            return
        if kind == "v" and rest == "keep":
            self.keep_held_answer()
            return
        if kind == "v" and rest in ("menu", "here"):
            self.show_menu() if rest == "menu" else self.show_current()
            return
        if kind == "m":
            self.on_open(rest)
            return
        seq_text, _, index_text = rest.partition(":")
        step = self.current()
        if step is None or not seq_text.isdigit() or int(seq_text) != self.p.seq:
            self.old_button()
            return
        index = int(index_text) if index_text.isdigit() else -1
        handled = self.on_step_press(kind, index, step, press)
        if not handled:
            self.old_button()

    def offer_held_answer(self) -> bool:
        """Back from a crisis interrupt at a free-text step: offer the words it interrupted.

        They may be the answer (a list of costs that says "overdose") or not at all, so the
        person chooses: keep them with one tap, or type a new answer.
        """
        if not isinstance(self.current(), TextStep) or not self.p.pending.get("held"):
            return False
        self.say(self.ui["crisis_held"], ((Button(self.ui["crisis_keep_button"], "v:keep"),),))
        self.show_current()
        return True

    def keep_held_answer(self) -> None:
        """Save the held words as the answer to the current free-text step and go on."""
        step, held = self.current(), self.p.pending.pop("held", None)
        if not isinstance(step, TextStep) or not held:
            self.old_button()
            return
        self.p.answers[step.save] = held
        self.say_ui("crisis_kept_answer")
        self.advance()

    def on_open(self, module_id: str) -> None:
        """The user picked a module from the menu."""
        module = self.content.modules.get(module_id)
        if module is None or (module.onboarding and self.onboarded()):
            self.old_button()
            return
        missing = self.missing_requirements(module)
        if missing and module.id != self.content.onboarding.id:
            needs = ", ".join(m.title for m in missing)
            self.reply.toast = to_plain(self.ui["menu_locked_answer"].replace(
                "{title}", module.title).replace("{needs}", needs))
            self.say_ui("menu_locked_answer", title=module.title, needs=needs)
            return
        if module.id in self.p.completed and module.id not in self.p.positions:
            self.p.positions.pop(module.id, None)
        self.open_module(module)

    def on_step_press(self, kind: str, index: int, step: Step, press: Press) -> bool:
        """Apply a press to the current step; False if it does not fit the step."""
        if kind == "o" and isinstance(step, ChoiceStep | QuizStep | ScaleStep):
            count = (step.max - step.min + 1) if isinstance(step, ScaleStep) else len(step.options)
            if not 0 <= index < count:
                return False
            self.pick(step, index, press.message_html)
            return True
        if kind == "t" and isinstance(step, ChecklistStep) and 0 <= index < len(step.options):
            self.toggle(step, index, press.message_html)
            return True
        if kind == "d" and isinstance(step, ChecklistStep):
            self.close_checklist(step, press.message_html)
            return True
        if kind == "c" and isinstance(step, MessageStep) and step.button:
            self.reply.edit = with_choice_mark(press.message_html, step.button)
            self.advance()
            return True
        return False

    def pick(self, step: ChoiceStep | QuizStep | ScaleStep, index: int,
             message_html: str | None) -> None:
        """Choose option `index` of a choice, quiz or scale."""
        if isinstance(step, ScaleStep):
            value = step.min + index
            self.reply.edit = with_choice_mark(message_html, str(value))
            self.p.answers[step.save] = value
            self.advance()
        elif isinstance(step, ChoiceStep):
            option = step.options[index]
            self.reply.edit = with_choice_mark(message_html, option.label)
            if step.save:
                self.p.answers[step.save] = option.value if option.value is not None else option.label
            self.p.answers.update(option.set)
            self.say_texts(texts_of(option.feedback))
            self.advance(f"opt_{index}")
        else:
            self.answer_quiz(step, index, message_html)

    def answer_quiz(self, step: QuizStep, index: int, message_html: str | None) -> None:
        """Explain the chosen answer; move on when right (or when no retry is allowed)."""
        option = step.options[index]
        tries = int(self.p.pending.get("tries", 0)) + 1
        self.reply.edit = with_choice_mark(message_html, option.label)
        if step.save and tries == 1:
            self.p.answers[step.save] = option.correct
        if option.correct:
            self.say_ui("quiz_correct")
        self.say_texts(texts_of(option.explain))
        if option.correct or not step.retry:
            self.advance()
            return
        self.p.pending["tries"] = tries
        self.say_ui("quiz_try_again")
        self.show_current()

    def toggle(self, step: ChecklistStep, index: int, message_html: str | None) -> None:
        """Tick or untick one checklist item and redraw the buttons."""
        picked: list[int] = list(self.p.pending.get("picked", []))
        picked.remove(index) if index in picked else picked.append(index)
        self.p.pending["picked"] = sorted(picked)
        if message_html is None:
            self.show_current()
            return
        buttons = step_buttons(step, self.p.seq, self.ui, picked, self.shown_answers(),
                               self.locale.defaults)
        self.reply.edit = Message(message_html, buttons)

    def close_checklist(self, step: ChecklistStep, message_html: str | None) -> None:
        """Save the ticked items and move on (if enough are ticked)."""
        picked: list[int] = list(self.p.pending.get("picked", []))
        if len(picked) < step.min_selected:
            self.say_ui("checklist_need_more", count=str(step.min_selected))
            self.show_current()
            return
        options = [step.options[i] for i in picked]
        self.p.answers[step.save] = [o.value or o.label for o in options]
        summary = ", ".join(o.label for o in options) or "-"
        self.reply.edit = with_choice_mark(message_html, summary)
        self.advance()

    def on_text(self, text: str) -> None:
        """Typed text: an answer to a text or scale step, a typed option, or a nudge."""
        step = self.current()
        if step is None:
            self.show_current()
        elif isinstance(step, TextStep):
            if not text:
                self.say_ui("text_expected")
                self.show_current()
                return
            self.p.answers[step.save] = text
            self.advance()
        elif isinstance(step, ScaleStep):
            number = _as_int(text)
            if number is None or not step.min <= number <= step.max:
                self.say_ui("scale_hint", min=str(step.min), max=str(step.max))
                self.show_current()
                return
            self.pick(step, number - step.min, None)
        elif isinstance(step, ChoiceStep | QuizStep):
            index = _typed_option(text, [o.label for o in step.options])
            if index is None:
                self.say_ui("use_buttons")
                self.show_current()
                return
            self.pick(step, index, None)
        else:
            self.say_ui("use_buttons")
            self.show_current()


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
