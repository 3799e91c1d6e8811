"""`craftbot safety check`: what the crisis detector does with each message, so counselors can
test their words.

It reads messages from standard input, one per line, and prints one line per message:
`interrupt PATHWAY` (the pathway's help at once), `ask PATHWAY` (first "Is someone in danger
right now?") or `none`. With `--why` it adds the phrase that decided, after a tab, with what
its context did to it, or, when the locale's trained model made the call, `model KIND SCORE`.

    craftbot safety check < messages.txt
    echo "he's not breathing" | craftbot safety check --why
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from bot.config import BUNDLED_CURRICULUM
from state.curriculum.loader import read_curriculum
from state.engine.safety.detector import CrisisDetector, Detection

NONE = "none"


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `craftbot safety check` to the command line."""
    safety = sub.add_parser("safety", help="tools for the crisis words: craftbot safety check")
    tools = safety.add_subparsers(dest="safety_command", required=True)
    check = tools.add_parser(
        "check", help="read messages (one a line) from standard input; print for each"
                      " `interrupt PATHWAY`, `ask PATHWAY` or `none`")
    check.add_argument("--curriculum", type=Path, default=BUNDLED_CURRICULUM,
                       help="curriculum folder (default: the bundled one)")
    check.add_argument("--locale", default="en", help="the locale whose phrases to use (default: en)")
    check.add_argument("--why", action="store_true", help="also print the phrase (or the model and its score)"
                                                              " that decided")


def run(args: argparse.Namespace) -> int:
    """Run a `craftbot safety` subcommand."""
    detector = load_detector(args.curriculum, args.locale)
    if detector is None:
        return 2
    check(detector, sys.stdin, sys.stdout, why=args.why)
    return 0


def load_detector(curriculum: Path, locale: str) -> CrisisDetector | None:
    """The crisis detector of one locale; print why and return None if it cannot be read."""
    loaded, problems = read_curriculum(curriculum)
    content = loaded.locales.get(locale)
    if content is None or content.locale is None:
        for problem in problems:
            if problem.is_error and problem.file.endswith(f"{locale}/locale.yaml"):
                print(problem, file=sys.stderr)
        known = ", ".join(sorted(loaded.locales)) or "none"
        why = "its locale.yaml has errors" if content else f"no such locale (found: {known})"
        print(f"craftbot: cannot read the crisis words of '{locale}' in {curriculum}: {why}",
              file=sys.stderr)
        return None
    return CrisisDetector.from_locale(content.locale.crisis, locale)


def check(detector: CrisisDetector, source: TextIO, out: TextIO, *, why: bool = False) -> None:
    """Print one line per line of `source`: `interrupt PATHWAY`, `ask PATHWAY` or `none`."""
    for line in source:
        found = detector.detect(line.rstrip("\n"))
        out.write(f"{verdict(found, why=why)}\n")
    out.flush()


def verdict(found: Detection | None, *, why: bool = False) -> str:
    """One message's line: `interrupt PATHWAY`, `ask PATHWAY` or `none` (and the cue, with `why`)."""
    if found is None:
        return NONE
    line = f"{found.level} {found.pathway}"
    return f"{line}\t{found.cue}" if why else line
