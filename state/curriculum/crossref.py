"""Pass two of validation: what one part of the curriculum says about another.

Every `next` must name a step of the same module, every step must be reachable from the
start and have a way on to an end, placeholders and branch keys must be answers that some
step saves, prerequisites must exist without cycles, and texts must fit Telegram's limits.
Each finding points at the exact line and column and says what to do about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator
from typing import Any

from state.curriculum.crisis import CRISIS_PLACEHOLDERS, crisis_texts
from state.curriculum.diagnostics import Diagnostic
from state.curriculum.helplines import PEOPLE, ROLES, US_KEYS, filled_by
from state.curriculum.markup import TELEGRAM_LIMIT, markup_problem
from state.curriculum.model import Curriculum, LocaleContent
from state.curriculum.schema import (
    RISK_FLAGS,
    RISK_FLAGS_KEY,
    RISK_LEVEL_KEY,
    RISK_LEVELS,
    BranchStep,
    ChecklistStep,
    ChoiceStep,
    Condition,
    EndStep,
    Module,
    QuizStep,
    Step,
    TextStep,
    placeholders,
)
from state.curriculum.uitext import UI_KEYS
from state.curriculum.yamlsource import Located, PathKey

SOFT_LIMIT = 700  # longer messages are hard to read on a phone
CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data
BUILTIN_KEYS = frozenset({  # saved by the engine, not by a step (between_sessions/routing.py)
    "homework", "homework_module", "homework_reviewed", "homework_tried", "homework_how",
    "homework_obstacle", "homework_outcome", "homework_plan", "homework_plan_when",
    "homework_review_later", "homework_setbacks", "checkin_stress", "checkin_sober_days", "checkin_rewards",
    "checkin_loved_one_day", "checkin_every", "reminders", "timezone", "reminder_time",
    RISK_LEVEL_KEY, RISK_FLAGS_KEY,  # the risk profile (state/engine/risk.py)
})


def check_references(curriculum: Curriculum, resources: Collection[str] = US_KEYS) -> list[Diagnostic]:
    """Every cross-reference problem in the curriculum.

    `resources` are the keys of the configured crisis lines: their placeholders, and those of
    every role (`state.curriculum.helplines` reports the roles that are not configured), are
    filled by the engine, not from answers.
    """
    fills = filled_by((*ROLES, *PEOPLE, *resources))  # routes to people always have defaults
    out: list[Diagnostic] = []
    for content in curriculum.locales.values():
        out.extend(_check_locale(content, fills))
    default = curriculum.locales.get(curriculum.default_locale)
    if curriculum.locales and default is None:
        out.append(Diagnostic(str(curriculum.root), 1, 1, "error",
                              f"the default locale '{curriculum.default_locale}' has no folder"))
    return out


def _check_locale(content: LocaleContent, fills: frozenset[str]) -> Iterator[Diagnostic]:
    locale_file = content.folder / "locale.yaml"
    if content.locale is not None and content.locale_source is not None:
        yield from _check_locale_file(content, fills)
    elif not locale_file.exists():  # an invalid one has had its problems reported already
        yield Diagnostic(str(locale_file), 1, 1, "error",
                         f"{content.code}/ has no locale.yaml; copy one from another locale and"
                         " translate it (it holds locale:, name:, crisis: and ui:)")
    yield from _check_onboarding(content)
    answers = _saved_keys(content)
    saved = None if answers is None else answers | fills  # placeholders may use either
    known = frozenset(content.modules) | frozenset(content.rejected)
    for module in content.modules.values():
        source = content.sources[module.id]
        yield from _check_module(module, source, saved, known)
        yield from _check_requires(module, content)
    yield from _check_orders(content)


def _check_onboarding(content: LocaleContent) -> Iterator[Diagnostic]:
    onboarding = sorted(m.id for m in content.modules.values() if m.onboarding)
    if len(onboarding) > 1:
        for module_id in onboarding:
            yield content.sources[module_id].diagnostic(
                ("onboarding",), f"more than one module has `onboarding: true` ({', '.join(onboarding)});"
                                 " keep it on exactly one")
    rejected = any(data is None or (isinstance(data, dict) and data.get("onboarding") is True)
                   for data in content.rejected.values())
    if content.modules and not onboarding and not rejected:
        yield Diagnostic(str(content.folder), 1, 1, "error",
                         f"no module in {content.code}/ has `onboarding: true`; add it to the module"
                         " people start with")


def _check_locale_file(content: LocaleContent, fills: frozenset[str]) -> Iterator[Diagnostic]:
    assert content.locale and content.locale_source
    source = content.locale_source
    if content.locale.locale.split("-")[0] != content.code.split("-")[0]:
        yield source.diagnostic(("locale",), f"locale '{content.locale.locale}' does not match its"
                                             f" folder '{content.code}'; make them the same")
    for key in sorted(set(UI_KEYS) - set(content.locale.ui)):
        yield source.diagnostic(("ui",), f"missing ui text '{key}'; add `{key}:` under ui:",
                                key=True)
    for key, text in content.locale.ui.items():
        if key not in UI_KEYS:
            guess = difflib.get_close_matches(key, sorted(UI_KEYS), n=1)
            hint = f"did you mean '{guess[0]}'?" if guess else "the bot never shows it; remove it"
            yield source.diagnostic(("ui", key), f"unknown ui text '{key}'; {hint}", key=True,
                                    severity="warning")
            continue
        for name in placeholders(text):
            if name not in UI_KEYS[key]:
                may_use = ", ".join(f"{{{n}}}" for n in sorted(UI_KEYS[key])) or "none"
                yield source.diagnostic(("ui", key), f"unknown placeholder {{{name}}} in ui text"
                                                     f" '{key}'; it may only use: {may_use}")
        problem = markup_problem(text)
        if problem:
            yield source.diagnostic(("ui", key), f"text has {problem}")
    crisis_keys = CRISIS_PLACEHOLDERS | frozenset(content.locale.defaults) | fills
    for path, text in crisis_texts(content.locale.crisis):
        yield from _check_text(text, path, source, crisis_keys, soft=False)


def _saved_keys(content: LocaleContent) -> frozenset[str] | None:
    """Every answer key some step saves, or None when an unreadable module file hides some."""
    if any(data is None for data in content.rejected.values()):
        return None
    keys = set(BUILTIN_KEYS)
    for module in content.modules.values():
        for step in module.steps:
            save = getattr(step, "save", None)
            if isinstance(save, str):
                keys.add(save)
            for option in getattr(step, "options", []):
                keys.update(getattr(option, "set", {}).keys())
    for data in content.rejected.values():  # still count what a module with a mistake saves
        keys.update(_raw_saved_keys(data))
    return frozenset(keys)


def _raw_saved_keys(data: Any) -> Iterator[str]:
    steps = data.get("steps") if isinstance(data, dict) else None
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            continue
        if isinstance(step.get("save"), str):
            yield step["save"]
        options = step.get("options")
        for option in options if isinstance(options, list) else []:
            if isinstance(option, dict) and isinstance(option.get("set"), dict):
                yield from (str(k) for k in option["set"])


def _targets(step: Step) -> list[tuple[PathKey, str]]:
    """(path inside the step, target id) for every way on from a step."""
    if isinstance(step, ChoiceStep):
        out: list[tuple[PathKey, str]] = []
        for i, option in enumerate(step.options):
            if option.next:
                out.append((("options", i, "next"), option.next))
        if step.next and any(o.next is None for o in step.options):
            out.append((("next",), step.next))
        return out
    if isinstance(step, BranchStep):
        cases = [(("cases", i, "next"), c.next) for i, c in enumerate(step.cases)]
        return [*cases, (("otherwise",), step.otherwise)]
    if isinstance(step, EndStep):
        return []
    if isinstance(step, TextStep) and step.if_clean:  # where an uncoachable answer goes
        return [(("next",), step.next), (("if_clean",), step.if_clean)]
    return [(("next",), step.next)]


def _check_module(module: Module, source: Located, saved: frozenset[str] | None,
                  known_modules: frozenset[str]) -> Iterator[Diagnostic]:
    index: dict[str, int] = {}
    for i, step in enumerate(module.steps):
        if step.id in index:
            yield source.diagnostic(("steps", i, "id"), f"step id '{step.id}' is used twice in this"
                                                        " module; give each step its own id")
        else:
            index[step.id] = i
    unknown = False  # some `next` or `start` names no step
    if module.start and module.start not in index:
        unknown = True
        yield source.diagnostic(("start",), _unknown_step(module.start, index))
    edges: dict[str, list[str]] = {}
    for i, step in enumerate(module.steps):
        base: PathKey = ("steps", i)
        edges.setdefault(step.id, [])
        for path, target in _targets(step):
            if target not in index:
                unknown = True
                yield source.diagnostic((*base, *path), _unknown_step(target, index))
            else:
                edges[step.id].append(target)
        if isinstance(step, ChoiceStep) and not step.next and any(o.next is None
                                                                    for o in step.options):
            j = next(k for k, o in enumerate(step.options) if o.next is None)
            yield source.diagnostic((*base, "options", j),
                                    "this option has no way forward: give it `next:` or give"
                                    " the step a `next:` for options without one")
        yield from _check_step(step, base, source, saved)
        if isinstance(step, EndStep) and step.suggest and step.suggest not in known_modules:
            guess = difflib.get_close_matches(step.suggest, sorted(known_modules), n=1)
            hint = f"did you mean '{guess[0]}'?" if guess else "use the id of a module"
            yield source.diagnostic((*base, "suggest"), f"unknown module '{step.suggest}' in"
                                                        f" suggest; {hint}")
    for j, cond in enumerate(module.open_conditions):
        where: PathKey = ("open_when", j) if isinstance(module.open_when, list) else ("open_when",)
        yield from _check_condition(cond, where, source, saved)
    # Reachability means little while a `next` points nowhere: it would flag every step
    # after the typo. It is checked again once the references are fixed.
    yield from _check_paths(module, source, index, edges, ends_only=unknown)


def _check_paths(module: Module, source: Located, index: dict[str, int],
                 edges: dict[str, list[str]], *, ends_only: bool = False) -> Iterator[Diagnostic]:
    ends = [s.id for s in module.steps if isinstance(s, EndStep)]
    if not ends:
        yield source.diagnostic(("steps",), "the module has no `kind: end` step; add one so"
                                            " people can finish it", key=True)
    if not ends or ends_only:
        return
    start = module.start if module.start in index else module.steps[0].id
    reachable = _closure([start], edges)
    for step_id, i in index.items():
        if step_id not in reachable:
            yield source.diagnostic(("steps", i, "id"),
                                    f"step '{step_id}' can never be reached; point a `next:` at it"
                                    " or remove it", severity="warning")
    reverse: dict[str, list[str]] = {}
    for origin, targets in edges.items():
        for target in targets:
            reverse.setdefault(target, []).append(origin)
    finishing = _closure(ends, reverse)
    for step_id in sorted(reachable - finishing, key=lambda s: index[s]):
        yield source.diagnostic(("steps", index[step_id], "id"),
                                f"no way forward from step '{step_id}' to an end step (it loops"
                                " or stops); give it a `next:` that leads to the end")


def _closure(starts: list[str], edges: dict[str, list[str]]) -> set[str]:
    seen = set(starts)
    stack = list(starts)
    while stack:
        for target in edges.get(stack.pop(), []):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _check_step(step: Step, base: PathKey, source: Located,
                saved: frozenset[str] | None) -> Iterator[Diagnostic]:
    texts = [step.text] if isinstance(step.text, str) else step.text
    for i, text in enumerate(texts):
        path = (*base, "text") if isinstance(step.text, str) else (*base, "text", i)
        yield from _check_text(text, path, source, saved)
    if not step.texts and not isinstance(step, BranchStep | EndStep):
        yield source.diagnostic(base, f"step '{step.id}' has no text; add `text:` so people"
                                      " know what is asked")
    for i, option in enumerate(getattr(step, "options", [])):
        opt = (*base, "options", i)
        if len(option.label) > 40:
            yield source.diagnostic((*opt, "label"), f"button label is {len(option.label)} characters;"
                                                     " over 40 is cut off on phones; shorten it",
                                    severity="warning")
        for name in placeholders(option.label):
            if saved is not None and name not in saved:
                yield source.diagnostic((*opt, "label"), f"unknown placeholder {{{name}}}: "
                                                         + _unknown_key(name, saved))
        for field in ("feedback", "explain"):
            value = getattr(option, field, None)
            for j, text in enumerate([value] if isinstance(value, str) else value or []):
                path = (*opt, field) if isinstance(value, str) else (*opt, field, j)
                yield from _check_text(text, path, source, saved)
    if isinstance(step, BranchStep):
        for i, case in enumerate(step.cases):
            for j, cond in enumerate(case.conditions):
                path = (*base, "cases", i, "when") + ((j,) if isinstance(case.when, list) else ())
                yield from _check_condition(cond, path, source, saved)
    options = len(getattr(step, "options", []))
    if len(f"t:{10**9}:{step.id}:{options}".encode()) > CALLBACK_LIMIT:
        yield source.diagnostic((*base, "id"), "this step's buttons would need callback data over"
                                               " 64 bytes; use a shorter step id")
    if isinstance(step, QuizStep | ChoiceStep | ChecklistStep) and options > 12:
        yield source.diagnostic((*base, "options"), "more than 12 options do not fit a phone"
                                                    " screen; split the step", severity="warning")


def _check_condition(cond: Condition, path: PathKey, source: Located,
                     saved: frozenset[str] | None) -> Iterator[Diagnostic]:
    """A condition's key is saved somewhere; a risk test names known levels and flags."""
    if cond.risk is not None:
        for i, level in enumerate(cond.risk):
            if level not in RISK_LEVELS:
                # a lone level (`risk: high`) has no index: `where` falls back to `risk`
                yield source.diagnostic((*path, "risk", i),
                                        _unknown_name("risk level", level, RISK_LEVELS))
    elif cond.risk_flag is not None:
        if cond.risk_flag not in RISK_FLAGS:
            yield source.diagnostic((*path, "risk_flag"),
                                    _unknown_name("risk flag", cond.risk_flag, RISK_FLAGS))
    elif saved is not None and cond.key not in saved:
        yield source.diagnostic((*path, "key"), _unknown_key(cond.key, saved))


