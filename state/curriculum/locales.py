"""Locales in step: every translation has the source locale's shape, and says what it was made from.

The source locale is the one counselors write first (`en` when the curriculum has it). A
translated locale must match it module by module and step by step: the same step ids in
the same order, the same kinds, options, values, saved keys, branches and targets, and in
each translated text the same number of messages and the same placeholders. Only the words
differ, because `/language` moves a person between locales at the same step, and a step
that is not there, or saves another key, would lose their place.

Partial locales. A module the translated locale does not have yet, or whose translation is
out of step with the source (the source gained a step, a translator changed a `next`), is
served from the source locale, each difference a warning at its `file:line:col`; so a locale
can go live module by module while the source is still being rewritten, and a change to the
source never stops the bot. `--strict` makes them errors, for a release that must be complete.

Staleness. `translated_from.yaml` in the translated locale's folder records, per module,
the fingerprint (`state.curriculum.versions.step_fingerprint`) of every source step a
translation was made from, and `_module` for the title and description; under `locale`,
a short hash of every English text of locale.yaml (ui, commands, crisis texts, discreet).
`craftbot translate import` writes it; `craftbot translate mark` records a hand-made
translation. A step whose source fingerprint is no longer the recorded one is reported as a
warning ("changed in en since it was translated"), an error with `--strict`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from state.curriculum.crisis import crisis_texts
from state.curriculum.diagnostics import Diagnostic
from state.curriculum.model import Curriculum, LocaleContent
from state.curriculum.schema import Locale, Module, placeholders
from state.curriculum.versions import step_fingerprint
from state.curriculum.yamlsource import Located, PathKey, load_located

SOURCES_FILE = "translated_from.yaml"
MODULE_KEY = "_module"  # in SOURCES_FILE: the fingerprint of a module's title and description
LOCALE_RECORD = "locale"  # in SOURCES_FILE: the hashes of locale.yaml's texts, by dotted path
# The fields of a step (and of its options) that hold words: everything else is structure.
STEP_TEXTS = ("text", "button", "min_label", "max_label", "done_label")
OPTION_TEXTS = ("label", "feedback", "explain")
MODULE_TEXTS = ("title", "description")

Record = dict[str, dict[str, str]]  # module -> step id (or _module) -> source fingerprint


def source_locale(curriculum: Curriculum) -> str | None:
    """The locale others are translated from: `en` when present, else the default locale."""
    for code in ("en", curriculum.default_locale):
        if code in curriculum.locales:
            return code
    return None


def header_fingerprint(module: Module) -> str:
    """A short hash of a module's title and description."""
    return hashlib.sha256(f"{module.title}\0{module.description}".encode()).hexdigest()[:12]


def source_fingerprints(module: Module) -> dict[str, str]:
    """What a translation of `module` records: every step's fingerprint, and the header's."""
    return {MODULE_KEY: header_fingerprint(module), **{s.id: step_fingerprint(s) for s in module.steps}}


def locale_texts(locale: Locale) -> dict[PathKey, str]:
    """Every text of a locale.yaml a translator translates, by its path in the file."""
    found: dict[PathKey, str] = {("ui", key): text for key, text in locale.ui.items()}
    found |= {("commands", key): text for key, text in locale.commands.items()}
    found |= {("discreet", "neutral", key): text for key, text in locale.discreet.neutral.items()}
    found[("discreet", "hidden")] = locale.discreet.hidden
    found |= dict(crisis_texts(locale.crisis))
    return found


def locale_fingerprints(locale: Locale) -> dict[str, str]:
    """What a translation of locale.yaml records: a short hash of each text, by dotted path."""
    return {".".join(map(str, path)): hashlib.sha256(text.encode()).hexdigest()[:12]
            for path, text in locale_texts(locale).items()}


# -- the record of what each translation was made from -------------------------------------------

