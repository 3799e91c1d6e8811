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
# session 9 (round 10: the meaning lexicon), caught / interrupted / everyday interrupts / asks:
#   heldout4  0.963 / 0.895 / 0.011 / 0.022   (blind, written in session 6; 6th look)
#   heldout5  0.950 / 0.865 / 0.006 / 0.041   (blind, written in session 7; 5th look)
#   heldout6  0.950 / 0.903 / 0.007 / 0.047   (blind, written in session 7; 4th look)
#   heldout7  0.931 / 0.834 / 0.037 / 0.040   (blind, written in session 8; 3rd look; round 9:
#                                              0.916 / 0.759 / 0.033 / 0.050)
#   heldout8  0.919 / 0.800 / 0.033 / 0.027   (blind, written in session 8; 2nd look; round 9:
#                                              0.903 / 0.756 / 0.033 / 0.030)
#   heldout9  0.916 / 0.794 / 0.017 / 0.047   (blind, written in session 9 before round 10;
#                                              1st look. Round 9's model: 0.894 / 0.747 /
#                                              0.027 / 0.030)
#   all six   0.939 / 0.850 / 0.018 / 0.037   (2,033 crises, 1,790 everyday lines)
# The floors are the targets where they are met; the fresh sets' and the pooled floors record
# what they showed, to be raised by training lines, never by tuning on these sets.
# heldout_es2 to heldout_es6: tests/test_detector_heldout_es.py.
TARGETS = (0.95, 0.80, 0.02, 0.05)
FLOORS = {  # set: (caught, interrupted, most everyday interrupts, most everyday asks)
    "heldout4/en_blind.tsv": TARGETS,
    "heldout5/en_blind.tsv": TARGETS,
    "heldout6/en_blind.tsv": TARGETS,
    "heldout7/en_blind.tsv": (0.93, 0.83, 0.04, 0.045),
    "heldout8/en_blind.tsv": (0.91, 0.80, 0.035, 0.03),
    "heldout9/en_blind.tsv": (0.91, 0.79, 0.02, 0.05),
}
POOLED = (0.935, 0.845, 0.02, 0.04)


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
