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
# interrupts and asks. Measured with the models of session 12 (round 15: es_v13 and es_v14,
# 1,080 more training lines, and their rule changes), caught / interrupted / everyday
# interrupts / asks (round 13's models, session 11, in brackets where they differ):
#   heldout_es2  0.960 / 0.910 / 0.006 / 0.061  (blind, session 6; 11th look) [.. / .. / 0.011 / 0.050]
#   heldout_es3  0.950 / 0.842 / 0.008 / 0.054  (blind, session 7; 10th look) [0.950 / 0.846]
#   heldout_es4  0.979 / 0.933 / 0.008 / 0.035  (blind, session 7; 9th look) [0.979 / 0.929]
#   heldout_es5  0.950 / 0.896 / 0.015 / 0.077  (blind, session 8; 8th look) [0.950 / 0.887 / .. / 0.073]
#   heldout_es6  0.963 / 0.896 / 0.015 / 0.073  (blind, session 8; 7th look) [0.971 / 0.887]
#   heldout_es7  0.963 / 0.892 / 0.004 / 0.054  (blind, session 9; 6th look) [0.958 / 0.879 / .. / 0.058]
#   heldout_es8  0.933 / 0.833 / 0.013 / 0.046  (blind, session 9; 5th look) [0.929 / 0.812]
#   heldout_es9  0.917 / 0.796 / 0.013 / 0.038  (blind, session 10; 4th look) [0.917 / 0.746 / .. / 0.037]
#   heldout_es10 0.875 / 0.721 / 0.013 / 0.046  (blind, session 11; 3rd look) [0.854 / 0.704]
#   heldout_es11 0.892 / 0.763 / 0.004 / 0.067  (blind, written in session 11 for round 14; 1st
#                                                look, round 14: 0.892 / 0.746 / 0.004 / 0.071;
#                                                round 13's models 0.888 / 0.738 / 0.004 / 0.067;
#                                                this is the 2nd)
#   heldout_es12 0.925 / 0.821 / 0.004 / 0.063  (blind, written in session 12 before round 15;
#                                                1st look. Round 14's models: 0.917 / 0.817 /
#                                                0.004 / 0.067)
#   all eleven   0.937 / 0.845 / 0.009 / 0.056
# Older ask ceilings (es2, es5, es6) rose in rounds 11, 12 and 15 with a lower ask threshold,
# recorded, not met.
TARGETS = (0.95, 0.80, 0.02, 0.05)
FLOORS = {
    "heldout_es2/es_blind.tsv": (0.955, 0.905, 0.01, 0.065),
    "heldout_es3/es_blind.tsv": (0.945, 0.84, 0.01, 0.055),
    "heldout_es4/es_blind.tsv": TARGETS,
    "heldout_es5/es_blind.tsv": (0.945, 0.895, 0.02, 0.08),
    "heldout_es6/es_blind.tsv": (0.96, 0.895, 0.02, 0.075),
    "heldout_es7/es_blind.tsv": (0.96, 0.89, 0.005, 0.055),
    "heldout_es8/es_blind.tsv": (0.93, 0.83, 0.015, 0.05),
    "heldout_es9/es_blind.tsv": (0.915, 0.795, 0.015, 0.04),
    "heldout_es10/es_blind.tsv": (0.87, 0.72, 0.015, 0.05),
    "heldout_es11/es_blind.tsv": (0.89, 0.76, 0.005, 0.07),
    "heldout_es12/es_blind.tsv": (0.92, 0.82, 0.005, 0.065),
}
POOLED = (0.935, 0.84, 0.01, 0.06)


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
