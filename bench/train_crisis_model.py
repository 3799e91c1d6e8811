"""Train the English crisis model (state/engine/safety/models/en.npz) from the labelled lines.

    .venv/bin/python bench/train_crisis_model.py          # train, choose thresholds, write en.npz
    .venv/bin/python bench/train_crisis_model.py --check  # train and report, write nothing
    .venv/bin/python bench/train_crisis_model.py --folds 5  # k-fold cross-validation, write nothing
    .venv/bin/python bench/train_crisis_model.py --folds 5 --budgets 0.03,0.005,0.005 \
        --budgets 0.04,0.005,0.005  # compare budgets on the same fold models (--why: the calls)

Data: every `label<TAB>text` line of tests/data/crisis/training/*.tsv and tuning/*.tsv (never
the held-out sets).

Method: multinomial logistic regression over the features of `state.engine.safety.model` (a
vocabulary of the features seen in 2 or more training lines), L2-regularised, full-batch Adam
from zero weights for a fixed number of steps (`bench/_crisis_fit.py`): no randomness, so the
same data give the same weights. The thresholds are chosen out of fold: the lines are cut into
THRESHOLD_FOLDS folds (by a CRC32 of the seed and the text, so adding lines does not move the
others), each fold is read by a model trained on the other folds, with the rules of
curriculum/en/locale.yaml in front as in the bot, and on all those readings are chosen: the
lowest `ask` score at which the model's own asks on everyday lines stay within ASK_BUDGET, the
lowest `interrupt` score at which its interrupts on everyday lines stay within
INTERRUPT_BUDGET, and the highest `calm` score under which a rule's interrupt becomes a
question for at most CALM_BUDGET of the crisis lines. The everyday lines for this are the
folds' and tests/data/everyday_phrases.txt (short everyday messages, never trained on, read by
each fold model), because the hard negatives written for training are longer and darker than
what people mostly type. Then the model written is trained on every line, with those
thresholds: no line is kept out of the weights (an earlier recipe kept 1 line in 5 out as a
validation split; `split` is kept for the tests). The Spanish script
(`train_crisis_model_es.py`) runs this same recipe with its own lines and no extra everyday
file.

Cross-validation (`--folds K`): the lines are cut into K folds (by another CRC32, so the
folds do not follow the threshold folds); for each fold the whole recipe above (thresholds
out of fold, then training) runs on the other folds, and the fold is read by the rules with
that model in front, as in the bot. The figures summed over the folds are out-of-sample for
the model; the rules were written with these lines in view, so for them they are not. The
budgets (`--budgets ASK,INTERRUPT,CALM`, repeatable) only move the thresholds, so several are
compared on the same fold models at the cost of one run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _crisis_fit import Rows, Thresholds, lexicon, save, train, vocabulary  # noqa: E402, F401 (vocabulary: for tests)

from state.curriculum.loader import load_curriculum  # noqa: E402
from state.engine.safety.concepts import Concepts  # noqa: E402
from state.engine.safety.detector import LONG_WORDS, SHORT_WORDS, CrisisDetector, Detection  # noqa: E402
from state.engine.safety.model import MODELS, NONE, CrisisModel, Score  # noqa: E402

DATA = REPO / "tests" / "data" / "crisis"
EVERYDAY = REPO / "tests" / "data" / "everyday_phrases.txt"
SEED = 20240611
VALIDATION = 5  # one line in five
ASK_BUDGET = 0.03  # the model's own asks on everyday validation lines (4% tried: see the model card)
INTERRUPT_BUDGET = 0.005  # ... and its interrupts (the rules already use most of the 2%)
THRESHOLD_FOLDS = 5  # out-of-fold models that read every line to choose the thresholds
CALM_BUDGET = 0.005  # crisis validation lines whose rule interrupt the model may turn into a question
GRID = [round(0.30 + 0.01 * i, 2) for i in range(70)]
# `calm` never goes above 0.15: a rule's interrupt is only questioned when the model gives the
# message less than a 15% chance of a crisis, so a plain "i'm considering suicide" (which a
# short-line model may score low) keeps its interrupt.
CALM_GRID = [round(0.01 * i, 2) for i in range(16)]
# In a message of LONG_WORDS or more, `calm_long` may go up to 0.35 within the same budget: out
# of fold on round 11's lines, this turned 50 everyday interrupts (of 6,275 lines and the
# everyday phrases) into questions for 7 crisis interrupts (of 6,788 crises); from 10 words,
# 72 for 19; up to 0.45 from 16 words, 79 for 19. Short plain lines ("i'm suicidal", which
# the model scores about 0.3) keep `calm`.
CALM_LONG_GRID = [round(0.01 * i, 2) for i in range(36)]


@dataclass(frozen=True)
class Budgets:
    """What the thresholds may cost, as shares of the out-of-fold readings: the model's own
    asks and interrupts on everyday lines, and the crisis lines whose rule interrupt it calms
    (0: the model never calms)."""

    ask: float = ASK_BUDGET
    interrupt: float = INTERRUPT_BUDGET
    calm: float = CALM_BUDGET


def budgets_of(text: str) -> Budgets:
    """Budgets from the command line: "ask,interrupt,calm" (0.03,0.005,0.005)."""
    ask, interrupt, calm = (float(t) for t in text.split(","))
    return Budgets(ask, interrupt, calm)


def read_lines() -> Rows:
    """(label, text) of every training and tuning line, in file order."""
    rows: Rows = []
    for folder in ("training", "tuning"):
        for path in sorted((DATA / folder).glob("*.tsv")):
            for line in path.read_text(encoding="utf-8").splitlines()[1:]:
                label, _, text = line.partition("\t")
                if text.strip():
                    rows.append((label, text))
    return rows


def everyday_lines() -> Rows:
    """The short everyday messages used, with the validation split, to choose thresholds."""
    lines = EVERYDAY.read_text(encoding="utf-8").splitlines()
    return [(NONE, line) for line in lines if line.strip() and not line.startswith("#")]


def is_validation(text: str) -> bool:
    """Whether a line belongs to the validation split (fixed by SEED, whatever the order)."""
    return zlib.crc32(f"{SEED}:{text}".encode()) % VALIDATION == 0


def split(rows: Rows) -> tuple[Rows, Rows]:
    """(training, validation)."""
    return [r for r in rows if not is_validation(r[1])], [r for r in rows if is_validation(r[1])]


Reading = tuple[str, Detection | None, bool, Score, bool]


def readings(detector: CrisisDetector, model: CrisisModel, rows: Rows) -> list[Reading]:
    """For each line: its label, the rules' call, whether context vetoes the model, the score,
    and whether the model knows the words of the rules' phrase (else it may not calm it)."""
    found = []
    for label, text in rows:
        score = model.score(text)
        vetoed = detector.vetoed(text, score, detector.finds(text))
        rules = detector.detect(text)
        known = rules is not None and model.knows(rules.words)
        found.append((label, rules, vetoed, score, known))
    return found


