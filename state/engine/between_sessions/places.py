"""Place names people type for where they live, in English and Spanish: countries and cities.

Countries come from tzdata's own tables (no new data to keep): `iso3166.tab` gives each
country's English name, `zone1970.tab` its zones. A country resolves to the zone of its row
that lists it first (tzdata lists first the country whose most populous city the zone is
named for): Germany → Europe/Berlin, Nigeria → Africa/Lagos. A country with several such
zones resolves to the first, which tzdata puts first for being the most populous where
geography allows (México → America/Mexico_City, España → Europe/Madrid); the reply names the
zone, and /reminders changes it. Countries' names in English and Spanish, and the cities
zones are named for as each language writes them ("Ciudad de México", "Nueva York"), come
from CLDR through Babel.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

from babel import Locale

LANGUAGES = ("en", "es")  # the languages whose place names are known


def fold(text: str) -> str:
    """Lower case without accents or punctuation, single spaces: how place names are compared."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _table(name: str) -> list[list[str]]:
    """The rows of one of tzdata's tab-separated tables, comments left out."""
    text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def country_zones() -> dict[str, str]:
    """ISO country code -> the zone a person naming only the country most likely lives by."""
    found: dict[str, str] = {}
    for codes, _, zone, *_ in _table("zone1970.tab"):
        found.setdefault(codes.split(",")[0], zone)
    return found


@cache
def place_names() -> dict[str, str]:
    """Folded country or city name, in English or Spanish -> IANA zone."""
    zones = country_zones()
    table: dict[str, str] = {}
    for code, name, *_ in _table("iso3166.tab"):
        if code in zones:
            table.setdefault(fold(name), zones[code])
    for language in LANGUAGES:
        locale = Locale(language)
        for code, name in locale.territories.items():
            if code in zones:
                table.setdefault(fold(name), zones[code])
        for zone, names in locale.time_zones.items():
            city = names.get("city")
            if isinstance(city, str):
                table.setdefault(fold(city), zone)
    return table


def city_name(zone: str, language: str) -> str | None:
    """The city a zone is named for, as CLDR writes it in a language ("Ciudad de México")."""
    try:
        names = Locale.parse(language.split("-")[0]).time_zones.get(zone) or {}
    except (ValueError, LookupError):
        return None
    city = names.get("city")
    return city if isinstance(city, str) else None
