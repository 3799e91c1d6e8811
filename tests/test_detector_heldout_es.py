"""The Spanish crisis words on the frozen blind Spanish set (tests/data/crisis/heldout_es), by aggregate only.

The set was written by someone who never saw the Spanish words; it is for measuring, never for
tuning, so this test prints and checks only figures, never a line. It reads the set as the bot
does for a person served in Spanish (`Engine.detect`): the Spanish words and model first, then,
when they found no crisis words at all, the English phrases.

Measured with the final words (bench/crisis_es.py --heldout, 2026-12-06): caught 0.700,
interrupted 0.532; everyday lines interrupted 0.046, asked 0.031. A fourth look, after the
model was retrained with everyday safety-plan lines: caught 0.726, interrupted 0.521,
everyday 0.046 / 0.038 (docs/security.md). A fifth, in session 6, after 1,022 more
training lines (tuning_es/es_v6_*) and no other change: caught 0.826, interrupted 0.721,
everyday 0.054 / 0.031 (one more everyday line interrupted of 130). The floors sit just
under these; the everyday ceiling moves up by that one line. They are far
from the English targets (0.95 caught, 0.80 interrupted, 0.02 everyday interrupts): they
record what is reached, to be raised only by better words tuned on
tests/data/crisis/tuning_es, never on this set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from state.curriculum.loader import load_curriculum
from state.engine.safety.detector import CrisisDetector, Detection

HELDOUT = Path(__file__).parent / "data" / "crisis" / "heldout_es" / "es_mixed.tsv"
REPO = Path(__file__).parent.parent
CAUGHT, INTERRUPTED = 0.80, 0.70  # floors: crises caught (interrupt or ask), interrupted
MOST_EVERYDAY_INTERRUPTS, MOST_EVERYDAY_ASKS = 0.055, 0.04


class Served:
    """The Spanish detector, then the English one when the Spanish found no crisis words."""

    def __init__(self) -> None:
        locales = load_curriculum(REPO / "curriculum").locales
        es, en = locales["es"].locale, locales["en"].locale
        assert es is not None and en is not None
        self.es = CrisisDetector.from_locale(es.crisis, "es")
        self.en = CrisisDetector.from_locale(en.crisis, "en")

    def detect(self, text: str) -> Detection | None:
        found = self.es.detect(text)
        if found or self.es.heard(text):
            return found
        return self.en.detect(text)


@pytest.fixture(scope="module")
def served() -> Served:
    return Served()


def test_held_out_spanish_crises_are_caught_and_everyday_lines_left_alone(served: Served) -> None:
    rows = [line.split("\t", 1) for line in HELDOUT.read_text(encoding="utf-8").splitlines()[1:]]
    levels = [(label, found.level if (found := served.detect(text)) else "none") for label, text in rows]
    crises = [level for label, level in levels if label != "none"]
    everyday = [level for label, level in levels if label == "none"]
    caught = sum(level != "none" for level in crises) / len(crises)
    interrupted = crises.count("interrupt") / len(crises)
    false_interrupts = everyday.count("interrupt") / len(everyday)
    false_asks = everyday.count("ask") / len(everyday)
    print(f"\nheldout_es: caught {caught:.3f}, interrupted {interrupted:.3f}; everyday interrupts"
          f" {false_interrupts:.3f}, asks {false_asks:.3f}")
    assert caught >= CAUGHT and interrupted >= INTERRUPTED
    assert false_interrupts <= MOST_EVERYDAY_INTERRUPTS and false_asks <= MOST_EVERYDAY_ASKS
