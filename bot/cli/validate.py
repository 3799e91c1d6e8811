"""`craftbot validate [DIR] [--strict] [--against DB]`: check a curriculum folder before publishing it.

It prints every problem (`file:line:col: error: ...`) and a summary; the exit code is 1 when
any is an error. With `--against DB` it also tells how many people in that database stand on
steps that would change or vanish (`state.service.reload.compare`), reading it read-only.

Every translated locale is checked against the source locale (`state.curriculum.locales`):
a stale translation or a missing module is a warning, an error with `--strict`.

The curriculum is read with its own default locale (`en` when it has one, else its first
locale folder), so a curriculum in other languages is checked, and compared, as it is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import BUNDLED_CURRICULUM
from state.curriculum.diagnostics import Diagnostic
from state.curriculum.loader import own_default_locale, read_curriculum
from state.curriculum.model import Curriculum
from state.service.reload import compare
from state.store.dialect import Location
from state.store.reports import ReportError, ReportStore


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot validate` on the `craftbot` parser."""
    validate = sub.add_parser("validate", help="check a curriculum folder and print problems")
    validate.add_argument("path", nargs="?", type=Path, default=None, help="curriculum folder")
    validate.add_argument("--quiet", action="store_true", help="print errors only, no warnings")
    validate.add_argument("--strict", action="store_true",
                          help="a translation that is stale or missing modules is an error")
    validate.add_argument("--against", metavar="DB",
                          help="also count the people in this database (a SQLite file or postgresql://...)"
                          " on steps that change or vanish")


def run(args: argparse.Namespace) -> int:
    """Validate the folder (the bundled curriculum by default); compare only a valid one."""
    folder = args.path or BUNDLED_CURRICULUM
    curriculum, problems = read_curriculum(folder, own_default_locale(folder), strict=args.strict)
    code = print_problems(curriculum, problems, quiet=args.quiet)
    return print_against(curriculum, args.against) if args.against and code == 0 else code


def print_problems(curriculum: Curriculum, problems: list[Diagnostic], *, quiet: bool = False) -> int:
    """Print every problem in a curriculum and a summary; 1 if any is an error."""
    errors = [p for p in problems if p.is_error]
    for problem in problems:
        if problem.is_error or not quiet:
            print(problem)
    modules = sum(len(c.modules) for c in curriculum.locales.values())
    warnings = len(problems) - len(errors)
    summary = (f"{len(errors)} error(s), {warnings} warning(s) in {modules} module(s),"
               f" {len(curriculum.locales)} locale(s)")
    print(summary if errors else f"ok: {summary} (version {curriculum.version})",
          file=sys.stderr if errors else sys.stdout)
    return 1 if errors else 0


def print_against(curriculum: Curriculum, database: Path | str) -> int:
    """Print how many people in `database` stand on steps the curriculum changes or removes."""
    try:
        with ReportStore(database) as store:
            standing = compare(curriculum, store.placements(), store.fingerprints())
    except ReportError as exc:
        print(f"craftbot validate: {exc}", file=sys.stderr)
        return 2
    print(f"\nAgainst {Location.parse(database)}:")
    print("\n".join(standing.lines()))
    return 0
