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
# session 7 (stems, 2,700 more training lines, the older held-out sets retired into training:
# tests/data/crisis/retired/), caught / interrupted / everyday interrupts / asks:
#   heldout4  0.963 / 0.890 / 0.019 / 0.033   (blind, written in session 6; 2nd and 3rd looks;
#                                              session 6: 0.924 / 0.827 / 0.015 / 0.033)
#   heldout5  0.948 / 0.830 / 0.013 / 0.034   (blind, written in session 7 before the round's
#                                              tuning; 1st and 2nd looks)
#   heldout6  0.959 / 0.859 / 0.017 / 0.040   (blind, written in session 7 before its second
#                                              round; one look)
#   all three 0.956 / 0.858 / 0.016 / 0.036   (1,073 crises, 890 everyday lines)
# The floors are the targets where they are met; heldout5's caught floor sits just under what
# it reached (379 of 400; the target needs 380). heldout_es2 to heldout_es4:
# tests/test_detector_heldout_es.py.
TARGETS = (0.95, 0.80, 0.02, 0.05)
FLOORS = {  # set: (caught, interrupted, most everyday interrupts, most everyday asks)
    "heldout4/en_blind.tsv": TARGETS,
    "heldout5/en_blind.tsv": (0.945, 0.80, 0.02, 0.05),
    "heldout6/en_blind.tsv": TARGETS,
}


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    locale = load_curriculum(REPO / "curriculum").locales["en"].locale
    assert locale is not None
    return CrisisDetector.from_locale(locale.crisis, "en")


@pytest.mark.parametrize("name", list(FLOORS))
def test_held_out_crises_are_caught_and_everyday_lines_left_alone(detector: CrisisDetector,
                                                                  name: str) -> None:
    assert_meets(measure(CRISIS_DATA / name, detector.detect), FLOORS[name])


def test_the_blind_sets_together_meet_the_targets(detector: CrisisDetector) -> None:
    assert_meets(measure_all([CRISIS_DATA / name for name in FLOORS], detector.detect), TARGETS)
