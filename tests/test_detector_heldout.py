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
from tests.kit.heldout import measure

CRISIS_DATA = Path(__file__).parent / "data" / "crisis"
REPO = Path(__file__).parent.parent
# Targets: >= 0.95 of crises caught (interrupt or ask), >= 0.80 interrupted directly,
# everyday lines <= 0.02 interrupts and <= 0.05 asks. Measured by aggregate with the model of
# session 6 (2,200 more training lines, thresholds chosen out of fold), caught / interrupted /
# everyday interrupts / asks:
#   texting   0.924 / 0.835 / 0.013 / 0.051   (session 5: 0.924 / 0.844 / 0.032 / 0.025)
#   plain     0.980 / 0.914 / 0.009 / 0.026   (session 5: 0.974 / 0.921 / 0.018 / 0.026)
#   heldout2  0.922 / 0.836 / 0.025 / 0.036   (session 5: 0.907 / 0.824 / 0.030 / 0.030)
#   heldout3  0.880 / 0.768 / 0.025 / 0.055   (written blind in session 4; third look)
#   heldout4  0.924 / 0.827 / 0.015 / 0.033   (written blind in session 6 before the round's
#                                              tuning; this is its first and only look)
# The floors sit just under that; ceilings over the targets record what was measured, to be
# brought down, not new targets. heldout_es and heldout_es2: tests/test_detector_heldout_es.py.
FLOORS = {  # set: (caught, interrupted, most everyday interrupts, most everyday asks)
    "heldout4/en_blind.tsv": (0.91, 0.82, 0.02, 0.05),
}


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    locale = load_curriculum(REPO / "curriculum").locales["en"].locale
    assert locale is not None
    return CrisisDetector.from_locale(locale.crisis, "en")


@pytest.mark.parametrize("name", list(FLOORS))
def test_held_out_crises_are_caught_and_everyday_lines_left_alone(detector: CrisisDetector,
                                                                  name: str) -> None:
    caught, interrupted, false_interrupts, false_asks = measure(CRISIS_DATA / name, detector.detect)
    assert caught >= FLOORS[name][0] and interrupted >= FLOORS[name][1]
    assert false_interrupts <= FLOORS[name][2] and false_asks <= FLOORS[name][3]
