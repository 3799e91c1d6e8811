"""Precision and recall of the rehearsal coach's patterns, on tuning and held-out examples.

    .venv/bin/python bench/coaching.py                 # the bundled en patterns
    .venv/bin/python bench/coaching.py --misses tuning # also list the tuning misses
    .venv/bin/python bench/coaching.py --locale es     # the Spanish patterns, on the *_es sets

Examples live in tests/data/coaching/{tuning,heldout,heldout_late}/<pattern>.yaml: `found:` texts a
trainer would point the pattern out in, `clean:` texts they would not. A pattern's
precision and recall are measured on its own file. Misses are listed for the tuning set
only: the held-out sets are never looked at line by line (their README.md). `heldout` was
written before the patterns, `heldout_late` after them, in styles they were not built for.
Another locale's sets end in `_<locale>` (tuning_es, heldout_es), written the same way.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from state.curriculum.coaching import Coach  # noqa: E402
from state.curriculum.loader import load_curriculum  # noqa: E402

DATA = ROOT / "tests" / "data" / "coaching"
SETS = ("tuning", "heldout", "heldout_late")


def sets(locale: str) -> tuple[str, ...]:
    """The example sets of a locale that exist: en's by their names, others' with `_<locale>`."""
    names = SETS if locale == "en" else tuple(f"{s}_{locale}" for s in SETS)
    return tuple(n for n in names if (DATA / n).is_dir())


@dataclass(frozen=True)
class Score:
    """One pattern's counts on one set."""

    pattern: str
    tp: int
    fp: int
    fn: int
    tn: int
    misses: tuple[str, ...] = ()

    @property
    def precision(self) -> float:
        """Of the texts flagged, the share a trainer would flag."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Of the texts a trainer would flag, the share flagged."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def coach(curriculum: Path = ROOT / "curriculum", locale: str = "en") -> Coach:
    """The compiled patterns of one locale of a curriculum."""
    found = load_curriculum(curriculum).content(locale).coach
    assert found is not None, f"{curriculum}/{locale} has no coaching.yaml"
    return found


def score(the_coach: Coach, which: str) -> list[Score]:
    """Every pattern with examples in set `which`, scored."""
    scores = []
    for file in sorted((DATA / which).glob("*.yaml")):
        examples = yaml.safe_load(file.read_text(encoding="utf-8"))
        pattern = file.stem
        flagged = {kind: [bool(the_coach.find(t, [pattern])) for t in examples[kind]]
                   for kind in ("found", "clean")}
        misses = [f"missed: {t}" for t, f in zip(examples["found"], flagged["found"], strict=True)
                  if not f]
        misses += [f"false:  {t}" for t, f in zip(examples["clean"], flagged["clean"], strict=True)
                   if f]
        scores.append(Score(pattern, sum(flagged["found"]), sum(flagged["clean"]),
                            flagged["found"].count(False), flagged["clean"].count(False),
                            tuple(misses)))
    return scores


def main() -> None:
    """Print the table (and the tuning misses when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", choices=["tuning"], help="list the misses of this set")
    parser.add_argument("--curriculum", type=Path, default=ROOT / "curriculum")
    parser.add_argument("--locale", default="en", help="whose coaching.yaml and examples")
    args = parser.parse_args()
    the_coach = coach(args.curriculum, args.locale)
    names = sets(args.locale)
    results = {which: {s.pattern: s for s in score(the_coach, which)} for which in names}
    print(f"{'pattern':<14}" + "".join(f"   {which + ' P':>14} {'R':>5} {'n':>4}" for which in names))
    for pattern in sorted(set().union(*(results[n] for n in names[:2]))):
        row = [f"{pattern:<14}"]
        for which in names:
            s = results[which].get(pattern)
            row.append(f"{s.precision:>14.2f} {s.recall:>5.2f} {s.tp + s.fp + s.fn + s.tn:>4}"
                       if s else f"{'-':>14} {'-':>5} {'-':>4}")
        print("   ".join(row))
    if args.misses:
        for s in results[names[0]].values():
            for miss in s.misses:
                print(f"{s.pattern}: {miss}")


if __name__ == "__main__":
    main()
