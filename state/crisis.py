"""Spotting words of crisis in free text, so any step can be interrupted with help.

Matching is on whole words after folding case and punctuation, so "I want to die." and
"i want to DIE" both match "want to die", while "diet" does not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

WORD = re.compile(r"[a-z0-9']+")


def normalise(text: str) -> str:
    """Lowercase words separated by single spaces, accents and punctuation removed."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c)).replace("’", "'")
    return " ".join(WORD.findall(folded))


class CrisisDetector:
    """Finds any of a locale's crisis phrases in a message."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = tuple(sorted({p for p in (normalise(x) for x in phrases) if p}))

    def detect(self, text: str) -> str | None:
        """The first crisis phrase found in `text`, or None."""
        padded = f" {normalise(text)} "
        return next((p for p in self.phrases if f" {p} " in padded), None)
