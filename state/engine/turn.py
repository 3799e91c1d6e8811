"""One turn of the conversation: moving a user through steps and saying what fits.

How each kind of step takes a press or typed text is in `state.engine.answers`.

A `Turn` holds the user's progress, the locale's content and the reply being built. The
engine creates one per input; nothing here lives longer than that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_never

from state.contracts import Button, Event, Message, Progress, Reply
from state.curriculum.locales import labelled
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
from state.engine import risk
from state.engine.callbacks import HERE, MENU, MODULE, callback
from state.engine.discreet import is_discreet, shown_answers
from state.engine.machine import CurriculumMachine
from state.engine.step_view import show_step, texts_of

MAX_HOPS = 500  # a guard: validation already rules out loops without an end
NEXT_UP = "next_up"  # in Progress.practice: the module offered at the end of the last one


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
        self.fills: dict[str, str] = {}  # crisis lines from the configuration ({emergency}, {lifeline} ...)
        self.labels: Mapping[str, Mapping[str, str]] = {}  # saved choices by label (a translation)
        self.was_discreet = is_discreet(progress)  # to say so when an answer turns it on

    # -- saying things -------------------------------------------------------------------

    def say(self, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """Add one counselor-written text (rendered with the user's answers)."""
        html = to_html(text, self.shown_answers(), self.locale.defaults)
        self.reply.messages.append(Message(html, buttons))

    def shown_answers(self) -> Mapping[str, Any]:
        """The answers placeholders may show: in discreet mode, private ones stand hidden."""
        shown = shown_answers(self.p, self.sensitive, self.locale.discreet.hidden)
        if self.labels:
            shown = labelled(shown, self.labels)
        return {**self.fills, **shown} if self.fills else shown

    def say_ui(self, key: str, *, here_button: bool = False, **values: str) -> None:
        """Add one of the bot's own texts from the locale's `ui:`."""
        text = self.ui[key]
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        buttons = ((Button(self.ui["continue_button"], HERE),),) if here_button else ()
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
                self.show_next_up()
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
            match step:
                case EndStep():
                    self.say_texts(texts_of(step.text))
                    if step.complete:
                        self.finish_module(module_id, step.suggest)
                    else:
                        self.leave_module(module_id, step.suggest)
                    return
                case BranchStep() | MessageStep(button=None):  # nothing to answer: on at once
                    self.say_texts(texts_of(step.text))
                    step_id = self.move(module_id, step_id, "next")
                case HomeworkStep():
                    self.set_homework(module_id, step)
                    step_id = self.move(module_id, step_id, "next")
                case MessageStep() | ChoiceStep() | TextStep() | ScaleStep() | QuizStep() | ChecklistStep():
                    self.p.seq += 1  # new buttons: presses on older ones are recognised as old
                    self.show_current()
                    return
                case _:
                    assert_never(step)
        raise RuntimeError(f"more than {MAX_HOPS} steps without a question in {module_id}")

    def advance(self, trigger: str = "next") -> None:
        """Leave the current step by `trigger` and enter wherever it leads."""
        assert self.p.module and self.p.step
        target = self.move(self.p.module, self.p.step, trigger)
        self.announce_discreet()
        self.enter(self.p.module, target)

    def move(self, module_id: str, step_id: str, trigger: str) -> str:
        """Where `trigger` leads from a step, with the risk profile brought up to date first."""
        risk.refresh(self.p.answers)
        return self.machine.move(module_id, step_id, trigger, self.p.answers)

    def announce_discreet(self) -> None:
        """Discreet mode is never switched on silently: say so when an answer just did."""
        if not self.was_discreet and self.p.discreet is None and is_discreet(self.p):
            self.was_discreet = True
            self.say_ui("discreet_auto_on")

    def set_homework(self, module_id: str, step: HomeworkStep) -> None:
        """Give the homework and remember it as the user's current practice task."""
        self.say_texts(texts_of(step.text))
        answers = {**self.fills, **self.p.answers}
        rendered = [to_html(t, answers, self.locale.defaults) for t in texts_of(step.text)]
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
        suggested = self.content.modules.get(suggest or "")
        if suggested and self.missing_requirements(suggested):
            suggested = None  # not open yet: the next open module instead
        upcoming = suggested or self.next_open_module()
        if upcoming:
            self.p.practice[NEXT_UP] = upcoming.id  # offered again when they come back
        rows: list[tuple[Button, ...]] = []
        if upcoming:
            rows.append((Button(self.ui["next_module_button"].replace("{title}", upcoming.title),
                                callback(MODULE, upcoming.id)),))
        rows.append((Button(self.ui["menu_button"], MENU),))
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
                                callback(MODULE, target.id)),))
        rows.append((Button(self.ui["menu_button"], MENU),))
        last = self.reply.messages.pop() if self.reply.messages else Message(self.ui["menu_title"])
        self.reply.messages.append(Message(last.html, tuple(rows)))

    # -- modules and the menu ---------------------------------------------------------------

    def missing_requirements(self, module: Module) -> list[Module]:
        """The modules that must be finished before this one opens."""
        if not self.onboarded():
            return [self.content.onboarding]
        opens_early = module.open_conditions and all(
            c.holds(self.p.answers) for c in module.open_conditions)
        if opens_early:  # such as Safety at home for someone who disclosed a risk
            return []
        return [self.content.modules[r] for r in module.requires if r not in self.p.completed]

    def next_open_module(self) -> Module | None:
        """The first teaching module not yet done whose requirements are met."""
        for module in self.content.path_modules:
            if module.id not in self.p.completed and not self.missing_requirements(module):
                return module
        return None

    def show_next_up(self) -> None:
        """Between modules: the next open module first, the menu a tap away.

        Not the whole menu: its first button is a finished module, and a typed "1" (the
        terminal chat numbers buttons) would open it again by accident.
        """
        offered = self.content.modules.get(str(self.p.practice.get(NEXT_UP, "")))
        fits = (offered is not None and offered.id not in self.p.completed
                and not self.missing_requirements(offered))
        upcoming = offered if fits else self.next_open_module()
        if upcoming is None:
            self.show_menu()
            return
        rows = ((Button(self.ui["next_module_button"].replace("{title}", upcoming.title),
                        callback(MODULE, upcoming.id)),), (Button(self.ui["menu_button"], MENU),))
        self.say(self.ui["between_modules"].replace("{title}", upcoming.title), rows)

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
            rows.append((Button(label, callback(MODULE, module.id)),))
        self.say(self.ui["menu_title"], tuple(rows))

    def show_progress(self) -> None:
        """How many modules are done, and where the user is."""
        modules = self.content.path_modules
        done = sum(1 for m in modules if m.id in self.p.completed)
        current = self.content.modules[self.p.module].title if self.p.module else "-"
        self.say_ui("progress", done=str(done), total=str(len(modules)), current=current,
                    here_button=True)

    # -- answering what does not fit the step ----------------------------------------------------

    def on_other(self, what: str) -> None:
        """A sticker, photo, voice note, edit ...: a kind word and the step again."""
        self.say_ui("edited" if what == "edit" else "not_text")
        self.show_current()

    def old_button(self) -> None:
        """A press on an old or unknown button: say so kindly and show where the user is."""
        self.reply.toast = to_plain(to_html(self.ui["old_button"], {}, {}))
        self.say_ui("old_button")
        self.show_current()

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
