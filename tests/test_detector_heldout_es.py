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
# interrupts and asks. Measured with the models of session 10 (round 11: the lexicon cleaned
# and widened, 640 more training lines), caught / interrupted / everyday interrupts / asks:
#   heldout_es2  0.960 / 0.910 / 0.011 / 0.050  (blind, written in session 6; 7th look)
#   heldout_es3  0.950 / 0.846 / 0.008 / 0.054  (blind, written in session 7; 6th look)
#   heldout_es4  0.979 / 0.938 / 0.008 / 0.038  (blind, written in session 7; 5th look)
#   heldout_es5  0.946 / 0.887 / 0.019 / 0.073  (blind, written in session 8; 4th look; round
#                                                10: 0.950 / 0.863 / 0.023 / 0.069)
#   heldout_es6  0.967 / 0.883 / 0.015 / 0.069  (blind, written in session 8; 3rd look; round
#                                                10: 0.963 / 0.875 / 0.027 / 0.054)
#   heldout_es7  0.946 / 0.879 / 0.004 / 0.058  (blind, written in session 9; 2nd look; round
#                                                10: 0.946 / 0.863 / 0.012 / 0.050)
#   heldout_es8  0.925 / 0.817 / 0.013 / 0.046  (blind, written in session 9 before round 11;
#                                                1st look. Round 10's models: 0.912 / 0.783 /
#                                                0.013 / 0.046)
#   all seven    0.953 / 0.879 / 0.011 / 0.056  (1,640 crises, 1,720 everyday lines; round
#                                                10: 0.951 / 0.866 / 0.015 / 0.052)
# The new model asks about more everyday Spanish lines on the older sets (its ask threshold
# fell from 0.49 to 0.47, chosen out of fold on the training lines), so their ask ceilings
# rose with this round; they are recorded, not met.
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
    "heldout_es9/es_blind.tsv": (0.915, 0.745, 0.015, 0.04),  # round 12's 1st look (session 11)
}
POOLED = (0.95, 0.86, 0.012, 0.054)


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
