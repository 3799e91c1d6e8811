"""Dates and numbers as each locale writes them, from CLDR through Babel.

The bot's own texts take values the engine formats (`{started}` in /mydata, `{limit}` in
"too long"); these functions write them the locale's way: "Dec 6, 2026" and "3,000" in
English, "6 dic 2026" in Spanish. A locale code the curriculum uses (`es-MX`) is read as
CLDR's (`es_MX`); a bare language (`es`) as spoken in the United States (`es_US`: "3,000",
as US Latino families write it), where craftbot serves by default; a code CLDR does not know
falls back to English.
"""

from __future__ import annotations

from datetime import UTC, datetime

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal

FALLBACK = "en"
TERRITORY = "US"  # the region a bare language code is read for (the crisis lines' default too)


def _cldr(locale: str) -> Locale:
    """The CLDR locale for a curriculum's locale code (a bare language: as spoken in TERRITORY)."""
    code = locale.replace("-", "_")
    for candidate in (code,) if "_" in code else (f"{code}_{TERRITORY}", code):
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(FALLBACK)


def day(epoch: float, locale: str) -> str:
    """A calendar day (UTC) the locale's medium way: "Dec 6, 2026", "6 dic 2026"."""
    return format_date(datetime.fromtimestamp(epoch, UTC).date(), "medium", locale=_cldr(locale))


def number(value: int | float, locale: str) -> str:
    """A number with the locale's digit grouping and decimal sign: "3,000", "3000", "2,5"."""
    return format_decimal(value, locale=_cldr(locale))

