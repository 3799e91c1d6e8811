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
# session 12 (round 15: 1,080 more training lines over rounds 14 and 15, and their rule
# changes), caught / interrupted / everyday interrupts / asks (round 13's model, session 11,
# in brackets where it differs):
#   heldout4  0.963 / 0.884 / 0.011 / 0.037   (blind, session 6; 11th look) [0.960 / 0.890]
#   heldout5  0.955 / 0.855 / 0.003 / 0.041   (blind, session 7; 10th look) [0.955 / 0.872]
#   heldout6  0.966 / 0.884 / 0.013 / 0.047   (blind, session 7; 9th look) [0.969 / 0.891 / .. / 0.050]
#   heldout7  0.947 / 0.813 / 0.023 / 0.063   (blind, session 8; 8th look) [0.950 / 0.822 / 0.020 / 0.070]
#   heldout8  0.934 / 0.791 / 0.030 / 0.030   (blind, session 8; 7th look) [0.934 / 0.797]
#   heldout9  0.931 / 0.791 / 0.010 / 0.050   (blind, session 9; 6th look) [0.928 / 0.809 / .. / 0.057]
#   heldout10 0.946 / 0.817 / 0.008 / 0.058   (blind, session 9; 5th look) [0.950 / 0.825 / 0.021 / 0.046]
#   heldout11 0.921 / 0.767 / 0.042 / 0.067   (blind, session 10; 4th look) [0.912 / 0.754 / 0.046 / 0.062]
#   heldout12 0.888 / 0.725 / 0.021 / 0.054   (blind, session 11; 3rd look) [0.883 / 0.725 / 0.025 / 0.054]
#   heldout13 0.904 / 0.779 / 0.008 / 0.063   (blind, written in session 11 for round 14; 1st
#                                              look, round 14: 0.904 / 0.788 / 0.008 / 0.062,
#                                              as round 13's model; this is the 2nd)
#   heldout14 0.888 / 0.696 / 0.025 / 0.054   (blind, written in session 12 before round 15;
#                                              1st look. Round 14's model: 0.875 / 0.700 /
#                                              0.025 / 0.058)
#   all eleven 0.935 / 0.808 / 0.017 / 0.051
# The floors are the targets where they are met; the others and the pooled floors record
# what was measured, to be raised by training lines, never by tuning on these sets. Round 15
# chose a higher interrupt threshold (0.85, from 0.84): several older sets lost an interrupt
# or two to the one-tap question, recorded, not met.
# heldout_es2 to heldout_es12: tests/test_detector_heldout_es.py.
TARGETS = (0.95, 0.80, 0.02, 0.05)
FLOORS = {  # set: (caught, interrupted, most everyday interrupts, most everyday asks)
    "heldout4/en_blind.tsv": TARGETS,
    "heldout5/en_blind.tsv": TARGETS,
    "heldout6/en_blind.tsv": TARGETS,
    "heldout7/en_blind.tsv": (0.945, 0.81, 0.025, 0.065),
    "heldout8/en_blind.tsv": (0.93, 0.79, 0.035, 0.035),
    "heldout9/en_blind.tsv": (0.93, 0.79, 0.015, 0.055),
    "heldout10/en_blind.tsv": (0.945, 0.815, 0.01, 0.06),
    "heldout11/en_blind.tsv": (0.92, 0.765, 0.045, 0.07),
    "heldout12/en_blind.tsv": (0.885, 0.72, 0.025, 0.055),
    "heldout13/en_blind.tsv": (0.90, 0.775, 0.01, 0.065),
    "heldout14/en_blind.tsv": (0.885, 0.695, 0.03, 0.055),
}
POOLED = (0.93, 0.805, 0.02, 0.055)


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
