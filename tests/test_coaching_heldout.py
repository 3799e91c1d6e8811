"""The rehearsal coach's patterns on the frozen held-out examples, by aggregate only.

tests/data/coaching/heldout/ was written before the patterns, heldout_late/ after them in
styles they were not built for; neither is tuned on (their READMEs). heldout_es/ is the
same for curriculum/es/coaching.yaml, written before any Spanish pattern. This test checks
precision and recall per pattern against floors a little under what `bench/coaching.py`
measures. A floor may only be raised by improving a pattern on tests/data/coaching/tuning/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from state.curriculum.coaching import Coach
from state.curriculum.loader import load_curriculum
from tests.kit.curricula import BUNDLED

DATA = Path(__file__).parent / "data" / "coaching"
HELDOUT = DATA / "heldout"
# pattern: (precision, recall) floors; measured at 1.00/1.00 for all but no_feeling (1.00/0.95)
FLOORS = {
    "ultimatum": (0.95, 0.95), "label": (0.95, 0.95), "you_blame": (0.95, 0.95),
    "sarcasm": (0.95, 0.95), "always_never": (0.95, 0.95), "lecture": (0.95, 0.95),
    "too_long": (0.95, 0.95), "no_feeling": (0.95, 0.90), "no_request": (0.95, 0.95),
    "no_offer": (0.95, 0.95), "no_when": (0.95, 0.95), "no_who": (0.95, 0.95),
}
# the same on heldout_late/ (its first run, before the second tuning round, is in its README)
LATE_FLOORS = {
    "ultimatum": (0.87, 0.68), "label": (0.95, 0.95), "you_blame": (0.95, 0.82),
    "sarcasm": (0.87, 0.68), "always_never": (0.95, 0.95), "lecture": (0.95, 0.75),
    "too_long": (0.95, 0.95), "no_feeling": (0.95, 0.95), "no_request": (0.95, 0.95),
    "no_offer": (0.78, 0.95),
}
# Spanish, on heldout_es/: measured at 1.00/1.00 but for no_feeling (0.95 precision) and
# no_request, no_who, sarcasm, too_long, you_blame (0.95 recall); one example is 0.05
ES_FLOORS = {
    "ultimatum": (0.95, 0.95), "label": (0.95, 0.95), "you_blame": (0.95, 0.90),
    "sarcasm": (0.95, 0.90), "always_never": (0.95, 0.95), "lecture": (0.95, 0.95),
    "too_long": (0.95, 0.90), "no_feeling": (0.90, 0.95), "no_request": (0.95, 0.90),
    "no_offer": (0.95, 0.95), "no_when": (0.95, 0.95), "no_who": (0.95, 0.90),
}
# the same on heldout_late_es/ (its blind first run, before the second tuning round, is in
# its README; these are a little under the second run, which that round's lines flatter)
ES_LATE_FLOORS = {
    "ultimatum": (0.95, 0.75), "label": (0.95, 0.95), "you_blame": (0.95, 0.65),
    "sarcasm": (0.95, 0.80), "always_never": (0.87, 0.87), "lecture": (0.95, 0.95),
    "no_feeling": (0.95, 0.95), "no_request": (0.87, 0.87), "no_offer": (0.95, 0.95),
}


@pytest.fixture(scope="module")
def coach() -> Coach:
    found = load_curriculum(BUNDLED).content("en").coach
    assert found is not None
    return found


@pytest.fixture(scope="module")
def coach_es() -> Coach:
    found = load_curriculum(BUNDLED).content("es").coach
    assert found is not None
    return found


def test_every_spanish_pattern_has_held_out_examples_and_a_floor(coach_es: Coach,
                                                                  coach: Coach) -> None:
    files = {f.stem for f in (DATA / "heldout_es").glob("*.yaml")}
    assert files == set(coach_es.patterns) == set(ES_FLOORS) == set(coach.patterns)
    for file in (DATA / "heldout_es").glob("*.yaml"):
        examples = yaml.safe_load(file.read_text(encoding="utf-8"))
        assert len(examples["found"]) >= 20 and len(examples["clean"]) >= 20, file.name


@pytest.mark.parametrize(("folder", "pattern"), [("heldout_es", p) for p in sorted(ES_FLOORS)]
                         + [("heldout_late_es", p) for p in sorted(ES_LATE_FLOORS)])
def test_spanish_held_out_precision_and_recall_stay_above_their_floors(coach_es: Coach, folder: str,
                                                                      pattern: str) -> None:
    precision, recall = measured(coach_es, folder, pattern)
    floor_p, floor_r = (ES_FLOORS if folder == "heldout_es" else ES_LATE_FLOORS)[pattern]
    assert (precision >= floor_p, recall >= floor_r) == (True, True), \
        f"{folder}/{pattern}: precision {precision:.2f} (floor {floor_p}), recall {recall:.2f}" \
        f" (floor {floor_r})"


def measured(coach: Coach, folder: str, pattern: str) -> tuple[float, float]:
    """A pattern's precision and recall on its file in `folder`."""
    examples = yaml.safe_load((DATA / folder / f"{pattern}.yaml").read_text(encoding="utf-8"))
    tp = sum(bool(coach.find(t, [pattern])) for t in examples["found"])
    fp = sum(bool(coach.find(t, [pattern])) for t in examples["clean"])
    return (tp / (tp + fp) if tp + fp else 0.0), tp / len(examples["found"])


def test_every_pattern_has_held_out_examples_and_a_floor(coach: Coach) -> None:
    files = {f.stem for f in HELDOUT.glob("*.yaml")}
    assert files == set(coach.patterns) == set(FLOORS)
    for file in HELDOUT.glob("*.yaml"):
        examples = yaml.safe_load(file.read_text(encoding="utf-8"))
        assert len(examples["found"]) >= 20 and len(examples["clean"]) >= 20, file.name


@pytest.mark.parametrize(("folder", "pattern"), [("heldout", p) for p in sorted(FLOORS)]
                         + [("heldout_late", p) for p in sorted(LATE_FLOORS)])
def test_held_out_precision_and_recall_stay_above_their_floors(coach: Coach, folder: str,
                                                              pattern: str) -> None:
    precision, recall = measured(coach, folder, pattern)
    floor_p, floor_r = (FLOORS if folder == "heldout" else LATE_FLOORS)[pattern]
    assert (precision >= floor_p, recall >= floor_r) == (True, True), \
        f"{folder}/{pattern}: precision {precision:.2f} (floor {floor_p}), recall {recall:.2f}" \
        f" (floor {floor_r})"
