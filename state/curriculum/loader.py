"""Loading a curriculum folder: `curriculum/<locale>/locale.yaml` plus one file per module.

Pass one (here) checks each file's shape against `state.curriculum.schema` and turns pydantic's
errors into `file:line:col` diagnostics that say how to fix them. Pass two
(`state.curriculum.crossref`) checks references between steps and modules, and
`state.curriculum.helplines` that no text writes a crisis number itself. `load_curriculum` runs them all
and raises `CurriculumError` when anything is an error, so nothing invalid is ever served.
"""

from __future__ import annotations

import difflib
import hashlib
import types
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from state.curriculum.coaching import COACHING_FILE, Coaching, check_file, check_steps, compile_coaching
from state.curriculum.crossref import check_references
from state.curriculum.diagnostics import CurriculumError, Diagnostic
from state.curriculum.helplines import US_KEYS, check_numbers
from state.curriculum.locales import SOURCES_FILE, check_locales, fill_from_source, source_locale
from state.curriculum.model import Curriculum, LocaleContent
from state.curriculum.pacing import check_pacing
from state.curriculum.schema import STEP_KINDS, Locale, Module, TextStep
from state.curriculum.versions import MOVES_FILE, read_moves
from state.curriculum.yamlsource import Located, PathKey, load_located

LOCALE_FILE = "locale.yaml"


def read_curriculum(root: Path, default_locale: str = "en", resources: Collection[str] = US_KEYS,
                    *, strict: bool = False) -> tuple[Curriculum, list[Diagnostic]]:
    """Read and check a curriculum folder; return it with every diagnostic found.

    `resources`: the keys of the configured crisis lines, which fill `{lifeline}` and the
    like (default: those of the United States defaults). `strict`: a translation that is
    stale or missing modules is an error, not a warning (`state.curriculum.locales`).
    """
    problems: list[Diagnostic] = []
    locales: dict[str, LocaleContent] = {}
    digest = hashlib.sha256()
    if not root.is_dir():
        problems.append(Diagnostic(str(root), 1, 1, "error",
                                   "no such curriculum folder; give the folder that holds en/ ..."))
    for folder in locale_folders(root):
        content = LocaleContent(folder.name, folder)
        locales[folder.name] = content
        for file in sorted(folder.glob("*.yaml")):
            digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
            if file.name == COACHING_FILE:
                _read_coaching(file, content, problems)
            elif file.name not in (MOVES_FILE, SOURCES_FILE):  # not modules: read below
                _read_file(file, content, problems)
        problems.extend(Diagnostic(str(file), 1, 1, "warning", "this file is ignored: curriculum"
                                   f" files end in .yaml; rename it to {file.stem}.yaml")
                        for file in sorted(folder.glob("*.yml")))
    if root.is_dir() and not locales:
        looks_like_locale = any(root.glob("*.yaml"))
        problems.append(Diagnostic(str(root), 1, 1, "error", (
            f"this is one locale's folder; give the folder above it ({root.resolve().parent})"
            if looks_like_locale else "no locale folders found; put modules in a folder such as en/"
        )))
    curriculum = Curriculum(root, locales, default_locale, digest.hexdigest()[:12])
    problems.extend(fill_from_source(curriculum, strict=strict))  # a partial locale: source modules
    problems.extend(check_references(curriculum, resources))
    problems.extend(_check_coached_steps(curriculum))
    problems.extend(check_numbers(curriculum, resources))
    problems.extend(read_moves(curriculum))
    problems.extend(check_locales(curriculum, strict=strict))
    problems.extend(check_pacing(curriculum))  # long runs of messages without a button (warnings)
    curriculum.warnings = sorted(p for p in problems if not p.is_error)
    return curriculum, sorted(set(problems))