def _unknown_name(what: str, name: str, known: tuple[str, ...]) -> str:
    guess = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean '{guess[0]}'? " if guess else ""
    return f"unknown {what} '{name}'; {hint}use one of: {', '.join(known)}"


def _check_text(text: str, path: PathKey, source: Located, saved: frozenset[str] | None,
                *, soft: bool = True) -> Iterator[Diagnostic]:
    if len(text) > TELEGRAM_LIMIT:
        yield source.diagnostic(path, f"text is {len(text)} characters; Telegram allows"
                                      f" {TELEGRAM_LIMIT}; split it into a list of shorter messages")
    elif soft and len(text) > SOFT_LIMIT:
        yield source.diagnostic(path, f"text is {len(text)} characters; keep messages under"
                                      f" {SOFT_LIMIT} (one idea each) by making `text:` a list",
                                severity="warning")
    problem = markup_problem(text)
    if problem:
        yield source.diagnostic(path, f"text has {problem}")
    if saved is None:
        return
    for name in placeholders(text):
        if name not in saved:
            yield source.diagnostic(path, f"unknown placeholder {{{name}}}: "
                                          + _unknown_key(name, saved))


def _unknown_key(name: str, saved: frozenset[str]) -> str:
    guess = difflib.get_close_matches(name, sorted(saved), n=1)
    hint = f"did you mean '{guess[0]}'?" if guess else "use a key that a step saves with `save:`"
    return f"no step saves an answer called '{name}'; {hint}"


