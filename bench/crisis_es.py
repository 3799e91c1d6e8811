"""Measure the Spanish crisis words: caught, interrupted and false alarms per kind, on the
Spanish sets and on English everyday lines.

    .venv/bin/python bench/crisis_es.py             # Spanish tuning sets (tests/data/crisis/tuning_es)
    .venv/bin/python bench/crisis_es.py --heldout   # + the frozen Spanish sets (heldout_es*), aggregates
    .venv/bin/python bench/crisis_es.py --heldout heldout_es9   # + only the named frozen set(s)
    .venv/bin/python bench/crisis_es.py --misses    # Spanish tuning lines it gets wrong (never held-out)

Each Spanish set is read two ways:

- `es alone`: the Spanish section's detector (`curriculum/es/locale.yaml`) with the Spanish
  trained model (`state/engine/safety/models/es.npz`), as the bot reads it; `es words
  alone` is the same without the model;
- `as served`: what the bot does for a person served in Spanish (`Engine.detect`): the
  Spanish detector first, then, when it found no crisis words at all (not even ones its
  context set aside), the other locales' (English, with its trained model), so an English
  word in a Spanish message still gets help.

Because the bot also falls back the other way (an English speaker's message is read by the
Spanish words when the English ones find none), the English everyday (`none`) lines of the
English tuning sets (never a held-out set, which is kept blind) are read by the
Spanish words alone, by the English alone, and as served to an English speaker (English
first): what the last adds to the second is what the Spanish words cost English speakers.
Held-out sets are reported as aggregates only: printing their lines, or tuning on them,
would make them tuning data.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from crisis import DATA, NONE, Detect, cost, read_set, report  # noqa: E402

from state.curriculum.loader import load_curriculum  # noqa: E402
from state.engine.safety.detector import CrisisDetector, Detection  # noqa: E402

ENGLISH_EVERYDAY = ("tuning",)  # never a held-out set: they stay blind


Detectors = tuple[CrisisDetector, CrisisDetector, CrisisDetector]


def detectors(curriculum: Path = REPO / "curriculum") -> Detectors:
    """A curriculum's Spanish words alone, the same with the Spanish model, and the English
    detector with its model."""
    locales = load_curriculum(curriculum).locales
    es, en = locales["es"].locale, locales["en"].locale
    assert es is not None and en is not None
    return (CrisisDetector(es.crisis), CrisisDetector.from_locale(es.crisis, "es"),
            CrisisDetector.from_locale(en.crisis, "en"))


def served(first: CrisisDetector, other: CrisisDetector) -> Detect:
    """What the engine does (`Engine.detect`): the person's own locale's words, then, when
    they found no crisis words at all (not even ones they set aside), the other locale's."""
    def detect(text: str) -> Detection | None:
        found = first.detect(text)
        if found or first.heard(text):
            return found
        return other.detect(text)
    return detect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heldout", nargs="*", metavar="NAME",
                        help="also measure frozen Spanish held-out sets, aggregates only: the named"
                             " ones (heldout_es9 ...), or with no name every heldout_es* (a set"
                             " kept for a later round's first look must be left out by naming)")
    parser.add_argument("--misses", action="store_true", help="list the tuning lines it gets wrong")
    parser.add_argument("--before", type=Path, metavar="CURRICULUM",
                        help="also measure the Spanish words of another curriculum folder (without"
                             " the Spanish model), side by side, e.g. an older checkout's curriculum/")
    args = parser.parse_args()
    rules, es, en = detectors()
    before: tuple[CrisisDetector, CrisisDetector] | None = None
    if args.before:  # the other curriculum's Spanish words as read before there was a Spanish model
        old_words, _, old_english = detectors(args.before)
        before = (old_words, old_english)
    tuning = [(path.name, read_set(path)) for path in sorted((DATA / "tuning_es").glob("*.tsv"))]
    every = [row for _, rows in tuning for row in rows]
    for name, rows in tuning:
        report(f"tuning_es/{name} (in-sample), es alone", rows, es.detect, misses=args.misses)
    report("tuning_es, all files, es words alone (no model)", every, rules.detect, misses=False)
    report("tuning_es, all files, es alone", every, es.detect, misses=False)
    report("tuning_es, all files, as served (es, then en)", every, served(es, en), misses=False)
    if before:
        report("tuning_es, all files, BEFORE, as served (es, then en)", every, served(*before), misses=False)
    if args.heldout is not None:
        named = [DATA / name for name in args.heldout]
        for path in sorted(p for folder in named or DATA.glob("heldout_es*") for p in folder.glob("*.tsv")):
            rows, name = read_set(path), f"{path.parent.name}/{path.name}"
            report(f"{name}, English words alone", rows, en.detect, misses=False)
            if before:
                report(f"{name}, BEFORE, es alone", rows, before[0].detect, misses=False)
                report(f"{name}, BEFORE, as served (es, then en)", rows, served(*before),
                       misses=False)
            report(f"{name}, es words alone (no model)", rows, rules.detect, misses=False)
            report(f"{name}, es alone", rows, es.detect, misses=False)
            report(f"{name}, as served (es, then en)", rows, served(es, en), misses=False)
    for folder in ENGLISH_EVERYDAY:
        for path in sorted((DATA / folder).glob("*.tsv")):
            everyday = [(label, text) for label, text in read_set(path) if label == NONE]
            report(f"English everyday lines of {folder}/{path.name}, es alone", everyday, es.detect,
                   misses=args.misses and folder == "tuning")
            report(f"English everyday lines of {folder}/{path.name}, en alone", everyday, en.detect,
                   misses=False)
            report(f"English everyday lines of {folder}/{path.name}, as served in English (en, then es)",
                   everyday, served(en, es), misses=False)
    texts = [text for _, text in every]
    cost(texts, rules.detect, "Spanish words alone")
    cost(texts, es.detect, "Spanish words + model")
    cost(texts, served(es, en), "as served (es, then en)")


if __name__ == "__main__":
    main()