Call = tuple[str, str, str]  # label, level (or none), who decided: rules or model


def decide(detector: CrisisDetector, reading: Reading, ask: float, interrupt: float,
           calm: float = 0.0, calm_long: float = 0.0) -> Detection | None:
    """The detector's call on one reading under the thresholds, as the bot makes it."""
    _, rules, vetoed, score, known = reading
    if not known:
        calm = calm_long = 0.0
    return detector.blend(rules, score, vetoed, ask, interrupt, calm, calm_long)


def levels(detector: CrisisDetector, read: list[Reading], ask: float, interrupt: float,
           calm: float = 0.0, calm_long: float = 0.0) -> list[Call]:
    """(label, level, who decided: rules or model) of each line under the thresholds."""
    out = []
    for reading in read:
        call = decide(detector, reading, ask, interrupt, calm, calm_long)
        who = "model" if call is not None and call.score is not None else "rules"
        out.append((reading[0], call.level if call else NONE, who))
    return out


def choose(detector: CrisisDetector, read: list[Reading], budgets: Budgets = Budgets()) -> Thresholds:
    """The lowest thresholds whose everyday asks and interrupts by the model stay in budget,
    and the highest `calm` that turns few enough crisis interrupts into questions."""
    everyday = sum(label == NONE for label, *_ in read)
    # The model never interrupts a message of one or two words (SHORT_WORDS), so those lines
    # do not count towards its interrupt budget: they would make room for it elsewhere.
    longer = sum(label == NONE and score.words > SHORT_WORDS for label, _, _, score, _ in read)

    def model_rate(ask: float, interrupt: float, level: str) -> float:
        calls = levels(detector, read, ask, interrupt)
        called = sum(lab == NONE and lev == level and who == "model" for lab, lev, who in calls)
        return called / (longer if level == "interrupt" else everyday)

    interrupt = next((t for t in GRID if model_rate(t, t, "interrupt") <= budgets.interrupt), GRID[-1])
    ask = next((t for t in GRID if t <= interrupt and model_rate(t, interrupt, "ask") <= budgets.ask),
               interrupt)
    crises = [r for r in read if r[0] != NONE]
    interrupted = [r for r in crises if r[1] is not None and r[1].level == "interrupt" and r[4]]
    if budgets.calm <= 0:
        return ask, interrupt, 0.0, 0.0
    most = budgets.calm * len(crises)
    calm = max((t for t in CALM_GRID if sum(r[3].crisis < t for r in interrupted) <= most), default=0.0)
    short = sum(r[3].crisis < calm for r in interrupted if r[3].words < LONG_WORDS)
    long_lines = [r for r in interrupted if r[3].words >= LONG_WORDS]
    calm_long = max((t for t in CALM_LONG_GRID
                     if t >= calm and short + sum(r[3].crisis < t for r in long_lines) <= most), default=calm)
    return ask, interrupt, calm, calm_long


