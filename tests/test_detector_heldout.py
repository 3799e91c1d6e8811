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
# session 11 (round 13: in a message of 16 words or more the model may turn a rule's interrupt
# into the question under a score of 0.35, `calm_long`), caught / interrupted / everyday
# interrupts / asks:
#   heldout4  0.960 / 0.890 / 0.011 / 0.037   (blind, written in session 6; 9th look)
#   heldout5  0.955 / 0.873 / 0.003 / 0.041   (blind, written in session 7; 8th look)
#   heldout6  0.969 / 0.891 / 0.013 / 0.050   (blind, written in session 7; 7th look)
#   heldout7  0.950 / 0.822 / 0.020 / 0.070   (blind, written in session 8; 6th look; round 12:
#                                              0.950 / 0.822 / 0.037 / 0.050)
#   heldout8  0.934 / 0.797 / 0.030 / 0.030   (blind, written in session 8; 5th look)
#   heldout9  0.928 / 0.809 / 0.010 / 0.057   (blind, written in session 9; 4th look)
#   heldout10 0.950 / 0.825 / 0.021 / 0.046   (blind, written in session 9; 3rd look; round 12:
#                                              0.950 / 0.825 / 0.037 / 0.029)
#   heldout11 0.912 / 0.754 / 0.046 / 0.062   (blind, written in session 10; 2nd look. 1st look,
#                                              round 12: 0.912 / 0.758 / 0.054 / 0.054; round
#                                              11's model 0.912 / 0.767 / 0.054 / 0.050)
#   heldout12 0.883 / 0.725 / 0.025 / 0.054   (blind, written in session 11 before round 13;
#                                              1st look. Round 12's model: 0.883 / 0.725 /
#                                              0.042 / 0.038)
#   all nine  0.941 / 0.827 / 0.019 / 0.049   (round 12: 0.940 / 0.827 / 0.027 / 0.041)
# The floors are the targets where they are met; the others and the pooled floors record
# what was measured, to be raised by training lines, never by tuning on these sets. Turning
# long everyday lines' interrupts into questions raised the ask ceilings of heldout7, 9, 11.
# heldout_es2 to heldout_es10: tests/test_detector_heldout_es.py.
TARGETS = (0.95, 0.80, 0.02, 0.05)
FLOORS = {  # set: (caught, interrupted, most everyday interrupts, most everyday asks)
    "heldout4/en_blind.tsv": TARGETS,
    "heldout5/en_blind.tsv": (0.945, 0.865, 0.02, 0.05),
    "heldout6/en_blind.tsv": (0.95, 0.80, 0.02, 0.055),
    "heldout7/en_blind.tsv": (0.945, 0.82, 0.025, 0.075),
    "heldout8/en_blind.tsv": (0.93, 0.79, 0.035, 0.035),
    "heldout9/en_blind.tsv": (0.925, 0.80, 0.015, 0.06),
    "heldout10/en_blind.tsv": (0.95, 0.82, 0.025, 0.05),
    "heldout11/en_blind.tsv": (0.91, 0.75, 0.05, 0.065),
    "heldout12/en_blind.tsv": (0.88, 0.72, 0.03, 0.055),
}
POOLED = (0.94, 0.825, 0.02, 0.05)


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
