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
# interrupts and asks. Measured with the session-7 model, caught / interrupted / everyday
# interrupts / asks:
#   heldout_es2  0.945 / 0.850 / 0.022 / 0.044  (blind, written in session 6; 2nd and 3rd
#                                                looks; session 6: 0.930 / 0.850 / 0.061 / 0.028)
#   heldout_es3  0.921 / 0.775 / 0.027 / 0.046  (blind, written in session 7 before the round's
#                                                tuning; 1st and 2nd looks)
#   heldout_es4  0.954 / 0.883 / 0.015 / 0.035  (blind, written in session 7 before its second
#                                                round; one look)
#   all three    0.940 / 0.835 / 0.021 / 0.041  (680 crises, 700 everyday lines)
# The targets are the English ones (0.95, 0.80, 0.02, 0.05); heldout_es4 meets them and its
# floors are the targets; the others, and the pooled floors, record what was measured, to be
# raised.
TARGETS = (0.95, 0.80, 0.02, 0.05)
FLOORS = {
    "heldout_es2/es_blind.tsv": (0.94, 0.84, 0.025, 0.05),
    "heldout_es3/es_blind.tsv": (0.92, 0.77, 0.03, 0.05),
    "heldout_es4/es_blind.tsv": TARGETS,
}
POOLED = (0.935, 0.83, 0.025, 0.05)


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
