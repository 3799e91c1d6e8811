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
from tests.kit.heldout import measure

CRISIS_DATA = Path(__file__).parent / "data" / "crisis"
REPO = Path(__file__).parent.parent
# set: floors of crises caught (interrupt or ask) and interrupted; ceilings of everyday
# interrupts and asks. heldout_es2 was written blind in session 6 before that round's Spanish
# lines were trained on; measured once: caught 0.930, interrupted 0.850, everyday 0.061 / 0.028.
FLOORS = {
    "heldout_es2/es_blind.tsv": (0.92, 0.84, 0.065, 0.035),
}


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


@pytest.mark.parametrize("name", list(FLOORS))
def test_held_out_spanish_crises_are_caught_and_everyday_lines_left_alone(served: Served, name: str) -> None:
    caught, interrupted, false_interrupts, false_asks = measure(CRISIS_DATA / name, served.detect)
    assert caught >= FLOORS[name][0] and interrupted >= FLOORS[name][1]
    assert false_interrupts <= FLOORS[name][2] and false_asks <= FLOORS[name][3]