def _unknown_step(target: str, index: dict[str, int]) -> str:
    guess = difflib.get_close_matches(target, list(index), n=1)
    hint = f"did you mean '{guess[0]}'?" if guess else "use the id of a step in this module"
    return f"unknown step '{target}'; {hint}"


def _check_requires(module: Module, content: LocaleContent) -> Iterator[Diagnostic]:
    source = content.sources[module.id]
    for i, need in enumerate(module.requires):
        if need in content.rejected:
            continue  # that module's own file has errors; they are reported there
        if need not in content.modules:
            guess = difflib.get_close_matches(need, list(content.modules), n=1)
            hint = f"did you mean '{guess[0]}'?" if guess else "use the id of another module"
            yield source.diagnostic(("requires", i), f"unknown module '{need}' in requires; {hint}")
        elif need == module.id or module.id in _all_requirements(need, content):
            yield source.diagnostic(("requires", i), f"requiring '{need}' makes a loop of"
                                                     " prerequisites; remove one of them")


def _all_requirements(module_id: str, content: LocaleContent) -> set[str]:
    seen: set[str] = set()
    stack = [module_id]
    while stack:
        module = content.modules.get(stack.pop())
        for need in module.requires if module else []:
            if need not in seen:
                seen.add(need)
                stack.append(need)
    return seen


def _check_orders(content: LocaleContent) -> Iterator[Diagnostic]:
    seen: dict[int, str] = {}
    for module in sorted(content.modules.values(), key=lambda m: m.id):
        if module.order in seen and not module.onboarding:
            yield content.sources[module.id].diagnostic(
                ("order",), f"order {module.order} is also used by module '{seen[module.order]}';"
                            " give each module its own place", severity="warning")
        seen.setdefault(module.order, module.id)
