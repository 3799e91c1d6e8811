"""What the curriculum book says, before it is written as HTML or Markdown: the model of the book.

The book (`craftbot book`) holds, for each locale, module by module: the metadata, the flow
diagram, then every step in order with its kind, every message, every option and where it
leads, feedback, quiz answers (the correct one marked) with explanations, branch conditions
in words, homework and how a rehearsal is coached; then the crisis message, the rehearsal
coach's patterns, the bot's own words, and a sign-off table. This module gathers that
content (`step_pages`, `crisis_sections`, `coaching_sections`, `book_modules`) and names
the anchors both renderers link to; `bot.documents.html_book` and
`bot.documents.markdown_book` write it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.documents.graph import Labels, describe_conditions
from state.curriculum.coaching import Coach
from state.curriculum.model import LocaleContent
from state.curriculum.schema import (
    BranchStep,
    ChecklistStep,
    ChoiceStep,
    Crisis,
    EndStep,
    HomeworkStep,
    MessageStep,
    Module,
    QuizStep,
    ScaleStep,
    Step,
    Text,
    TextStep,
)
from state.engine.machine import SEPARATOR, module_edges


@dataclass
class Option:
    """One button, answer or case of a step, with where it leads and what follows it."""

    label: str
    target: str | None = None
    notes: list[str] = field(default_factory=list)  # plain facts: value saved, "correct" ...
    texts: list[str] = field(default_factory=list)  # counselor text: feedback, explanation
    correct: bool = False


@dataclass
class StepPage:
    """Everything a reviewer needs about one step."""

    step: Step
    texts: list[str]
    facts: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    reached_from: list[str] = field(default_factory=list)


def anchor(module_id: str, step_id: str | None = None) -> str:
    """The id a module (or one of its steps) has in the book, for links."""
    return f"m-{module_id}" + (f"-{step_id}" if step_id else "")


def book_modules(content: LocaleContent) -> list[Module]:
    """The modules in reading order: onboarding first, then the path."""
    return [content.onboarding, *content.path_modules]


def step_pages(module: Module, labels: Labels) -> list[StepPage]:
    """The module's steps in file order, each described for review."""
    sources: dict[str, list[str]] = {}
    for edge in module_edges(module):
        dest = edge.dest.split(SEPARATOR, 1)[1]
        source = edge.source.split(SEPARATOR, 1)[1]
        if source not in sources.setdefault(dest, []):
            sources[dest].append(source)
    pages = []
    for step in module.steps:
        page = StepPage(step, list(step.texts), reached_from=sources.get(step.id, []))
        if step.id == module.first_step:
            page.reached_from.insert(0, "(module start)")
        _describe(step, page, labels)
        pages.append(page)
    return pages


def _describe(step: Step, page: StepPage, labels: Labels) -> None:
    """Fill the page's facts and options with what the step does, by its kind."""
    facts, options = page.facts, page.options
    if isinstance(step, MessageStep):
        options.append(Option(f"button “{step.button}”" if step.button else "continues by itself",
                              step.next))
    elif isinstance(step, ChoiceStep):
        _describe_choice(step, page)
    elif isinstance(step, TextStep):
        _describe_text(step, page)
    elif isinstance(step, ScaleStep):
        facts.append(f"a number from {step.min} ({step.min_label or '-'}) to {step.max}"
                     f" ({step.max_label or '-'}), saved as `{step.save}`")
        options.append(Option("after the number", step.next))
    elif isinstance(step, QuizStep):
        _describe_quiz(step, page)
    elif isinstance(step, ChecklistStep):
        facts.append(f"ticked items are saved as a list in `{step.save}`"
                     + (f"; at least {step.min_selected} must be ticked" if step.min_selected else ""))
        options.extend(Option(item.label, None, [f"value {item.value}"] if item.value else [])
                       for item in step.options)
        options.append(Option(f"button “{step.done_label or 'Done'}”", step.next))
    elif isinstance(step, HomeworkStep):
        facts.append("becomes the family member's current homework (saved as `homework`)")
        if step.check_in_days:
            facts.append(f"the bot checks in after {step.check_in_days} day(s)")
        options.append(Option("continues by itself", step.next))
    elif isinstance(step, BranchStep):
        facts.append("shows nothing; the first case that holds decides where to go")
        options.extend(Option("if " + describe_conditions(case.conditions, labels), case.next)
                       for case in step.cases)
        options.append(Option("otherwise", step.otherwise))
    elif isinstance(step, EndStep):
        _describe_end(step, page)