def read_record(folder: Path) -> tuple[Record, list[Diagnostic]]:
    """A locale's translated_from.yaml (empty when it has none)."""
    file = folder / SOURCES_FILE
    if not file.exists():
        return {}, []
    located, problems = load_located(file)
    if located is None:
        return {}, problems
    data = located.data
    if not isinstance(data, dict) or not all(
            isinstance(steps, dict) and all(isinstance(v, str) for v in steps.values())
            for key, steps in data.items() if key != "source"):
        return {}, [located.diagnostic((), f"{SOURCES_FILE} is written by `craftbot translate"
                                           " import`: module ids, each with `step: fingerprint`"
                                           " lines; delete it and import or mark again")]
    return {str(k): {str(s): str(f) for s, f in v.items()} for k, v in data.items() if k != "source"}, []


def write_record(folder: Path, source: str, record: Record) -> None:
    """Write a locale's translated_from.yaml, modules and steps in a stable order."""
    head = (f"# Which {source} text each translated step was made from, by step fingerprint.\n"
            "# Written by `craftbot translate import` (or `translate mark`); `craftbot validate`\n"
            f"# warns when the {source} step has changed since. Not edited by hand.\n")
    body = {"source": source, **{m: dict(sorted(record[m].items())) for m in sorted(record)}}
    (folder / SOURCES_FILE).write_text(head + yaml.safe_dump(body, sort_keys=False), encoding="utf-8")


# -- partial locales --------------------------------------------------------------------------------

def fill_from_source(curriculum: Curriculum, *, strict: bool = False) -> list[Diagnostic]:
    """Serve the source's module wherever a translated locale lacks it or is out of step with it."""
    source = source_locale(curriculum)
    if source is None:
        return []
    original = curriculum.locales[source]
    problems = []
    for content in curriculum.locales.values():
        if content is original:
            continue
        for module_id in [m for m in content.modules if m in original.modules]:
            found = list(compare_module(original.sources[module_id].data, content.sources[module_id],
                                        original.code, strict=strict))
            if found:
                problems.extend(found)
                del content.modules[module_id]  # served from the source until in step again
        missing = [m for m in original.modules if m not in content.modules and m not in content.rejected]
        for module_id in missing:
            content.modules[module_id] = original.modules[module_id]
            content.sources[module_id] = original.sources[module_id]
        if missing:
            problems.append(Diagnostic(
                str(content.folder), 1, 1, "error" if strict else "warning",
                f"{content.code}/ has no translation of {len(missing)} module(s)"
                f" ({', '.join(sorted(missing))}); they are served in {source} until translated"
                " (craftbot translate export)"))
    return problems


# -- locales in step --------------------------------------------------------------------------------

def check_locales(curriculum: Curriculum, *, strict: bool = False) -> list[Diagnostic]:
    """Every way a translated locale differs from the source locale but for its words."""
    source = source_locale(curriculum)
    if source is None:
        return []
    original = curriculum.locales[source]
    out: list[Diagnostic] = []
    for content in curriculum.locales.values():
        if content is original:
            continue
        record, problems = read_record(content.folder)
        out.extend(problems)
        out.extend(_check_translation(original, content, record, strict=strict))
    return out


def _check_translation(original: LocaleContent, content: LocaleContent, record: Record, *,
                       strict: bool) -> Iterator[Diagnostic]:
    for module_id, module in content.modules.items():
        located = content.sources[module_id]
        if module is original.modules.get(module_id):
            continue  # served from the source: nothing translated to compare
        if module_id not in original.modules:
            yield located.diagnostic(("id",), f"module '{module_id}' is not in {original.code}/;"
                                              " a translation has the same modules as its source")
            continue
        source_module = original.modules[module_id]
        yield from _stale(source_module, module, located, record.get(module_id),
                          original.code, strict=strict)
    if content.locale and original.locale and content.locale_source:
        yield from _compare_ui(original.locale.ui, content.locale.ui, content.locale_source, original.code)
        yield from _stale_locale(original.locale, content.locale_source, record.get(LOCALE_RECORD),
                                 original.code, strict=strict)


