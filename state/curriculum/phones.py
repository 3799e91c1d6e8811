"""Phone numbers, SMS short codes and emergency numbers written out in a curriculum text.

Lessons never write a crisis number themselves: numbers differ from region to region, so
they come from the configured crisis resources through placeholders (`state.curriculum.helplines`).
`literal_numbers` finds what was written out anyway, for validation:

- phone numbers in North-American and international formats: `1-800-799-7233`,
  `(800) 799-7233`, `+44 20 7946 0958`, `0808 2000 247`, `116 123`;
- SMS short codes: `text START to 88788`, `text 741741`;
- emergency numbers written alone: 911, 988, 112, 999, 000, 110, 111, 119.

It leaves alone what only looks like one: times (19:00, 21:00-09:00), years and year ranges
(1999, 2003-2005), dates (2024-05-01), percentages (64%), money ($999), decimals, ranges on a
scale (1-10), counts with thousands separators (10,000 or 1 200 000), and digits inside a word
or a web address (988lifeline.org).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMERGENCY_NUMBERS = ("911", "988", "112", "999", "000", "110", "111", "119")
_SEP = r"[ .\-\u00a0\u2011]"  # between groups of digits: space, dot, hyphen, no-break forms
# Not inside a word, a decimal, a time, an address, an amount or a range; the same after it.
_BEFORE = r"(?<![\w.,:/+$£€%\-\u2011])"
_AFTER = r"(?![\w%:]|[.,]\d|[\-\u2011]\w)"
PHONE = re.compile(
    _BEFORE + r"(?:\+\d{1,3}" + _SEP + r"?)?(?:\(\d{1,5}\)" + _SEP + r"?)?\d{1,5}"
    r"(?:" + _SEP + r"\d{1,5}){1,5}" + _AFTER)
SHORT_CODE = re.compile(r"\b(?:text|txt|sms)\s+(?:[\"'“‘]?\w+[\"'”’]?\s+to\s+|to\s+)?\d{4,6}\b", re.I)
EMERGENCY = re.compile(
    _BEFORE + r"(?<!\d[ \u00a0])(?:" + "|".join(EMERGENCY_NUMBERS) + r")" + _AFTER
    + r"(?![ \u00a0]\d{3}(?!\d))")
YEARS = re.compile(r"(?:1[89]|20)\d\d(?:[\-\u2011](?:1[89]|20)\d\d)?")
DATE = re.compile(r"\d{4}-\d\d-\d\d")
THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:(?P<sep>[ .\u00a0])\d{3})(?:(?P=sep)\d{3})*")
EU_HELPLINE = re.compile(r"116" + _SEP + r"?\d{3}")  # the European 116 numbers (116 123)
MIN_DIGITS = 6  # fewer is a count, a range or a time, not a phone number


@dataclass(frozen=True)
class Literal:
    """A number written out in a text: where it starts and ends, what it is, and its words."""

    start: int
    end: int
    kind: str  # "phone number", "SMS short code" or "emergency number"
    text: str


def literal_numbers(text: str) -> list[Literal]:
    """Every phone number, short code and lone emergency number in `text`, in order."""
    found: list[Literal] = []
    for match in SHORT_CODE.finditer(text):
        found.append(Literal(match.start(), match.end(), "SMS short code", match.group()))
    for match in PHONE.finditer(text):
        if is_phone(match.group()) and not _overlaps(match, found):
            found.append(Literal(match.start(), match.end(), "phone number", match.group()))
    for match in EMERGENCY.finditer(text):
        if not _overlaps(match, found):
            found.append(Literal(match.start(), match.end(), "emergency number", match.group()))
    return sorted(found, key=lambda f: f.start)


def is_phone(candidate: str) -> bool:
    """Whether digit groups matched by `PHONE` are a phone number rather than a figure."""
    digits = sum(c.isdigit() for c in candidate)
    if digits < MIN_DIGITS:
        return False
    if candidate.startswith(("+", "(")) or EU_HELPLINE.fullmatch(candidate):
        return True
    return not (YEARS.fullmatch(candidate) or DATE.fullmatch(candidate)
                or THOUSANDS.fullmatch(candidate))


def _overlaps(match: re.Match[str], found: list[Literal]) -> bool:
    return any(match.start() < f.end and f.start < match.end() for f in found)