def _describe_text(step: TextStep, page: StepPage) -> None:
    page.facts.append(f"the typed answer is saved as `{step.save}`"
                      + (" (sensitive: never repeated back in the chat)" if step.sensitive else ""))
    page.facts.append("any answer is taken" if step.least_words == 0 else
                      f"an answer of fewer than {step.least_words} word(s), a single letter or a bare"
                      " number gets a kind nudge and the question again")
    if not step.coach:
        page.options.append(Option("after the answer", step.next))
        return
    page.facts.append("coached (see “Rehearsal coaching”) for, in this order: "
                      + ", ".join(f"`{p}`" for p in step.coach) + "; the first one found is explained,"
                      " with a model, and the family member tries once more, then goes on")
    page.facts.extend(f"in the models here, {{{name}}} stands for “{value}” when the answer has none"
                      for name, value in step.coach_pieces.items())
    if step.if_clean:
        page.options.append(Option("nothing to coach at the first try", step.if_clean))
        page.options.append(Option("after a coached second try", step.next))
    else:
        page.options.append(Option("nothing to coach, or after a coached second try", step.next))


def _describe_choice(step: ChoiceStep, page: StepPage) -> None:
    if step.save:
        page.facts.append(f"saves the answer as `{step.save}`")
    for option in step.options:
        notes = []
        if step.save:
            value = option.value if option.value is not None else option.label
            notes.append(f"saves {step.save} = {value}")
        notes.extend(f"also saves {k} = {v}" for k, v in option.set.items())
        feedback = [option.feedback] if isinstance(option.feedback, str) else option.feedback or []
        page.options.append(Option(option.label, step.target(option), notes, list(feedback)))


def _describe_quiz(step: QuizStep, page: StepPage) -> None:
    page.facts.append("a wrong answer is explained, then the question is asked again" if step.retry
                      else "any answer is explained, then the module goes on")
    if step.save:
        page.facts.append(f"whether the first answer was right is saved as `{step.save}`")
    for answer in step.options:
        explain = [answer.explain] if isinstance(answer.explain, str) else answer.explain
        page.options.append(Option(answer.label, None, [], list(explain), answer.correct))
    page.options.append(Option("after the right answer" if step.retry else "after any answer",
                               step.next))


def _describe_end(step: EndStep, page: StepPage) -> None:
    page.facts.append("ends the module: it counts as completed" if step.complete
                      else "an early exit: the module is not completed and starts afresh next time")
    if step.suggest:
        page.facts.append(f"offers the module `{step.suggest}` next")


def crisis_sections(crisis: Crisis) -> list[tuple[str, list[str], list[str]]]:
    """The crisis words and messages to review: (title, phrases, messages) per part."""
    def texts(text: Text) -> list[str]:
        return [text] if isinstance(text, str) else list(text)

    sections = [(f"Pathway “{name}”", list(p.phrases), texts(p.message))
                for name, p in crisis.pathways.items()]
    sections += [(f"Kind “{name}” (opens “{kind.pathway}”): {tier}", list(phrases), [])
                 for name, kind in crisis.kinds.items()
                 for tier, phrases in (("interrupt", kind.interrupt), ("ask first", kind.ask)) if phrases]
    sections += [(f"Word list “{name}”", list(words), []) for name, words in crisis.words.items()]
    sections += [(f"Context: {name}", list(getattr(crisis.context, name)), [])
                 for name in type(crisis.context).model_fields if getattr(crisis.context, name)]
    sections.append(("Crisis words" if crisis.phrases else "The message /safety shows",
                     list(crisis.phrases), texts(crisis.message)))
    if crisis.exclusions:
        sections.append(("Phrases that cancel a match", list(crisis.exclusions), []))
    for title, text in (("Overdose steps", crisis.overdose_steps), ("Grounding", crisis.grounding)):
        if texts(text):
            sections.append((title, [], texts(text)))
    if crisis.safety_plan:
        sections.append(("Safety plan", [], [f"{k}: {v}" for k, v in crisis.safety_plan.items()]))
    return sections


def coaching_sections(coach: Coach | None) -> list[tuple[str, list[str], list[str]]]:
    """The rehearsal coach's patterns to review: (title, how it is found, its texts) per part."""
    if coach is None:
        return []

    def texts(label: str, text: Text) -> list[str]:
        return [f"{label}: {t}" for t in ([text] if isinstance(text, str) else text) if t.strip()]

    sections = []
    for pid, pattern in coach.source.patterns.items():
        if pattern.over_words is not None:
            how = [f"more than {pattern.over_words} words"]
        else:
            how = [*pattern.words, *(f"regex {r}" for r in pattern.regex),
                   *(f"not when overlapping: {u}" for u in pattern.unless)]
        kind = " (found when none of these is there)" if pattern.missing else ""
        said = [*texts("explained", pattern.explain), *texts("model", pattern.model),
                *texts("second try, gone", pattern.improved), *texts("second try, still there",
                                                                     pattern.still)]
        sections.append((f"Pattern “{pid}”{kind}", how, said))
    sections += [(f"Piece {{{name}}} of the family member's words (stand-in: “{piece.default}”)",
                  [*piece.words, *(f"regex {r}" for r in piece.regex)], [])
                 for name, piece in coach.source.pieces.items()]
    return sections
