"""Train the Spanish crisis model (state/engine/safety/models/es.npz) from the Spanish tuning lines.

    .venv/bin/python bench/train_crisis_model_es.py          # train, choose thresholds, write es.npz
    .venv/bin/python bench/train_crisis_model_es.py --check  # train and report, write nothing

The same method as the English model (`bench/train_crisis_model.py`, whose functions this
uses): multinomial logistic regression over `state.engine.safety.model` features, trained
deterministically on every `label<TAB>text` line of tests/data/crisis/tuning_es/*.tsv (never
the held-out sets), 1 line in 5 kept out (CRC32 of the seed and the text) to choose the
thresholds with the rules of curriculum/es/locale.yaml in front, as in the bot. There is no
separate file of short everyday Spanish messages: the validation split's everyday lines
stand in for it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from train_crisis_model import (  # noqa: E402
    DATA,
    REPO,
    Rows,
    choose,
    levels,
    readings,
    report,
    save,
    split,
    train,
)

from state.curriculum.loader import load_curriculum  # noqa: E402
from state.engine.safety.detector import CrisisDetector  # noqa: E402
from state.engine.safety.model import MODELS, NONE, CrisisModel  # noqa: E402


def read_lines() -> Rows:
    """(label, text) of every Spanish tuning line, in file order."""
    rows: Rows = []
    for path in sorted((DATA / "tuning_es").glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            label, _, text = line.partition("\t")
            if text.strip():
                rows.append((label, text))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="train and report, write nothing")
    parser.add_argument("--out", type=Path, default=MODELS / "es.npz")
    args = parser.parse_args()
    train_rows, valid_rows = split(read_lines())
    print(f"{len(train_rows)} training lines, {len(valid_rows)} validation lines")
    vocab, kinds, w, b = train(train_rows)
    out = args.out if not args.check else Path("/tmp") / "crisis_model_es_check.npz"
    save(out, vocab, kinds, w, b, (1.0, 1.0, 0.0))
    model = CrisisModel.load(out)  # as the bot will read it: float16 weights
    locale = load_curriculum(REPO / "curriculum").locales["es"].locale
    assert locale is not None
    detector = CrisisDetector(locale.crisis)
    read = readings(detector, model, valid_rows)
    # The calm rule (a rule's interrupt asked instead when the model is sure it is everyday)
    # was tuned on English only: the Spanish model never calms.
    ask, interrupt, _ = choose(detector, read)
    report(detector, read, (ask, interrupt, 0.0))
    calls = levels(detector, read, ask, interrupt)
    everyday = [lev for label, lev, _ in calls if label == NONE]
    interrupts, asks = everyday.count("interrupt") / len(everyday), everyday.count("ask") / len(everyday)
    print(f"  everyday validation lines: {len(everyday)}, interrupts {interrupts:.1%}, asks {asks:.1%}")
    save(out, vocab, kinds, w, b, (ask, interrupt, 0.0))
    print(f"\n{len(vocab)} features; thresholds ask {ask}, interrupt {interrupt}; wrote {out}"
          f" ({out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
