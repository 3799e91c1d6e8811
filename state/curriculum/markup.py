"""Turning curriculum text into Telegram HTML: escaping, light markup and placeholders.

Counselors write plain text; `**bold**` and `__italic__` are the only markup. Everything
else is escaped, and so is every saved answer put into a `{placeholder}`, so neither a
counselor's "<" nor a family member's answer can break Telegram's HTML parser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from state.curriculum.schema import PLACEHOLDER

BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
ITALIC = re.compile(r"__(.+?)__", re.S)
TAG = re.compile(r"<[^>]+>")
TELEGRAM_LIMIT = 4096


def markup_problem(text: str) -> str | None:
    """Why the light markup in `text` is unbalanced, or None when it is fine."""
    for marker, name in (("**", "bold"), ("__", "italic")):
        if text.count(marker) % 2:
            return f"an unclosed {marker} ({name}) marker; close it or remove it"
    return None


@lru_cache(maxsize=1 << 13)  # counselor texts are few and shown again and again
def _marked_up(text: str) -> tuple[str, bool]:
    """Text escaped with its light markup as HTML, and whether it has placeholders left."""
    escaped = html.escape(text, quote=False)
    escaped = BOLD.sub(r"<b>\1</b>", escaped)
    escaped = ITALIC.sub(r"<i>\1</i>", escaped)
    return escaped, PLACEHOLDER.search(escaped) is not None


def to_html(text: str, answers: Mapping[str, Any], fallback: Mapping[str, str] | None = None) -> str:
    """Render counselor text as Telegram HTML, filling placeholders from saved answers."""
    escaped, placeholders = _marked_up(text)
    if not placeholders:
        return escaped

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        value = answers.get(key)
        if value in (None, "", []):
            value = (fallback or {}).get(key, "")
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        return html.escape(str(value), quote=False)

    return PLACEHOLDER.sub(fill, escaped)


def to_plain(html_text: str) -> str:
    """Telegram HTML as plain text, for the terminal chat and length checks."""
    return html.unescape(TAG.sub("", html_text))


def split_message(html_text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split a long HTML message at paragraph, line or word breaks so each part fits.

    Only the visible length counts (as Telegram counts it); a tag is never cut because
    breaks are only taken at whitespace outside tags.
    """
    if len(to_plain(html_text)) <= limit:
        return [html_text]
    parts: list[str] = []
    rest = html_text
    while len(to_plain(rest)) > limit:
        cut = _cut_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _cut_point(text: str, limit: int) -> int:
    """The index of the last good break in `text` whose visible prefix fits in `limit`."""
    visible = 0
    best = {"\n\n": -1, "\n": -1, " ": -1}
    i = 0
    open_tags = 0
    while i < len(text) and visible < limit:
        if text[i] == "<":
            end = text.find(">", i)
            open_tags += -1 if text.startswith("</", i) else 1
            i = end + 1 if end != -1 else i + 1
            continue
        if text[i] == "&":
            end = text.find(";", i)
            i = end + 1 if 0 < end - i < 10 else i + 1
            visible += 1
            continue
        if open_tags == 0:
            for sep in best:
                if text.startswith(sep, i):
                    best[sep] = i
        visible += 1
        i += 1
    for sep in ("\n\n", "\n", " "):
        if best[sep] > 0:
            return best[sep]
    return i
