"""The Spanish crisis detector on the frozen blind Spanish sets, by aggregate only.

The sets were written by someone who never saw the Spanish words or data; they are for
measuring, never for tuning, so this test prints and checks only figures, never a line. It
reads the sets as the bot does for a person served in Spanish (`Engine.detect`): the Spanish
words and model first, then, when they found no crisis words at all, the English phrases.
The first Spanish set (heldout_es) was retired into the tuning lines in session 7, after six
looks (tests/data/crisis/retired/README.md). The floors record what is reached, to be raised
only by better words and models tuned on tests/data/crisis/tuning_es, never on these sets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from state.curriculum.loader import load_curriculum
from state.engine.safety.detector import CrisisDetector, Detection
from tests.kit.heldout import assert_meets, measure, measure_all

CRISIS_DATA = Path(__file__).parent / "data" / "crisis"
REPO = Path(__file__).parent.parent
# set: floors of crises caught (interrupt or ask) and interrupted; ceilings of everyday
# interrupts and asks. Measured with the model of session 8's second round (round 9), caught /
# interrupted / everyday interrupts / asks:
#   heldout_es2  0.950 / 0.900 / 0.017 / 0.050  (blind, written in session 6; 5th look)
#   heldout_es3  0.946 / 0.825 / 0.012 / 0.065  (blind, written in session 7; 4th look)
#   heldout_es4  0.975 / 0.925 / 0.012 / 0.031  (blind, written in session 7; 3rd look)
#   heldout_es5  0.933 / 0.846 / 0.031 / 0.062  (blind, written in session 8 before round 8;
#                                                2nd look; round 8: 0.946 / 0.846 / 0.050 / 0.050)
#   heldout_es6  0.954 / 0.875 / 0.023 / 0.069  (blind, written in session 8 before round 9;
#                                                1st look. Session 7's model: 0.925 / 0.788 /
#                                                0.046 / 0.050; round 8's: 0.962 / 0.875 / 0.038 /
#                                                0.062)
#   all five     0.952 / 0.873 / 0.019 / 0.056  (1,160 crises, 1,220 everyday lines)
# The targets are the English ones (0.95, 0.80, 0.02, 0.05); where a set meets them its floors
# are the targets; the others, and the pooled floors, record what was measured, to be raised.
TARGETS = (0.95, 0.80, 0.02, 0.05)
FLOORS = {
    "heldout_es2/es_blind.tsv": TARGETS,
    "heldout_es3/es_blind.tsv": (0.94, 0.82, 0.015, 0.07),
    "heldout_es4/es_blind.tsv": TARGETS,
    "heldout_es5/es_blind.tsv": (0.93, 0.84, 0.035, 0.065),
    "heldout_es6/es_blind.tsv": (0.95, 0.87, 0.025, 0.07),
}
POOLED = (0.95, 0.87, 0.02, 0.06)


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
    assert_meets(measure(CRISIS_DATA / name, served.detect), FLOORS[name])


def test_the_blind_spanish_sets_together(served: Served) -> None:
    assert_meets(measure_all([CRISIS_DATA / name for name in FLOORS], served.detect), POOLED)
