"""Each person's local time: time zones from a tap or a city name, preferred times, quiet hours.

Everything here is pure arithmetic on epoch seconds (UTC) and IANA zone names, using the
standard `zoneinfo` with the `tzdata` package, so it works the same on every server and
in every test. Reminders are stored in UTC; a person's time zone, preferred time and quiet
hours are applied when a reminder is planned and checked again when it is sent.

A city is resolved in this order: an IANA name ("Europe/Berlin"); the small table in
`cities.tsv` (big cities and US states that are not zone names, and zone nicknames such
as "eastern" or "PST"); the city part of every IANA zone ("Manila" from "Asia/Manila");
countries, and zone cities as English and Spanish write them (`places`: "Alemania",
"México", "Nueva York"); then the same lists allowing a small typo. "Köln, Deutschland"
is tried whole, then by its first part, then by its last.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from state.engine.between_sessions.places import city_name, fold, place_names

TIME_RE = re.compile(r"^\s*(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\s*$", re.IGNORECASE)
RANGE_RE = re.compile(r"^\s*(.+?)\s*(?:-|–|—|to|until)\s*(.+?)\s*$", re.IGNORECASE)


_fold = fold  # lower case, no accents or punctuation: how place names are compared


@cache
def _city_table() -> dict[str, str]:
    """Folded city (or nickname) -> IANA zone: the data file first, then every zone's city part."""
    table: dict[str, str] = {}
    for zone in sorted(zoneinfo.available_timezones()):
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/")):
            table.setdefault(_fold(zone.rsplit("/", 1)[1].replace("_", " ")), zone)
    for name, zone in place_names().items():  # countries; zone cities in English and Spanish
        table.setdefault(name, zone)
    text = resources.files("state.engine.between_sessions").joinpath("cities.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            name, zone = line.split("\t")
            table[_fold(name)] = zone.strip()  # the data file wins over a zone's city part
    return table


def valid_zone(name: object) -> bool:
    """Whether `name` is an IANA time zone name this machine knows."""
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # "Australia" is a folder
        return False
    return True


def resolve_zone(text: str) -> str | None:
    """The IANA zone for a typed city, state, zone nickname or zone name; None if unknown."""
    raw = text.strip()
    if valid_zone(raw) and "/" in raw:
        return raw
    wanted = _fold(raw)
    if not wanted:
        return None
    table = _city_table()
    if wanted in table:
        return table[wanted]
    parts = [_fold(part) for part in raw.split(",")]
    for part in (parts[0], parts[-1]):  # "Austin, Texas" -> "austin"; "Lyon, Francia" -> "francia"
        if part in table:
            return table[part]
    close = difflib.get_close_matches(wanted, table.keys(), n=1, cutoff=0.85)
    return table[close[0]] if close else None


def zone_label(zone: str, language: str = "en") -> str:
    """A zone name as people read it: "America/New_York" -> "New York (America)"; in another
    language, its city as CLDR writes it ("Nueva York")."""
    if "/" not in zone:
        return zone
    if not language.startswith("en"):
        city = city_name(zone, language)
        if city:
            return city
    region, _, city = zone.partition("/")
    return f"{city.replace('_', ' ').replace('/', ', ')} ({region.replace('_', ' ')})"


# -- times of day --------------------------------------------------------------------------


def parse_time(text: str) -> int | None:
    """Minutes after midnight for "19:30", "7:30 pm", "7pm", "7.30" or "19"; None if not a time."""
    match = TIME_RE.match(text.replace("o'clock", ""))
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").lower().replace(".", "")
    if minute > 59 or hour > 24 or (suffix and not 1 <= hour <= 12):
        return None
    if suffix == "pm" and hour != 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    return (hour % 24) * 60 + minute


def parse_range(text: str) -> tuple[int, int] | None:
    """Quiet hours as (start, end) minutes from "21:00-09:00", "22-7" or "10pm to 7am"."""
    match = RANGE_RE.match(text)
    if not match:
        return None
    start, end = parse_time(match.group(1)), parse_time(match.group(2))
    if start is None or end is None or start == end:
        return None
    return start, end


def hhmm(minutes: int) -> str:
    """Minutes after midnight as "HH:MM"."""
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def range_text(quiet: tuple[int, int]) -> str:
    """Quiet hours as "21:00–09:00"."""
    return f"{hhmm(quiet[0])}–{hhmm(quiet[1])}"


# -- local time arithmetic ------------------------------------------------------------------


def local(epoch: float, zone: str) -> datetime:
    """The wall-clock time in `zone` at an epoch second."""
    return datetime.fromtimestamp(epoch, ZoneInfo(zone))


def local_day(epoch: float, zone: str) -> date:
    """The calendar day in `zone` at an epoch second."""
    return local(epoch, zone).date()


def at_local(day: date, minutes: int, zone: str) -> float:
    """The epoch second of `minutes` after midnight on `day` in `zone`.

    A time skipped by a daylight-saving change (02:30 on the spring-forward night) is read
    with the offset before the change, which lands an hour later on the clock: never lost.
    """
    wall = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=ZoneInfo(zone))
    return wall.timestamp()


def next_at(after: float, minutes: int, zone: str, *, days: int = 0) -> float:
    """The first time of day `minutes` in `zone` at least `days` calendar days after `after`.

    With days=0 this is today's time if still ahead, else tomorrow's.
    """
    day = local_day(after, zone) + timedelta(days=days)
    when = at_local(day, minutes, zone)
    while when <= after:
        day += timedelta(days=1)
        when = at_local(day, minutes, zone)
    return when


def in_quiet(epoch: float, zone: str, quiet: tuple[int, int]) -> bool:
    """Whether an epoch second falls in quiet hours [start, end) on the local clock."""
    start, end = quiet
    wall = local(epoch, zone)
    now = wall.hour * 60 + wall.minute
    if start < end:
        return start <= now < end
    return now >= start or now < end


def out_of_quiet(epoch: float, zone: str, quiet: tuple[int, int]) -> float:
    """The epoch itself, or the end of the quiet hours it falls in."""
    if not in_quiet(epoch, zone, quiet):
        return epoch
    return next_at(epoch, quiet[1], zone)
