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
# interrupts and asks. Measured with the models of session 11 (round 13: `calm_long` 0.22 in
# messages of 16 words or more; round 12's 520 training lines), caught / interrupted /
# everyday interrupts / asks:
#   heldout_es2  0.960 / 0.910 / 0.011 / 0.050  (blind, written in session 6; 9th look)
#   heldout_es3  0.950 / 0.846 / 0.008 / 0.054  (blind, written in session 7; 8th look)
#   heldout_es4  0.979 / 0.929 / 0.008 / 0.035  (blind, written in session 7; 7th look)
#   heldout_es5  0.950 / 0.887 / 0.015 / 0.073  (blind, written in session 8; 6th look)
#   heldout_es6  0.971 / 0.887 / 0.015 / 0.073  (blind, written in session 8; 5th look)
#   heldout_es7  0.958 / 0.879 / 0.004 / 0.058  (blind, written in session 9; 4th look)
#   heldout_es8  0.929 / 0.812 / 0.013 / 0.046  (blind, written in session 9; 3rd look)
#   heldout_es9  0.917 / 0.746 / 0.013 / 0.037  (blind, written in session 10; 2nd look. 1st
#                                                look, round 12: the same; round 11's models
#                                                0.908 / 0.762 / 0.013 / 0.033)
#   heldout_es10 0.854 / 0.704 / 0.013 / 0.046  (blind, written in session 11 before round 13;
#                                                1st look. Round 12's models: 0.854 / 0.712 /
#                                                0.013 / 0.046)
#   all nine     0.941 / 0.843 / 0.011 / 0.053  (round 12: 0.941 / 0.845 / 0.011 / 0.052)
# Older ask ceilings (es5, es6) rose in rounds 11 and 12 with a lower ask threshold, recorded,
# not met.
# The targets are the English ones (0.95, 0.80, 0.02, 0.05); where a set meets them its floors
# are the targets; the others, and the pooled floors, record what was measured, to be raised.
TARGETS = (0.95, 0.80, 0.02, 0.05)
FLOORS = {
    "heldout_es2/es_blind.tsv": (0.95, 0.80, 0.015, 0.06),
    "heldout_es3/es_blind.tsv": (0.945, 0.845, 0.01, 0.055),
    "heldout_es4/es_blind.tsv": TARGETS,
    "heldout_es5/es_blind.tsv": (0.945, 0.885, 0.02, 0.075),
    "heldout_es6/es_blind.tsv": (0.965, 0.88, 0.02, 0.075),
    "heldout_es7/es_blind.tsv": (0.945, 0.875, 0.01, 0.06),
    "heldout_es8/es_blind.tsv": (0.925, 0.81, 0.015, 0.05),
    "heldout_es9/es_blind.tsv": (0.915, 0.745, 0.015, 0.04),
    "heldout_es10/es_blind.tsv": (0.85, 0.70, 0.015, 0.05),
}
POOLED = (0.94, 0.84, 0.012, 0.054)


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
