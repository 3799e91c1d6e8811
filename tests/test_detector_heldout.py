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
# session 8 (round 8's 2,200 training lines, everyday reported speech, the short-message rule),
# caught / interrupted / everyday interrupts / asks:
#   heldout4  0.969 / 0.881 / 0.011 / 0.041   (blind, written in session 6; 4th look)
#   heldout5  0.950 / 0.830 / 0.006 / 0.038   (blind, written in session 7; 3rd look)
#   heldout6  0.959 / 0.869 / 0.013 / 0.043   (blind, written in session 7; 2nd look)
#   heldout7  0.903 / 0.759 / 0.033 / 0.050   (blind, written in session 8 before the round's
#                                              tuning; 1st look. The session-7 model:
#                                              0.888 / 0.741 / 0.033 / 0.057)
#   all four  0.946 / 0.836 / 0.016 / 0.043   (1,393 crises, 1,190 everyday lines)
# The floors are the targets where they are met; heldout7's and the pooled floors record what
# the fresh set showed, to be raised by training lines, never by tuning on these sets.
# heldout_es2 to heldout_es5: tests/test_detector_heldout_es.py.
TARGETS = (0.95, 0.80, 0.02, 0.05)
FLOORS = {  # set: (caught, interrupted, most everyday interrupts, most everyday asks)
    "heldout4/en_blind.tsv": TARGETS,
    "heldout5/en_blind.tsv": TARGETS,
    "heldout6/en_blind.tsv": TARGETS,
    "heldout7/en_blind.tsv": (0.90, 0.75, 0.035, 0.05),
}
POOLED = (0.945, 0.83, 0.02, 0.05)


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