def report(detector: CrisisDetector, read: list[Reading],
           thresholds: Thresholds, name: str = "validation") -> None:
    """Validation figures per kind, rules alone and rules with the model."""
    for how, (a, i, c, cl) in (("rules alone", (2.0, 2.0, 0.0, 0.0)), ("rules + model", thresholds)):
        print_levels(f"{name}, {how} (ask {a}, interrupt {i}, calm {c}, long {cl})",
                     levels(detector, read, a, i, c, cl))


def print_levels(title: str, calls: list[Call]) -> None:
    """Caught and interrupted per kind; for `none`, the share asked or interrupted."""
    total, caught, stopped = Counter[str](), Counter[str](), Counter[str]()
    for label, level, _ in calls:
        total[label] += 1
        caught[label] += level != NONE
        stopped[label] += level == "interrupt"
    print(f"\n{title}")
    for kind in sorted(total):
        print(f"  {kind:18} {total[kind]:4} lines  caught {caught[kind] / total[kind]:6.1%}"
              f"  interrupted {stopped[kind] / total[kind]:6.1%}")
    n = sum(total[k] for k in total if k != NONE)
    print(f"  {'all crises':18} {n:4} lines  caught {sum(caught[k] for k in total if k != NONE) / n:6.1%}"
          f"  interrupted {sum(stopped[k] for k in total if k != NONE) / n:6.1%}")


def part(text: str, seed: int, parts: int) -> int:
    """Which of `parts` folds a line falls in (a CRC32 of the seed and the text, whatever the order)."""
    return zlib.crc32(f"{seed}:{text}".encode()) % parts


def out_of_fold(detector: CrisisDetector, rows: Rows, path: Path, extra: Rows,
                concepts: Concepts) -> tuple[list[Reading], list[Reading]]:
    """Every line read by a model trained without its fold (THRESHOLD_FOLDS of them), and the
    `extra` everyday lines (never trained on) read by each of those models."""
    read: list[Reading] = []
    everyday: list[Reading] = []
    for j in range(THRESHOLD_FOLDS):
        vocab, kinds, w, b = train([r for r in rows if part(r[1], SEED + 2, THRESHOLD_FOLDS) != j], concepts)
        save(path, vocab, kinds, w, b, (1.0, 1.0, 0.0, 0.0), concepts)
        model = CrisisModel.load(path)  # as the bot will read it: float16 weights
        read += readings(detector, model, [r for r in rows if part(r[1], SEED + 2, THRESHOLD_FOLDS) == j])
        everyday += readings(detector, model, extra)
    return read, everyday


def fitted(detector: CrisisDetector, rows: Rows, path: Path, extra: Rows, concepts: Concepts,
           budgets: Budgets = Budgets()) -> tuple[CrisisModel, Thresholds, list[Reading], list[Reading]]:
    """The whole recipe on `rows`: thresholds chosen out of fold (with the `extra` everyday
    lines), then the model trained on every line and written to `path` with them; also the
    out-of-fold readings."""
    read, everyday = out_of_fold(detector, rows, path, extra, concepts)
    thresholds = choose(detector, read + everyday, budgets)
    vocab, kinds, w, b = train(rows, concepts)
    save(path, vocab, kinds, w, b, thresholds, concepts)
    return CrisisModel.load(path), thresholds, read, everyday


Folded = list[tuple[str, Reading, Thresholds]]  # text, its reading, the thresholds of its fold


def cross_validate(detector: CrisisDetector, rows: Rows, folds: int, extra: Rows, concepts: Concepts,
                   budgets: Sequence[Budgets] = (Budgets(),)) -> list[Folded]:
    """K-fold readings: each fold read by the rules and a model made, by the whole recipe,
    without it; once per set of budgets (the models are the same, only the thresholds move)."""
    out: list[Folded] = [[] for _ in budgets]
    for k in range(folds):
        held = [r for r in rows if part(r[1], SEED + 1, folds) == k]
        rest = [r for r in rows if part(r[1], SEED + 1, folds) != k]
        with tempfile.TemporaryDirectory() as scratch:  # its own: other runs may be going on
            path = Path(scratch) / "fold.npz"
            read, everyday = out_of_fold(detector, rest, path, extra, concepts)
            vocab, kinds, w, b = train(rest, concepts)
            save(path, vocab, kinds, w, b, (1.0, 1.0, 0.0, 0.0), concepts)
            model = CrisisModel.load(path)
        found = readings(detector, model, held)
        for n, budget in enumerate(budgets):
            thresholds = choose(detector, read + everyday, budget)
            out[n] += [(text, reading, thresholds) for (_, text), reading in zip(held, found, strict=True)]
            print(f"fold {k + 1}/{folds}: {len(held)} lines, {budget}: thresholds"
                  f" (ask, interrupt, calm, calm_long) {thresholds}", flush=True)
    return out


