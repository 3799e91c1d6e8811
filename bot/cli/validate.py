"""`craftbot validate [DIR] [--against DB]`: check a curriculum folder before publishing it.

It prints every problem (`file:line:col: error: ...`) and a summary; the exit code is 1 when
any is an error. With `--against DB` it also tells how many people in that database stand on
steps that would change or vanish (`state.service.reload.compare`), reading it read-only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import BUNDLED_CURRICULUM
from state.curriculum.loader import read_curriculum
from state.service.reload import compare
from state.store.reports import ReportError, ReportStore


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot validate` on the `craftbot` parser."""
    validate = sub.add_parser("validate", help="check a curriculum folder and print problems")
    validate.add_argument("path", nargs="?", type=Path, default=None, help="curriculum folder")
    validate.add_argument("--quiet", action="store_true", help="print errors only, no warnings")
    validate.add_argument("--against", type=Path, metavar="DB",
                          help="also count the people in this database on steps that change or vanish")


def run(args: argparse.Namespace) -> int:
    """Validate the folder (the bundled curriculum by default); compare only a valid one."""
    folder = args.path or BUNDLED_CURRICULUM
    code = cmd_validate(folder, quiet=args.quiet)
    return cmd_against(folder, args.against) if args.against and code == 0 else code


def cmd_validate(path: Path, *, quiet: bool = False) -> int:
    """Print every problem in a curriculum; exit 1 if any is an error."""
    curriculum, problems = read_curriculum(path)
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


def cmd_against(folder: Path, database: Path, default_locale: str = "en") -> int:
    """Print how many people stand on steps the curriculum in `folder` changes or removes."""
    curriculum, _ = read_curriculum(folder, default_locale)
    try:
        with ReportStore(database) as store:
            standing = compare(curriculum, store.placements(), store.fingerprints())
    except ReportError as exc:
        print(f"craftbot validate: {exc}", file=sys.stderr)
        return 2
    print(f"\nAgainst {database}:")
    print("\n".join(standing.lines()))
    return 0