def _stale_locale(source: Locale, located: Located, recorded: dict[str, str] | None, code: str, *,
                  strict: bool) -> Iterator[Diagnostic]:
    """The texts of locale.yaml whose source changed since they were translated."""
    severity = "error" if strict else "warning"
    if recorded is None:
        yield located.diagnostic((), f"no record of which {code} texts this was translated from;"
                                     " once checked, record it (craftbot translate mark --locale"
                                     f" {located.file.parent.name} locale)", severity=severity)
        return
    now = locale_fingerprints(source)
    paths = {".".join(map(str, path)): path for path in locale_texts(source)}
    for key, fingerprint in now.items():
        if recorded.get(key) != fingerprint:
            what = "is new" if key not in recorded else "changed"
            yield located.diagnostic(paths[key], f"`{key}` {what} in {code} since this was translated;"
                                                 " translate it again", severity=severity, key=True)


def _stale(source: Module, module: Module, located: Located, recorded: dict[str, str] | None,
           code: str, *, strict: bool) -> Iterator[Diagnostic]:
    severity = "error" if strict else "warning"
    if recorded is None:
        yield located.diagnostic(("id",), f"no record of which {code} text this translation was made"
                                          " from; import it (craftbot translate import) or, once"
                                          " checked, record it (craftbot translate mark)",
                                 severity=severity)
        return
    now = source_fingerprints(source)
    if recorded.get(MODULE_KEY) != now[MODULE_KEY]:
        yield located.diagnostic(("title",), f"the title or description changed in {code} since this"
                                             " was translated; translate it again", severity=severity)
    for index, step in enumerate(module.steps):
        if step.id in now and recorded.get(step.id) != now[step.id]:
            what = "is new" if step.id not in recorded else "changed"
            yield located.diagnostic(("steps", index, "id"), f"step '{step.id}' {what} in {code} since"
                                     " this was translated; translate it again", severity=severity)


def compare_module(source: Any, located: Located, code: str, *, strict: bool = True) -> Iterator[Diagnostic]:
    """A translated module's differences from its source but for words, from their YAML data.

    Errors when `strict`; else warnings that say the source module is served meanwhile.
    """
    for problem in _differences(source, located, code):
        if strict:
            yield problem
        else:
            yield replace(problem, severity="warning",
                          message=f"{problem.message} (until then, the {code} module is served)")


def _differences(source: Any, located: Located, code: str) -> Iterator[Diagnostic]:
    data = located.data
    for key in sorted(set(source) | set(data)):
        if key == "steps" or key in MODULE_TEXTS:
            continue
        if source.get(key) != data.get(key):
            yield located.diagnostic((key,), f"`{key}` is {data.get(key)!r} here but {source.get(key)!r}"
                                             f" in {code}; a translation changes only the words", key=True)
    ids = [s.get("id") for s in source["steps"]]
    mine = [s.get("id") for s in data["steps"]]
    if ids != mine:
        yield located.diagnostic(("steps",), _steps_differ(ids, mine, code), key=True)
        return
    for index, (theirs, ours) in enumerate(zip(source["steps"], data["steps"], strict=True)):
        yield from _compare_node(theirs, ours, ("steps", index), located, code)
    for field in MODULE_TEXTS:
        yield from _compare_text(source.get(field), data.get(field), (field,), located, code)


def _steps_differ(ids: list[Any], mine: list[Any], code: str) -> str:
    missing = [i for i in ids if i not in mine]
    extra = [i for i in mine if i not in ids]
    if missing:
        return f"step(s) {', '.join(map(str, missing))} of {code} are missing here; add their translation"
    if extra:
        return f"step(s) {', '.join(map(str, extra))} are not in {code}; a translation has the same steps"
    return f"the steps are in another order than in {code}; keep the same order"


