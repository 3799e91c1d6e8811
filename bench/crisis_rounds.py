"""How the crisis model reads a writer it never met: leave one writing round out.

    .venv/bin/python bench/crisis_rounds.py                       # English, with and without the lexicon
    .venv/bin/python bench/crisis_rounds.py --locale es
    .venv/bin/python bench/crisis_rounds.py --variant lexicon     # one variant only
    .venv/bin/python bench/crisis_rounds.py --variant order --window 4

K-fold cross-validation cuts lines at random, so a fold's lines were written by the same
people, in the same week, as the lines the model learnt from; it flatters a model that learns
its writers' habits. The blind sets show what happens with a new writer: English models
that scored about 89% in 5-fold cross-validation caught about 90% of heldout8. This bench
holds out a whole writing round instead (the files one writer or batch produced, named by
their prefix: `en_v8b_*`, `es_v6_*` ...), trains the model on every other round, and reads
the held-out round with the rules in front, as the bot does. Summed over every round:

- the model alone: the share of crisis lines it scores above the score that 1%, 2% and 5% of
  the everyday lines reach (how well it ranks, whatever the thresholds);
- rules and model as served, at thresholds chosen on those same pooled readings with the
  trainer's budgets (so a variant is not judged by its luck with thresholds); caught,
  interrupted, everyday interrupts and asks, and caught per kind.

Variants: `plain` (words, pairs, stems, letter groups), `lexicon` (those and the meaning
classes of tests/data/crisis/concepts/<locale>.yaml) and `order` (those and which class comes
before which, `--window` words apart at most). Never reads a held-out set. About 2
minutes per round and variant for English on one core; it writes nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _crisis_fit import Rows, lexicon, save, train  # noqa: E402
from train_crisis_model import DATA, Budgets, Reading, choose, levels, readings, summary  # noqa: E402
from train_crisis_model_es import BUDGETS as ES_BUDGETS  # noqa: E402

from state.curriculum.loader import load_curriculum  # noqa: E402
from state.engine.safety.concepts import Concepts  # noqa: E402
from state.engine.safety.detector import CrisisDetector  # noqa: E402
from state.engine.safety.model import NONE, CrisisModel, tokens  # noqa: E402

FOLDERS = {"en": ("training", "tuning"), "es": ("tuning_es",)}
BUDGETS = {"en": Budgets(), "es": ES_BUDGETS}
RATES = (0.01, 0.02, 0.05)
ROUND_MARK = re.compile(r"v\d+[a-z]?|more\d*")  # en_v8b_crises, en_more2_none
# The English tuning files and the retired held-out sets were each written in one batch
# with the files beside them: one round each.
ROUNDS = {"en_plain": "tuning", "en_texting": "tuning", "en_voices": "tuning"}


def round_of(name: str) -> str:
    """The writing round of a data file: its name up to the round's mark (`en_v8b`), else
    the file's own name (`es_hard`); the first English files (`en_none_a`, ...) are one round."""
    stem = name.removesuffix(".tsv")
    if stem.startswith("retired"):
        return "retired"
    parts = stem.split("_")
    if len(parts) > 1 and ROUND_MARK.fullmatch(parts[1]):
        return "_".join(parts[:2])
    if stem.startswith("en_") and stem not in ROUNDS:
        return "en_first"
    return ROUNDS.get(stem, stem)


def lines_by_round(locale: str) -> dict[str, Rows]:
    """The training lines of a locale, grouped by writing round."""
    rounds: dict[str, Rows] = {}
    for folder in FOLDERS[locale]:
        for path in sorted((DATA / folder).glob(f"*{locale}_*.tsv")):
            for line in path.read_text(encoding="utf-8").splitlines()[1:]:
                label, _, text = line.partition("\t")
                if text.strip():
                    rounds.setdefault(round_of(path.name), []).append((label, text))
    return rounds


def held_out_readings(detector: CrisisDetector, rounds: dict[str, Rows], concepts: Concepts) -> list[Reading]:
    """Each round read by a model trained on all the others (float16, as the bot reads it)."""
    read: list[Reading] = []
    for name in sorted(rounds):
        rest = [row for other, rows in rounds.items() if other != name for row in rows]
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "round.npz"
            save(path, *train(rest, concepts), (1.0, 1.0, 0.0, 0.0), concepts)
            model = CrisisModel.load(path)
        read += readings(detector, model, rounds[name])
        print(f"  {name}: {len(rounds[name])} lines", file=sys.stderr, flush=True)
    return read


def report(title: str, detector: CrisisDetector, read: list[Reading], budgets: Budgets) -> None:
    """The model's ranking alone, and rules with model as served, summed over the rounds."""
    everyday = np.array([r[3].crisis for r in read if r[0] == NONE])
    crises = np.array([r[3].crisis for r in read if r[0] != NONE])
    print(f"\n{title}: {len(crises)} crisis lines, {len(everyday)} everyday lines")
    for rate in RATES:
        above = float(np.mean(crises > np.quantile(everyday, 1 - rate)))
        print(f"  model alone: crises above what {rate:.0%} of everyday lines reach: {above:.1%}")
    thresholds = choose(detector, read, budgets)
    calls = levels(detector, read, *thresholds)
    print(f"  as served (ask, interrupt, calm {thresholds}): {summary(calls)}")
    total, caught = Counter[str](), Counter[str]()
    for label, level, _ in calls:
        if label != NONE:
            total[label] += 1
            caught[label] += level != NONE
    print("  caught per kind: " + ", ".join(f"{k} {caught[k]}/{total[k]}" for k in sorted(total)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locale", choices=sorted(FOLDERS), default="en")
    parser.add_argument("--variant", choices=("plain", "lexicon", "order"), action="append")
    parser.add_argument("--window", type=int, default=4, help="words between classes the order variant reads")
    args = parser.parse_args()
    locale = load_curriculum(REPO / "curriculum").locales[args.locale].locale
    assert locale is not None
    detector = CrisisDetector(locale.crisis)
    rounds = lines_by_round(args.locale)
    print(f"{args.locale}: {len(rounds)} rounds: {', '.join(sorted(rounds))}")
    for variant in args.variant or ["plain", "lexicon"]:
        concepts = (lexicon(args.locale, args.window if variant == "order" else 0)
                    if variant != "plain" else Concepts([], tokens))
        read = held_out_readings(detector, rounds, concepts)
        report(variant, detector, read, BUDGETS[args.locale])


if __name__ == "__main__":
    main()
