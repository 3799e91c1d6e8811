"""The crisis detector on the frozen held-out sets (tests/data/crisis/heldout*), by aggregate only.

The sets were written by someone who never saw the detector; they are for measuring, never
for tuning, so this test prints and checks only figures per set, never a line. The floors
are what the detector honestly reaches today; the targets are higher (see TARGETS), and a
floor may only be raised by improving the detector on its own tuning data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from state.curriculum.loader import load_curriculum
from state.engine.safety.detector import CrisisDetector
from tests.kit.heldout import assert_meets, measure, measure_all

CRISIS_DATA = Path(__file__).parent / "data" / "crisis"
REPO = Path(__file__).parent.parent
# Targets: >= 0.95 of crises caught (interrupt or ask), >= 0.80 interrupted directly,
# everyday lines <= 0.02 interrupts and <= 0.05 asks. Measured by aggregate with the model of
# session 10 (round 11: the lexicon cleaned and widened, which class comes before which,
# 800 more training lines), caught / interrupted / everyday interrupts / asks:
#   heldout4  0.960 / 0.892 / 0.007 / 0.037   (blind, written in session 6; 7th look)
#   heldout5  0.948 / 0.870 / 0.006 / 0.034   (blind, written in session 7; 6th look; round 10:
#                                              0.950 / 0.865 / 0.006 / 0.041)
#   heldout6  0.963 / 0.894 / 0.010 / 0.040   (blind, written in session 7; 5th look)
#   heldout7  0.947 / 0.822 / 0.037 / 0.043   (blind, written in session 8; 4th look)
#   heldout8  0.925 / 0.787 / 0.033 / 0.027   (blind, written in session 8; 3rd look; round 10:
#                                              0.919 / 0.800 / 0.033 / 0.027)
#   heldout9  0.928 / 0.809 / 0.020 / 0.047   (blind, written in session 9; 2nd look; round 10:
#                                              0.916 / 0.794 / 0.017 / 0.047)
#   heldout10 0.950 / 0.825 / 0.038 / 0.025   (blind, written in session 9 before round 11;
#                                              1st look. Round 10's model: 0.954 / 0.825 /
#                                              0.038 / 0.021; all 9 everyday interrupts are
#                                              the rules', which the model may not calm)
#   all seven 0.946 / 0.845 / 0.021 / 0.036   (2,273 crises, 2,030 everyday lines; round 10:
#                                              0.941 / 0.847 / 0.021 / 0.035)
# The floors are the targets where they are met; the others and the pooled floors record
# what was measured, to be raised by training lines, never by tuning on these sets.
# heldout_es2 to heldout_es8: tests/test_detector_heldout_es.py.
TARGETS = (0.95, 0.80, 0.02, 0.05)
FLOORS = {  # set: (caught, interrupted, most everyday interrupts, most everyday asks)
    "heldout4/en_blind.tsv": TARGETS,
    "heldout5/en_blind.tsv": (0.945, 0.865, 0.02, 0.05),
    "heldout6/en_blind.tsv": TARGETS,
    "heldout7/en_blind.tsv": (0.945, 0.82, 0.04, 0.05),
    "heldout8/en_blind.tsv": (0.92, 0.785, 0.035, 0.03),
    "heldout9/en_blind.tsv": (0.925, 0.80, 0.02, 0.05),
    "heldout10/en_blind.tsv": (0.95, 0.80, 0.04, 0.05),
    "heldout11/en_blind.tsv": (0.91, 0.755, 0.055, 0.055),  # round 12's 1st look (session 11)
}
POOLED = (0.944, 0.835, 0.026, 0.042)


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    locale = load_curriculum(REPO / "curriculum").locales["en"].locale
    assert locale is not None
    return CrisisDetector.from_locale(locale.crisis, "en")


@pytest.mark.parametrize("name", list(FLOORS))
def test_held_out_crises_are_caught_and_everyday_lines_left_alone(detector: CrisisDetector,
                                                                  name: str) -> None:
    assert_meets(measure(CRISIS_DATA / name, detector.detect), FLOORS[name])


def test_the_blind_sets_together(detector: CrisisDetector) -> None:
    assert_meets(measure_all([CRISIS_DATA / name for name in FLOORS], detector.detect), POOLED)