def locale_folders(root: Path) -> list[Path]:
    """The locale folders of a curriculum, sorted: not hidden, not `_private`, not `tests`."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")) and p.name != "tests")


def own_default_locale(root: Path) -> str:
    """The locale a curriculum falls back to when no settings name one: `en` if it has it (as
    the settings' default does), else its first locale folder."""
    codes = [folder.name for folder in locale_folders(root)]
    return "en" if "en" in codes or not codes else codes[0]


def load_curriculum(root: Path, default_locale: str = "en",
                    resources: Collection[str] = US_KEYS) -> Curriculum:
    """Load a curriculum for serving; raise CurriculumError if it has any error.

    `resources`: the keys of the configured crisis lines (see `read_curriculum`).
    """
    curriculum, problems = read_curriculum(root, default_locale, resources)
    if any(p.is_error for p in problems):
        raise CurriculumError(problems)
    return curriculum


def _read_coaching(file: Path, content: LocaleContent, problems: list[Diagnostic]) -> None:
    """A locale's coaching.yaml: shape here, then what `state.curriculum.coaching` checks."""
    located, syntax = load_located(file)
    problems.extend(syntax)
    if located is None:
        return
    content.coach_source = located
    try:
        coaching = Coaching.model_validate(located.data)
    except ValidationError as exc:
        problems.extend(_translate(exc, located, Coaching))
        return
    found = list(check_file(coaching, located))
    problems.extend(found)
    if not any(p.is_error for p in found):
        content.coach = compile_coaching(coaching)


def _check_coached_steps(curriculum: Curriculum) -> list[Diagnostic]:
    """Every `coach:` names a pattern of its locale's coaching.yaml.

    A translation without coaching.yaml serves its rehearsals uncoached: modules it borrows
    from the source locale are not its mistake, and its own are only warned about.
    """
    out: list[Diagnostic] = []
    source = source_locale(curriculum)
    for code, content in curriculum.locales.items():
        for module_id, module in content.modules.items():
            located = content.sources.get(module_id)
            if located is None or located.file.parent != content.folder:
                continue  # borrowed from the source locale: checked there
            if content.coach_source is not None and content.coach is None:
                continue  # coaching.yaml is broken: its own errors say how
            steps = [(s, ("steps", i)) for i, s in enumerate(module.steps) if isinstance(s, TextStep)]
            coaching = content.coach.source if content.coach else None
            found = check_steps(coaching, steps, located, code)
            out.extend(d if coaching or code == source else replace(d, severity="warning")
                       for d in found)
    return out


def _read_file(file: Path, content: LocaleContent, problems: list[Diagnostic]) -> None:
    located, syntax = load_located(file)
    problems.extend(syntax)
    is_locale = file.name == LOCALE_FILE
    if located is None:
        if not is_locale:
            content.rejected[file.stem] = None
        return
    if not isinstance(located.data, dict):
        what = "a list" if isinstance(located.data, list) else "a single value"
        fields = "locale:, name:, crisis:, ui:" if is_locale else "id:, title:, steps: ..."
        problems.append(located.diagnostic((), f"the file holds {what}, but it must hold fields"
                                               f" ({fields}); start each field at the left margin"
                                               " with no '- ' in front"))
        if not is_locale:
            content.rejected[file.stem] = None
        return
    model: type[BaseModel] = Locale if is_locale else Module
    try:
        parsed = model.model_validate(located.data)
    except ValidationError as exc:
        problems.extend(_translate(exc, located, model))
        if not is_locale:
            module_id = located.data.get("id")
            content.rejected[module_id if isinstance(module_id, str) else file.stem] = located.data
        return
    if isinstance(parsed, Locale):
        content.locale, content.locale_source = parsed, located
        return
    assert isinstance(parsed, Module)
    if parsed.id in content.modules:
        other = content.sources[parsed.id].file.name
        problems.append(located.diagnostic(("id",), f"module id '{parsed.id}' is already used by"
                                                    f" {other}; give each module its own id"))
        return
    content.modules[parsed.id] = parsed
    content.sources[parsed.id] = located


TYPE_ERRORS = {
    "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "bool_type": "true or false",
    "bool_parsing": "true or false", "float_type": "a number", "float_parsing": "a number",
    "list_type": "a list (lines starting with '- ')", "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
}

PydanticError = tuple[PathKey, ErrorDetails]


def _translate(exc: ValidationError, located: Located, model: type[BaseModel]) -> list[Diagnostic]:
    """Pydantic's errors as diagnostics at the right place, one per mistake."""
    found = [(_known_path(tuple(e["loc"]), located, missing=e["type"] == "missing"), e)
             for e in exc.errors()]
    found = _without_union_noise(found)
    out: list[Diagnostic] = []
    typed: dict[PathKey, list[ErrorDetails]] = {}
    extra = [path for path, err in found if err["type"] == "extra_forbidden"]
    guesses = {path: _close_field(path, located, model) for path in extra}
    for path, err in found:
        kind = err["type"]
        if kind in TYPE_ERRORS:
            typed.setdefault(path, []).append(err)
        elif kind == "extra_forbidden":
            guess = guesses[path]
            hint = f"did you mean '{guess}'?" if guess else "remove it or check its spelling"
            out.append(located.diagnostic(path, f"unknown field '{path[-1]}'; {hint}", key=True))
        elif kind == "missing":
            if any(g == path[-1] and p[:-1] == path[:-1] for p, g in guesses.items()):
                continue  # the misspelt field above already says what to write
            out.append(located.diagnostic(path, _missing(path, located)))
        else:
            at = (*path, "kind") if kind == "union_tag_invalid" else path
            out.append(located.diagnostic(at, _other_error(path, err, located)))
    for path, errs in typed.items():
        out.append(located.diagnostic(path, _wrong_type(path, errs)))
    return out


def _wrong_type(path: PathKey, errs: list[ErrorDetails]) -> str:
    """One message for a value that fits none of the types its field allows."""
    given = errs[0]["input"]
    if given is None:
        return f"{_name(path)} has no value; write it after the colon"
    wanted = " or ".join(dict.fromkeys(TYPE_ERRORS[e["type"]] for e in errs))
    quote = " (put it in quotes)" if wanted == "text" and not isinstance(given, list | dict) else ""
    return f"{_name(path)} must be {wanted}, not {given!r}{quote}"


def _without_union_noise(found: list[PydanticError]) -> list[PydanticError]:
    """Drop the type errors of union members that the value plainly was not meant to be.

    For `text: [a, 5]` pydantic reports both "not a string" (the `str` member) and "item 2 is
    not a string" (the `list[str]` member); only the deeper, more specific one helps.
    """
    def explained(path: PathKey, err: ErrorDetails) -> bool:
        return err["type"] in TYPE_ERRORS and any(
            other[: len(path)] == path and (len(other) > len(path) or e["type"] not in TYPE_ERRORS)
            for other, e in found if e is not err)

    return [(path, err) for path, err in found if not explained(path, err)]


def _known_path(loc: PathKey, located: Located, *, missing: bool = False) -> PathKey:
    """The path in the file that a pydantic location points at.

    Pydantic's locations also name union members (`message`, `str`, `list[str]` ...) and
    use field names for aliases (`in_`); those parts are dropped or translated by walking the
    data itself. A missing field keeps its name as the last part so the message can say it.
    """
    path: PathKey = ()
    node: Any = located.data
    for i, part in enumerate(loc):
        if isinstance(node, dict):
            key = "in" if part == "in_" else part
            is_tag = len(path) >= 2 and path[-2] == "steps" and node.get("kind") == part
            if key in node and not is_tag:
                path, node = (*path, key), node[key]
                continue
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path, node = (*path, part), node[part]
            continue
        if missing and i == len(loc) - 1:
            path = (*path, part)
    return path


def _name(path: PathKey) -> str:
    """How a message names the value at `path`: `'next'`, `item 2 of 'text'`, `the step`."""
    if not path:
        return "the file"
    if isinstance(path[-1], int):
        parent = f"'{path[-2]}'" if len(path) > 1 else "the file"
        return f"item {path[-1] + 1} of {parent}"
    return f"'{path[-1]}'"


def _step_id(path: PathKey, located: Located) -> str | None:
    """The id of the step that `path` lies in, if any."""
    if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
        step = located.data["steps"][path[1]]
        if isinstance(step, dict) and isinstance(step.get("id"), str):
            return str(step["id"])
    return None


FIELD_HINTS = {
    "next": "the id of the step that comes after this one",
    "save": "the name its answer is kept under, such as `stress`",
    "otherwise": "the step to go to when no case holds",
    "explain": "why this answer is right or not",
    "label": "the text on the button",
    "key": "the saved answer to test",
    "id": "lowercase letters, digits and _",
    "title": "the name people see in the menu",
    "description": "one sentence on what the module teaches",
    "order": "its place in the menu, a whole number",
    "minutes": "about how long it takes, a whole number",
    "steps": "the list of steps",
    "options": "the list of buttons",
    "locale": "the language code, such as en",
    "name": "the language's own name, such as English",
    "crisis": "phrases: and message:",
    "ui": "the bot's own words",
}


def _missing(path: PathKey, located: Located) -> str:
    name = str(path[-1])
    hint = f" ({FIELD_HINTS[name]})" if name in FIELD_HINTS else ""
    step = _step_id(path, located)
    if step and len(path) == 3:
        where = f"step '{step}'"
    else:
        where = "this file" if len(path) == 1 else _name(path[:-1])
    return f"{where} has no `{name}:`; add `{name}:`{hint}"


def _other_error(path: PathKey, err: ErrorDetails, located: Located) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    if kind == "union_tag_invalid":
        got = str(ctx.get("tag", "?"))
        guess = difflib.get_close_matches(got, STEP_KINDS, n=1, cutoff=0.5)
        hint = f"did you mean '{guess[0]}'? " if guess else ""
        return f"unknown step kind '{got}'; {hint}the kinds are: {', '.join(STEP_KINDS)}"
    if kind == "union_tag_not_found":
        return "this step has no `kind:`; add one of " + ", ".join(STEP_KINDS)
    if kind == "string_pattern_mismatch":
        return (f"'{err['input']}' is not a valid id: use lowercase letters, digits and _,"
                " starting with a letter")
    if kind in ("too_short", "string_too_short"):
        least = ctx.get("min_length", 1)
        return f"{_name(path)} is empty; give it at least {least} item(s)" if kind == "too_short" \
            else f"{_name(path)} must not be empty; write it"
    if kind == "string_too_long":
        return (f"{_name(path)} is {len(err['input'])} characters; keep it to at most"
                f" {ctx.get('max_length')}")
    if kind == "too_long":
        return f"{_name(path)} has too many items; keep it to at most {ctx.get('max_length')}"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = "at least" if kind == "greater_than_equal" else "at most"
        limit = ctx.get("ge", ctx.get("le"))
        return f"{_name(path)} is {err['input']!r}; it must be {bound} {limit}"
    message = str(err["msg"]).removeprefix("Value error, ")
    step = _step_id(path, located)
    if step and len(path) == 2:
        return f"step '{step}': {message}"
    return f"{_name(path)}: {message}" if path else message


def _close_field(path: PathKey, located: Located, root: type[BaseModel]) -> str | None:
    """The allowed field name closest to the unknown one at `path`, if any is close."""
    model = _model_at(path[:-1], located.data, root)
    if model is None:
        return None
    allowed = [f.alias or n for n, f in model.model_fields.items()]
    guess = difflib.get_close_matches(str(path[-1]), allowed, n=1)
    return guess[0] if guess else None


def _model_at(path: PathKey, data: Any, root: type[BaseModel]) -> type[BaseModel] | None:
    """The schema model that describes the mapping at `path` of the data, if one does."""
    annotation: Any = root
    node = data
    for part in path:
        if isinstance(part, int):
            annotation = next((get_args(a)[0] for a in _members(annotation)
                               if get_origin(a) is list), None)
        else:
            model = _pick(annotation, node)
            fields = model.model_fields if model else {}
            annotation = next((f.annotation for n, f in fields.items() if (f.alias or n) == part),
                              None)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return _pick(annotation, node)


def _members(annotation: Any) -> list[Any]:
    """The members of a (possibly annotated) union, or the annotation itself."""
    if get_origin(annotation) is Annotated:
        return _members(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _pick(annotation: Any, node: Any) -> type[BaseModel] | None:
    """The model among a union's members that fits a mapping (steps by their `kind`)."""
    models = [m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)]
    if len(models) > 1 and isinstance(node, dict):
        models = [m for m in models if "kind" in m.model_fields
                  and node.get("kind") in get_args(m.model_fields["kind"].annotation)]
    return models[0] if len(models) == 1 else None
