"""Time the crisis detector of this checkout against another revision's, in one run.

    .venv/bin/python bench/crisis_cost.py                 # against the last commit (HEAD)
    .venv/bin/python bench/crisis_cost.py --base 68febcc  # against any revision
    .venv/bin/python bench/crisis_cost.py --rounds 3      # more alternations on a busy machine

The other revision is checked out into a temporary git worktree (removed afterwards). Each
round times both, one after the other, in fresh processes, so a busy machine weighs on both
alike. Both read the same lines, this checkout's tuning sets (never a held-out set):

- `everyday`: the `none` lines, what most turns carry;
- `crisis`: the labelled crisis lines.

Each locale's detector is built as the bot builds it (its locale's crisis words with its
trained model) and reads its own language's lines. Figures are the median and p99
microseconds per message, with warm caches, as in a running bot. Only timings are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SETS = {"en": REPO / "tests/data/crisis/tuning", "es": REPO / "tests/data/crisis/tuning_es"}


def lines(locale: str) -> dict[str, list[str]]:
    """A locale's tuning lines, split into everyday and crisis lines."""
    found: dict[str, list[str]] = {"everyday": [], "crisis": []}
    for path in sorted(SETS[locale].glob("*.tsv")):
        for row in path.read_text(encoding="utf-8").splitlines()[1:]:
            label, text = row.split("\t", 1)
            found["everyday" if label == "none" else "crisis"].append(text)
    return found


def child(checkout: Path) -> None:
    """Time `checkout`'s detectors on this checkout's lines; print the figures as JSON."""
    sys.path.insert(0, str(checkout))
    from state.curriculum.loader import load_curriculum
    from state.engine.safety.detector import CrisisDetector

    locales = load_curriculum(checkout / "curriculum").locales
    figures: dict[str, list[float]] = {}
    for locale in SETS:
        words = locales[locale].locale
        assert words is not None
        detector = CrisisDetector.from_locale(words.crisis, locale)
        for part, texts in lines(locale).items():
            for text in texts:  # warm the caches, as a running bot has them
                detector.detect(text)
            spent = []
            for text in texts:
                start = time.perf_counter_ns()
                detector.detect(text)
                spent.append((time.perf_counter_ns() - start) / 1000)
            spent.sort()
            figures[f"{locale} {part}"] = [statistics.median(spent),
                                           spent[min(len(spent) - 1, int(len(spent) * 0.99))]]
    print(json.dumps(figures))


def timed(checkout: Path) -> dict[str, list[float]]:
    run = subprocess.run([sys.executable, __file__, "--child", str(checkout)],
                         check=True, capture_output=True, text=True)
    figures: dict[str, list[float]] = json.loads(run.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="the revision to compare with (default HEAD)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the two (default 2)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    sizes = {f"{locale} {part}": len(texts) for locale in SETS for part, texts in lines(locale).items()}
    with tempfile.TemporaryDirectory(prefix="craftbot-base-") as folder:
        base = Path(folder) / "base"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(base),
                        args.base], check=True)
        try:
            runs = [(name, timed(checkout)) for _ in range(args.rounds)
                    for name, checkout in (("this checkout", REPO), (f"base {args.base}", base))]
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)],
                           check=True)
    print(f"{'lines':<24}" + "".join(f"{name:>22}" for name, _ in runs))
    for key, size in sizes.items():
        cells = "".join(f"{f'{figures[key][0]:.0f} (p99 {figures[key][1]:.0f})':>22}"
                        for _, figures in runs)
        print(f"{f'{key} ({size})':<24}{cells}")
    print("\nmedian (p99) µs per message, warm caches; each column is one fresh process")


if __name__ == "__main__":
    main()
