"""Crisis lines in the curriculum: the placeholders the configured resources fill, and the check
that no text writes a number itself.

Numbers differ from region to region, so a lesson names a crisis line by its role and the
operator's configuration (`crisis.resources`) says which line that is. Each resource `key`
fills three placeholders:

    {key}           the number to call ("911", "988", "1-800-799-7233")
    {key_name}      what the line is called ("National Domestic Violence Hotline")
    {key_details}   every way to reach it and what it is for (text, chat, TTY, hours)

The roles every lesson may rely on are `ROLES`; the United States defaults fill them all, and
validation without a configuration checks against them. A configuration may add more keys.
`check_numbers` is the validation pass: a number written out (`state.curriculum.phones`) is an
error at its exact place, and so is a placeholder of a role the configuration does not fill.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from state.curriculum.crisis import crisis_texts
from state.curriculum.diagnostics import Diagnostic
from state.curriculum.model import Curriculum, LocaleContent
from state.curriculum.phones import Literal, literal_numbers
from state.curriculum.schema import placeholders
from state.curriculum.yamlsource import Located, PathKey

# emergency: police, ambulance, fire; lifeline: suicide and crisis line; dv_hotline: domestic
# violence; treatment_line: treatment referral (SAMHSA's National Helpline in the US).
ROLES = ("emergency", "lifeline", "dv_hotline", "treatment_line")
# Routes to people, not crisis lines: counsellor (a counsellor who knows CRAFT), family_groups
# (Al-Anon, Nar-Anon, SMART Family & Friends), treatment_locator (a map of treatment near you).
# They fill placeholders like the roles, but never show in a crisis message (config `people:`).
PEOPLE = ("counsellor", "family_groups", "treatment_locator")
US_KEYS = frozenset((*ROLES, *PEOPLE))  # the keys of the US defaults (state.engine.safety.detection)
ALIASES = {"samhsa": "treatment_line"}  # keys of earlier configurations, still understood
NAME, DETAILS = "_name", "_details"
# Module fields that are not text people read: ids, targets, saved keys, values, conditions.
STRUCTURE = frozenset({"id", "kind", "next", "start", "save", "suggest", "requires", "otherwise",
                       "when", "open_when", "value", "set"})
LOCALE_TEXTS = ("ui", "defaults", "commands", "discreet")  # locale.yaml sections read as text
TEXT_SPAN = 5000  # characters: a text is shorter than Telegram's 4096 plus its quoting


def canonical(key: str) -> str:
    """A resource key as lessons name it (`samhsa` is `treatment_line`)."""
    return ALIASES.get(key, key)


def placeholders_of(key: str) -> tuple[str, str, str]:
    """The placeholders one resource fills: its number, its name, its details."""
    return key, key + NAME, key + DETAILS


def filled_by(keys: Iterable[str]) -> frozenset[str]:
    """Every placeholder name the resources with these keys fill."""
    return frozenset(name for key in keys for name in placeholders_of(canonical(key)))


def role_of(placeholder: str) -> str | None:
    """The role a placeholder names (`lifeline` for `{lifeline_details}`), or None."""
    for suffix in (NAME, DETAILS):
        if placeholder.endswith(suffix) and placeholder.removesuffix(suffix) in ROLES:
            return placeholder.removesuffix(suffix)
    return placeholder if placeholder in ROLES else None


def check_numbers(curriculum: Curriculum, resources: Collection[str] = US_KEYS) -> list[Diagnostic]:
    """Numbers written out, and crisis-line placeholders that `resources` (keys) leave unfilled."""
    keys = frozenset(canonical(k) for k in resources)
    out: list[Diagnostic] = []
    raw = _RawFiles()
    for content in curriculum.locales.values():
        missing: dict[str, list[tuple[Located, PathKey, str]]] = {}
        for source, path, text in _texts(content):
            found = literal_numbers(text)
            places = raw.places(source, path, [f.text for f in found]) if found else []
            out.extend(Diagnostic(str(source.file), line, col, "error", _advice(literal))
                       for literal, (line, col) in zip(found, places, strict=True))
            for name in placeholders(text):
                role = role_of(name)
                if role is not None and role not in keys:
                    missing.setdefault(role, []).append((source, path, name))
        out.extend(_unfilled(role, uses, raw) for role, uses in missing.items())
    return out


def _texts(content: LocaleContent) -> Iterator[tuple[Located, PathKey, str]]:
    """Every text people may read in a locale, with its file and place in it."""
    for module in content.sources.values():
        yield from ((module, path, text) for path, text in _strings(module.data, ()))
    locale = content.locale_source
    if locale is None or content.locale is None or not isinstance(locale.data, dict):
        return
    for section in LOCALE_TEXTS:
        yield from ((locale, p, t) for p, t in _strings(locale.data.get(section), (section,)))
    yield from ((locale, path, text) for path, text in crisis_texts(content.locale.crisis))
    for label, text in content.locale.crisis.safety_plan.items():
        yield locale, ("crisis", "safety_plan", label), text


def _strings(data: Any, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            if key not in STRUCTURE:
                yield from _strings(value, (*path, key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _strings(item, (*path, i))


def _advice(literal: Literal) -> str:
    use = {"emergency number": "{emergency} (or {lifeline} for the crisis line)",
           "SMS short code": "the line's details, such as {dv_hotline_details}"
           }.get(literal.kind, "the line's placeholder: {lifeline}, {dv_hotline}, {treatment_line},"
                               " or its details, such as {dv_hotline_details}")
    return (f"the {literal.kind} '{literal.text}' is written out, but numbers differ by region;"
            f" write {use}, filled from the configured crisis lines")


class _RawFiles:
    """The files' own text, read once, to point inside a text at what was found there."""

    def __init__(self) -> None:
        self.text: dict[Path, str] = {}

    def places(self, source: Located, path: PathKey, needles: list[str]) -> list[tuple[int, int]]:
        """The (line, column) of each needle, in order, within the text at `path`.

        A needle not found as written (escaped, or folded over lines) gets the text's own place.
        """
        if source.file not in self.text:
            self.text[source.file] = source.file.read_text(encoding="utf-8")
        raw = self.text[source.file]
        node = source.where(path)
        start = cursor = _offset(raw, *node)
        out = []
        for needle in needles:
            index = raw.find(needle, cursor)
            if index == -1 or index - start > TEXT_SPAN:
                out.append(node)
                continue
            cursor = index + len(needle)
            out.append((raw.count("\n", 0, index) + 1, index - raw.rfind("\n", 0, index)))
        return out


def _offset(raw: str, line: int, col: int) -> int:
    start = 0
    for _ in range(line - 1):
        start = raw.find("\n", start) + 1
    return start + col - 1


def _unfilled(role: str, uses: list[tuple[Located, PathKey, str]], raw: _RawFiles) -> Diagnostic:
    source, path, name = uses[0]
    line, col = raw.places(source, path, ["{" + name + "}"])[0]
    more = f" (and {len(uses) - 1} more use(s))" if len(uses) > 1 else ""
    return Diagnostic(str(source.file), line, col, "error",
                      f"{{{name}}}{more} is filled from the crisis line '{role}', which the"
                      " configured crisis resources do not have; add"
                      f" `{role}:` under crisis.resources in the configuration (see"
                      " config.example.yaml), or leave the placeholder out")