def summary(calls: list[Call]) -> str:
    """Caught / interrupted of the crisis lines, interrupts / asks of the everyday ones, in %."""
    crises = [lev for label, lev, _ in calls if label != NONE]
    everyday = [lev for label, lev, _ in calls if label == NONE]
    return (f"caught {100 * sum(lev != NONE for lev in crises) / len(crises):.1f}"
            f" / interrupted {100 * crises.count('interrupt') / len(crises):.1f}"
            f" / everyday interrupts {100 * everyday.count('interrupt') / len(everyday):.1f}"
            f" / asks {100 * everyday.count('ask') / len(everyday):.1f}")


def print_folds(detector: CrisisDetector, folded: Folded, folds: int, why: bool = False) -> None:
    """The cross-validation figures, rules alone and with the model; with `why`, every
    everyday line interrupted (or asked) and who decided."""
    calls = [c for _, r, t in folded for c in levels(detector, [r], *t)]
    alone = levels(detector, [r for _, r, _ in folded], 2.0, 2.0)
    print_levels(f"{folds}-fold cross-validation, rules alone (in-sample for the rules)", alone)
    print_levels(f"{folds}-fold cross-validation, rules + model", calls)
    everyday = [c for c in calls if c[0] == NONE]
    for level in ("interrupt", "ask"):
        for who in ("rules", "model"):
            n = sum(lev == level and w == who for _, lev, w in everyday)
            print(f"  everyday {level}s by the {who}: {n}/{len(everyday)} = {n / len(everyday):.1%}")
    print(f"  SUMMARY {summary(calls)}")
    if why:
        for text, reading, thresholds in folded:
            call = decide(detector, reading, *thresholds)
            if call is not None and (reading[0] == NONE or call.level == "ask"):
                print(f"  WHY {reading[0]:18} {call.level:9} {call.cue:50} {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="train and report, write nothing")
    parser.add_argument("--out", type=Path, default=MODELS / "en.npz")
    parser.add_argument("--folds", type=int, default=0, help="k-fold cross-validation; writes nothing")
    parser.add_argument("--why", action="store_true", help="with --folds: list the everyday lines"
                        " called and the crises asked about, with the cue that decided")
    parser.add_argument("--budgets", type=budgets_of, action="append", metavar="ASK,INTERRUPT,CALM",
                        help="the thresholds' budgets (default: ASK_BUDGET, INTERRUPT_BUDGET, CALM_BUDGET);"
                             " with --folds, may be repeated to compare them on the same fold models")
    args = parser.parse_args()
    locale = load_curriculum(REPO / "curriculum").locales["en"].locale
    assert locale is not None
    detector = CrisisDetector(locale.crisis)
    rows = read_lines()
    budgets = args.budgets or [Budgets()]
    if args.folds:
        every = cross_validate(detector, rows, args.folds, everyday_lines(), lexicon("en"), budgets)
        for budget, folded in zip(budgets, every, strict=True):
            print(f"\n=== {budget}")
            print_folds(detector, folded, args.folds, args.why)
        return
    print(f"{len(rows)} lines; thresholds chosen out of fold ({THRESHOLD_FOLDS} folds)")
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out if not args.check else Path(scratch) / "check.npz"
        model, thresholds, read, everyday = fitted(detector, rows, out, everyday_lines(), lexicon("en"),
                                                   budgets[0])
        size = out.stat().st_size // 1024
    report(detector, read, thresholds, "out of fold")
    calls = levels(detector, everyday, *thresholds)
    print(f"  everyday_phrases.txt (each read by the {THRESHOLD_FOLDS} fold models): interrupts"
          f" {sum(lev == 'interrupt' for _, lev, _ in calls) / len(calls):.1%},"
          f" asks {sum(lev == 'ask' for _, lev, _ in calls) / len(calls):.1%}")
    print(f"\n{len(model.index)} features; thresholds (ask, interrupt, calm, calm_long) {thresholds};"
          f" wrote {'nothing (--check)' if args.check else out} ({size} KB)")


if __name__ == "__main__":
    main()
