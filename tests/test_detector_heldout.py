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
# session 8's second round (round 9), caught / interrupted / everyday interrupts / asks:
#   heldout4  0.969 / 0.881 / 0.015 / 0.030   (blind, written in session 6; 5th look)
#   heldout5  0.953 / 0.830 / 0.006 / 0.041   (blind, written in session 7; 4th look)
#   heldout6  0.956 / 0.863 / 0.010 / 0.047   (blind, written in session 7; 3rd look)
#   heldout7  0.916 / 0.759 / 0.033 / 0.050   (blind, written in session 8 before round 8;
#                                              2nd look; round 8: 0.903 / 0.759 / 0.033 / 0.050)
#   heldout8  0.903 / 0.756 / 0.033 / 0.030   (blind, written in session 8 before round 9;
#                                              1st look. Session 7's model: 0.888 / 0.747 /
#                                              0.040 / 0.027; round 8's: 0.906 / 0.747 / 0.033 /
#                                              0.027)
#   all five  0.940 / 0.820 / 0.019 / 0.040   (1,713 crises, 1,490 everyday lines)
# The floors are the targets where they are met; the fresh sets' and the pooled floors record
# what they showed, to be raised by training lines, never by tuning on these sets.
# heldout_es2 to heldout_es6: tests/test_detector_heldout_es.py.
TARGETS = (0.95, 0.80, 0.02, 0.05)
FLOORS = {  # set: (caught, interrupted, most everyday interrupts, most everyday asks)
    "heldout4/en_blind.tsv": TARGETS,
    "heldout5/en_blind.tsv": TARGETS,
    "heldout6/en_blind.tsv": TARGETS,
    "heldout7/en_blind.tsv": (0.91, 0.75, 0.035, 0.05),
    "heldout8/en_blind.tsv": (0.90, 0.75, 0.035, 0.035),
}
POOLED = (0.935, 0.815, 0.02, 0.045)


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
