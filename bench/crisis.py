"""Measure the crisis detector on labelled sets: caught, interrupted and false alarms per kind,
and what it costs per message.

    .venv/bin/python bench/crisis.py                 # tuning sets (tests/data/crisis/tuning)
    .venv/bin/python bench/crisis.py --set heldout4  # one named frozen set (a folder, or folder/file.tsv)
    .venv/bin/python bench/crisis.py --misses        # tuning lines it gets wrong (never held-out)

A set is a TSV file, `label<TAB>text` after a header line. For each crisis kind it prints how
many lines were caught (interrupt or ask) and how many were interrupted; for `none` lines the
interrupt and ask rates. Held-out sets are only ever reported as these aggregates: printing
their lines, or tuning on them, would turn them into tuning data. The frozen sets (heldout4,
heldout5, heldout_es2, ...) are measured by name only, with `--set`, once a tuning round's
model is final. A set's locale is the start of its file name (`es_blind.tsv` is read with the
Spanish crisis words). The sets retired into training are listed in tests/data/crisis/retired/.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from state.curriculum.loader import load_curriculum  # noqa: E402
from state.engine.safety.detector import CrisisDetector, Detection  # noqa: E402

DATA = REPO / "tests" / "data" / "crisis"
NONE = "none"


Detect = Callable[[str], Detection | None]  # a detector's `detect`, or the bot's order of them


def read_set(path: Path) -> list[tuple[str, str]]:
    """(label, text) pairs of a TSV set, header skipped."""
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    return [(label, text) for label, _, text in (row.partition("\t") for row in rows if row.strip())]


def load_detector(*, model: bool = True, code: str = "en") -> CrisisDetector:
    """A bundled locale's detector, with its trained model if it has one (or the rules alone)."""
    locale = load_curriculum(REPO / "curriculum").locales[code].locale
    assert locale is not None
    return CrisisDetector.from_locale(locale.crisis, code if model else None)


def named_sets(name: str) -> list[Path]:
    """The TSV files of a named set under tests/data/crisis: a folder or one file in it."""
    path = DATA / name
    found = sorted(path.glob("*.tsv")) if path.is_dir() else [path] if path.is_file() else []
    if not found:
        raise SystemExit(f"no set named {name!r} under {DATA}")
    return found


def locale_of(path: Path) -> str:
    """The locale a set is written in: the start of its file name (`es_mixed.tsv` -> es)."""
    return path.name.split("_", 1)[0]


def report(name: str, rows: list[tuple[str, str]], detect: Detect, *, misses: bool) -> None:
    """Print one set's figures per kind (and, for tuning sets only, the lines it gets wrong)."""
    total: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    interrupted: Counter[str] = Counter()
    wrong: list[str] = []
    for label, text in rows:
        found = detect(text)
        total[label] += 1
        caught[label] += found is not None
        interrupted[label] += found is not None and found.level == "interrupt"
        if misses and (found is None) != (label == NONE):
            got = f"{found.level} {found.kind} [{found.cue}]" if found else NONE
            wrong.append(f"  {label:18} {got:40} {text}")
    print(f"\n{name}")
    crises = [k for k in sorted(total) if k != NONE]
    for kind in crises:
        print(f"  {kind:18} caught {caught[kind]:3}/{total[kind]:<3} interrupted {interrupted[kind]:3}")
    n = sum(total[k] for k in crises)
    if n:
        c, i = sum(caught[k] for k in crises), sum(interrupted[k] for k in crises)
        print(f"  {'all crises':18} caught {c}/{n} = {c / n:.1%}   interrupted {i}/{n} = {i / n:.1%}")
    if total[NONE]:
        asks = caught[NONE] - interrupted[NONE]
        print(f"  {'none':18} interrupts {interrupted[NONE]}/{total[NONE]} ="
              f" {interrupted[NONE] / total[NONE]:.1%}   asks {asks}/{total[NONE]}"
              f" = {asks / total[NONE]:.1%}")
    print("\n".join(wrong))


def cost(texts: list[str], detect: Detect, name: str) -> None:
    """Median and p99 microseconds per message (warm caches, as in a running bot)."""
    for text in texts:
        detect(text)
    spent = []
    for text in texts:
        start = time.perf_counter_ns()
        detect(text)
        spent.append((time.perf_counter_ns() - start) / 1000)
    spent.sort()
    p99 = spent[min(len(spent) - 1, int(len(spent) * 0.99))]
    print(f"\ncost per message, {name}, over {len(texts)} lines: median {statistics.median(spent):.1f} µs,"
          f" p99 {p99:.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="NAME",
                        help="measure one named set instead of the tuning sets (heldout4, heldout_es2,"
                             " heldout4/en_blind.tsv); aggregates only; may be repeated")
    parser.add_argument("--misses", action="store_true", help="list the tuning lines it gets wrong")
    args = parser.parse_args()
    detector = load_detector()
    texts: list[str] = []
    if args.set:
        for path in [p for name in args.set for p in named_sets(name)]:
            rows = read_set(path)
            code = locale_of(path)
            report(f"{path.parent.name}/{path.name}", rows,
                   (detector if code == "en" else load_detector(code=code)).detect, misses=False)
        return
    for path in sorted((DATA / "tuning").glob("*.tsv")):
        rows = read_set(path)
        texts += [t for _, t in rows]
        report(f"tuning/{path.name} (in-sample)", rows, detector.detect, misses=args.misses)
    cost(texts, load_detector(model=False).detect, "rules alone")
    cost(texts, detector.detect, "rules + model")


if __name__ == "__main__":
    main()
