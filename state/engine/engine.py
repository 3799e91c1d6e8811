"""The engine: one input from a family member in, one reply out, progress updated.

`Engine.handle` is synchronous and pure apart from the `Progress` it is given, so the
Telegram bot, the terminal chat, tests and benchmarks all drive exactly the same logic.
Where the user goes is decided by the `transitions` machine (`state.engine.machine`); this
module decides who answers an input, in one ordered list (`handle`):

1. a reminder whose time has come (`Due`: it carries no words);
2. words of crisis, in any text a person sends — a message, a caption, an edit, a
   command's arguments — before anything else answers it;
3. the privacy commands /hide, /mydata, /delete and their buttons (they never change
   the person's progress: `Reply.save` is False);
4. safety: /safety, /safetyplan, /discreet and the crisis flow's buttons;
5. a person moved by a newly published curriculum hears that first;
6. /language and its buttons (`state.engine.language`): the same step, in another language;
7. between sessions: reminders' buttons, check-ins, reviews, /reminders, /checkin;
8. the curriculum: commands, presses and answers at the step.

It is also the only place a `Turn` is made (`turn`), so every reply knows which answers
discreet mode keeps private.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace

from state.contracts import Command, Due, Fingerprints, Input, Other, Press, Progress, Reply, TextIn
from state.curriculum.formats import number
from state.curriculum.locales import source_locale, value_labels
from state.curriculum.model import Curriculum, LocaleContent
from state.engine import answers, data_rights, held, language, risk
from state.engine.between_sessions import routing
from state.engine.catchup import catch_up
from state.engine.discreet import is_discreet, sensitive_keys
from state.engine.machine import CurriculumMachine
from state.engine.safety import flow
from state.engine.safety.detection import GENERAL, US_PEOPLE, US_RESOURCES, CrisisGuide, Detection, Resource
from state.engine.safety.detector import Level
from state.engine.turn import Turn

LAST_CRISIS = "last_crisis"  # in Progress.practice: the latest interrupt, for a redelivery
MAX_ANSWER = 3000  # characters; longer answers are refused kindly, never cut silently


class Engine:
    """Walks family members through one loaded curriculum."""

    def __init__(self, curriculum: Curriculum, resources: Mapping[str, Resource] | None = None,
                 wording: Mapping[str, Mapping[str, tuple[str, str]]] | None = None) -> None:
        """`resources`: the crisis lines from the configuration (default: the US ones).

        `wording`: per locale, a line's (name, details) in that language, by key (default:
        the US lines in Spanish when `resources` are the defaults too).
        """
        self.curriculum = curriculum
        # Step fingerprints of versions served before, to tell whether a user's step changed.
        self.earlier: dict[str, Fingerprints] = {}
        self.machines: dict[str, CurriculumMachine] = {}
        self.guides: dict[str, CrisisGuide] = {}  # crisis words, texts and resources per locale
        self.sensitive: dict[str, frozenset[str]] = {}  # answers never echoed in discreet mode
        self.labels: dict[str, dict[str, dict[str, str]]] = {}  # saved choices by label, translations
        if wording is None and resources is None:
            wording = language.US_WORDING
        source = curriculum.locales.get(source_locale(curriculum) or "")
        for code, content in curriculum.locales.items():
            self.machines[code] = CurriculumMachine(list(content.modules.values()))
            assert content.locale is not None
            lines = _worded(resources, (wording or {}).get(code, {}))
            self.guides[code] = CrisisGuide(content.locale.crisis, lines, code)
            self.sensitive[code] = sensitive_keys(content.modules.values())
            self.labels[code] = value_labels(content, source) if source and source is not content else {}

    @property
    def version(self) -> str:
        """The content hash of the curriculum being served."""
        return self.curriculum.version

    def new_progress(self, user_id: int, language: str | None, now: float) -> Progress:
        """Fresh progress for someone new, in their language when the curriculum has it."""
        content = self.curriculum.content(language)
        return Progress(user_id=user_id, locale=content.code, created_at=now, updated_at=now,
                        version=self.version)

    def content(self, progress: Progress) -> LocaleContent:
        """The locale content a user is served."""
        return self.curriculum.content(progress.locale)

    def turn(self, progress: Progress, now: float) -> Turn:
        """A turn on this progress: the only place one is made."""
        content = self.content(progress)
        risk.refresh(progress.answers)  # progress saved before the profile existed gets it now
        turn = Turn(content, self.machines[content.code], progress, now)
        turn.sensitive = self.sensitive[content.code]
        turn.fills = self.guides[content.code].fills  # {emergency}, {lifeline}, ... configured
        turn.labels = self.labels[content.code]
        return turn

    def handle(self, progress: Progress, message: Input, now: float) -> Reply:
        """Answer one input and update `progress` in place (see the module's ordered list)."""
        reply = self._answer(progress, message, now)
        if is_discreet(progress):  # someone may read the phone: no sound, no link previews
            reply.messages = [replace(m, silent=True, previews=False) for m in reply.messages]
        if isinstance(message, Command) and message.name in ("safetyplan", "mydata"):
            reply.protect = True  # not to be forwarded or saved from the chat
        return reply

    def _answer(self, progress: Progress, message: Input, now: float) -> Reply:
        if isinstance(message, Due):  # a reminder's time has come: routing words it
            turn = self.turn(progress, now)
            catch_up(turn, self.version, self.earlier)
            progress.version = self.version  # (not updated_at: a reminder is not the person active)
            routing.take(turn, message)
            return turn.reply
        guide = self.guides[self.content(progress).code]
        found = self.detect(guide, flow.free_text(message))  # at every step, always first
        if found and self._rehearsed(progress, found):
            found = None
        if not found and data_rights.wants(message):
            return data_rights.answer(self.content(progress), progress, message, now)
        turn = self.turn(progress, now)
        moved = catch_up(turn, self.version, self.earlier)  # content published since last time
        progress.updated_at = now
        progress.version = self.version
        if found:
            self._interrupt(turn, guide, message, found)
        elif isinstance(message, Press) and flow.handles(message):
            flow.on_press(turn, guide, message)
        elif isinstance(message, Command) and message.name in flow.COMMANDS:
            flow.command(turn, guide, message)  # /safety, /safetyplan, /discreet
        elif moved and not (isinstance(message, Command) and message.name != "start"):
            pass  # the reply already says where they are now
        elif language.wants(message):
            turn = self._language(turn, message)
        elif routing.take(turn, message):  # reminders, check-ins, homework reviews, /reminders
            routing.settle(turn)
        else:
            self._curriculum(turn, message)
            routing.settle(turn)  # new homework plans its check-in; a typed city becomes a time zone
        return turn.reply

    def detect(self, guide: CrisisGuide, text: str) -> Detection | None:
        """Words of crisis in the person's language, or else in another the bot speaks.

        A Spanish speaker whose phone is set to English may write "quiero morir" before they
        find /language: the help still comes, in the language they are served in (a pathway
        the person's locale lacks shows its general crisis message). Words of crisis that
        the person's own locale read and set aside ("no respira bien por la alergia", "he
        was never suicidal") stay set aside: the other locales do not know their context.
        Another locale is heard only through its phrases, not its model.
        """
        found = guide.detector.detect(text)
        if found or not text or guide.detector.heard(text):
            return found
        # Another locale's statistical model reads a foreign message as noise: only its
        # phrases, which name what they matched, may bring help across languages.
        return next((other for g in self.guides.values() if g is not guide
                     if (other := g.detector.detect(text)) and other.words), None)

    def _rehearsed(self, progress: Progress, found: Detection) -> bool:
        """Whether `found` is only the model's doubt about a line rehearsed for the loved one.

        At a coached rehearsal the person writes what they will say ("Chris, I feel scared
        when you drink"), not what is happening: a model-only ask (no phrase matched) there
        is set aside; phrases, and the model's own interrupts, still bring help.
        """
        if found.level != "ask" or found.score is None or found.words:
            return False
        step = (self.content(progress).step(progress.module, progress.step)
                if progress.module and progress.step else None)
        return bool(getattr(step, "coach", None))

    def answers_without_progress(self, message: Input, language: str | None) -> bool:
        """Whether this input is answered the same for anyone: help in a crisis, and data rights.

        Words of crisis, /safety, the crisis flow's buttons and the privacy commands need
        nothing from a person's saved progress, so they are answered even when it cannot be
        read or saved (`state.service.conversations`).
        """
        if self.asks_for_help(message, language) or data_rights.wants(message):
            return True
        if isinstance(message, Press):  # /safetyplan's and /discreet's buttons too
            return flow.handles(message)
        return isinstance(message, Command) and message.name in flow.COMMANDS

    @staticmethod
    def may_ask_for_help(message: Input) -> bool:
        """Whether `asks_for_help` could say yes: words to read, /safety, a crisis button.

        A cheap look (no detector), so that a turn with none of these (a lesson's button,
        a command alone) pays nothing for the crisis deadline.
        """
        return flow.is_help(message) or bool(flow.free_text(message).strip())

    def asks_for_help(self, message: Input, language: str | None) -> bool:
        """Whether this input asks for help in a crisis: words of crisis, /safety, the crisis buttons.

        Such a turn waits for the store only briefly (`state.service.conversations`). The
        person's own safety plan, discreet mode and the privacy commands, which show or
        change their data, wait for it as long as it takes.
        """
        if flow.is_help(message):
            return True
        guide = self.guides[self.curriculum.content(language).code]
        return self.detect(guide, flow.free_text(message)) is not None

    def answer_again(self, progress: Progress, now: float) -> Reply:
        """What to send again for the person's latest update, delivered again after a crash.

        If that update was a crisis interrupt, the whole interrupt again (help must not be
        lost to a crash between saving and sending); else the question they are on. Works on
        a copy and is never saved.
        """
        last = progress.practice.get(LAST_CRISIS)
        if not isinstance(last, dict) or last.get("at") != progress.updated_at:
            return self.current_question(progress, now)
        turn = self.turn(copy.deepcopy(progress), now)
        pathways = tuple(str(p) for p in last.get("pathways") or ()) or (GENERAL,)
        level: Level = "ask" if last.get("level") == "ask" else "interrupt"
        found = Detection(level, str(last.get("kind", "")), pathways[0], pathways, "")
        flow.interrupt(turn, self.guides[turn.content.code], found)
        return Reply(messages=turn.reply.messages)

    def current_question(self, progress: Progress, now: float) -> Reply:
        """The last message of the step the person is on (or of the menu), as a new reply.

        Works on a copy: showing the place never changes the saved progress.
        """
        turn = self.turn(copy.deepcopy(progress), now)
        turn.show_current()
        return Reply(messages=turn.reply.messages[-1:])

    def enter_at(self, progress: Progress, module_id: str, step_id: str, now: float) -> Reply:
        """Place the person at a step, as a preview does; no events are recorded."""
        turn = self.turn(progress, now)
        turn.enter(module_id, step_id)
        turn.reply.events = []
        return turn.reply

    def _language(self, turn: Turn, message: Input) -> Turn:
        """/language: the choice of languages, or the same place again in the one picked."""
        code = language.chosen(message, self.curriculum)
        if code is None:
            turn.say(*language.choices(self.curriculum, turn.content.code))
            return turn
        turn.p.locale = code
        again = self.turn(turn.p, turn.now)
        again.reply = turn.reply  # anything said before (a catch-up) stays
        again.say(language.switched(self.curriculum, code))
        again.show_current()
        return again

    @staticmethod
    def _interrupt(turn: Turn, guide: CrisisGuide, message: Input, found: Detection) -> None:
        if isinstance(message, TextIn) and len(message.text.strip()) <= MAX_ANSWER:
            # Their words may have been an answer too (a list of costs may say "overdose"):
            # keep them, whole, tied to where they were typed, so going back does not mean
            # writing it all again. Longer words would not have been taken as an answer.
            held.hold(turn, message.text.strip())
        # What the interrupt was, so an update delivered again after a crash gets it again.
        turn.p.practice[LAST_CRISIS] = {"at": turn.now, "level": found.level, "kind": found.kind,
                                        "pathways": list(found.pathways)}
        flow.interrupt(turn, guide, found)

    def _curriculum(self, turn: Turn, message: Input) -> None:
        """Commands, presses and answers at the step."""
        if isinstance(message, TextIn):
            if not turn.onboarding_started():
                turn.start_onboarding()
            elif len(message.text) > MAX_ANSWER:
                turn.say_ui("too_long", limit=number(MAX_ANSWER, turn.content.code))
                turn.show_current()
            else:
                answers.on_text(turn, message.text.strip())
        elif isinstance(message, Command):
            self._command(turn, message)
        elif isinstance(message, Press):
            if not turn.onboarding_started():
                turn.start_onboarding()
            else:
                answers.on_press(turn, message)
        elif isinstance(message, Other):
            turn.on_other(message.what)

    @staticmethod
    def _command(turn: Turn, command: Command) -> None:
        name = command.name
        if not turn.onboarding_started():
            turn.start_onboarding()
        elif name == "start":
            turn.say_ui("welcome_back")
            turn.show_current()
        elif name == "menu":
            turn.show_menu()
        elif name == "progress":
            turn.show_progress()
        elif name == "help":
            turn.say_ui("help", here_button=True)
        else:
            turn.say_ui("unknown_command")
            turn.show_current()


def _worded(resources: Mapping[str, Resource] | None, words: Mapping[str, tuple[str, str]],
            ) -> Mapping[str, Resource] | None:
    """The crisis lines with their name and details in a locale's words, where given."""
    if not words:
        return resources
    # The defaults are the US lines and the US routes to people, as CrisisGuide takes them.
    given = {**US_PEOPLE, **US_RESOURCES} if resources is None else resources
    return {key: replace(r, name=words[key][0], details=words[key][1]) if key in words else r
            for key, r in given.items()}