def _compare_node(source: Any, mine: Any, path: PathKey, located: Located, code: str) -> Iterator[Diagnostic]:
    """Compare one step (or option) field by field: words by shape, everything else exactly."""
    texts = OPTION_TEXTS if "options" in path else STEP_TEXTS
    for key in sorted(set(source) | set(mine), key=str):
        here = (*path, key)
        if key in texts:
            yield from _compare_text(source.get(key), mine.get(key), here, located, code)
        elif key == "coach_pieces" and isinstance(source.get(key), dict) and isinstance(mine.get(key), dict):
            if set(source[key]) != set(mine[key]):  # the stand-ins are words; their names are not
                yield located.diagnostic(here, f"`coach_pieces` names {sorted(mine[key])} here but"
                                               f" {sorted(source[key])} in {code}; translate the"
                                               " words only", key=True)
        elif key == "options" and isinstance(source.get(key), list) and isinstance(mine.get(key), list) \
                and len(source[key]) == len(mine[key]):
            for i, (theirs, ours) in enumerate(zip(source[key], mine[key], strict=True)):
                if isinstance(theirs, dict) and isinstance(ours, dict):
                    yield from _compare_node(theirs, ours, (*here, i), located, code)
        elif source.get(key) != mine.get(key):
            yield located.diagnostic(here, f"`{key}` is {mine.get(key)!r} here but {source.get(key)!r}"
                                           f" in {code}; a translation changes only the words",
                                     key=key in mine)


def _compare_text(source: Any, mine: Any, path: PathKey, located: Located, code: str) -> Iterator[Diagnostic]:
    """A translated text: present where the source's is, as many messages, the same placeholders."""
    if source is None or mine is None:
        if source is not mine:
            said = "has no" if mine is None else "has a"
            other = "has one" if mine is None else "has none"
            yield located.diagnostic(path, f"this {said} `{path[-1]}` but {code} {other};"
                                           " keep the same fields")
        return
    theirs = source if isinstance(source, list) else [source]
    ours = mine if isinstance(mine, list) else [mine]
    if isinstance(source, list) != isinstance(mine, list) or len(theirs) != len(ours):
        yield located.diagnostic(path, f"{len(ours)} message(s) here but {len(theirs)} in {code};"
                                       " translate message for message")
        return
    for i, (a, b) in enumerate(zip(theirs, ours, strict=True)):
        want, got = sorted(placeholders(str(a))), sorted(placeholders(str(b)))
        if want != got:
            at = (*path, i) if isinstance(source, list) else path
            yield located.diagnostic(at, _placeholders_differ(want, got, code))


def _placeholders_differ(want: list[str], got: list[str], code: str) -> str:
    shown = ", ".join(f"{{{n}}}" for n in want) or "none"
    lost = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    detail = (f"{{{lost[0]}}} is missing" if lost else f"{{{extra[0]}}} is not in {code}" if extra
              else "a placeholder is used another number of times")
    return f"the placeholders differ from {code} ({shown}): {detail}; keep them exactly, untranslated"


def _compare_ui(source: dict[str, str], mine: dict[str, str], located: Located,
                code: str) -> Iterator[Diagnostic]:
    for key, text in mine.items():
        if key in source and set(placeholders(text)) != set(placeholders(source[key])):
            yield located.diagnostic(("ui", key), _placeholders_differ(
                sorted(set(placeholders(source[key]))), sorted(set(placeholders(text))), code))


# -- saved choices, shown in the person's language ---------------------------------------------------

def value_labels(content: LocaleContent, source: LocaleContent) -> dict[str, dict[str, str]]:
    """Per saved key, each text value's button label in a translated locale's own modules.

    Values are structure, the same in every locale, and lessons in the source locale may show
    them as words ("one goal for {self_care_focus}" with the value "your emotional life"); in a
    translation the person's own button label stands in for them ("Emociones").
    """
    labels: dict[str, dict[str, str]] = {}
    for module_id, module in content.modules.items():
        if module is source.modules.get(module_id):
            continue
        for step in module.steps:
            save = getattr(step, "save", None)
            for option in getattr(step, "options", ()):
                value = getattr(option, "value", None)
                if save and isinstance(value, str):
                    labels.setdefault(save, {})[value] = option.label
    return labels


def labelled(answers: Mapping[str, Any], labels: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The answers with each saved choice (or list of them) shown by its label."""
    def shown(key: str, value: Any) -> Any:
        names = labels.get(key)
        if not names:
            return value
        if isinstance(value, list):
            return [names.get(v, v) if isinstance(v, str) else v for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    return {key: shown(key, value) for key, value in answers.items()}
