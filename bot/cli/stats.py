"""`craftbot stats`: anonymous statistics from the database, for counselors and operators.

It prints the figures of `state.reports.stats` as a table, as JSON with `--json`, and draws
them as a PNG chart with `--png`. It reads the database read-only, beside a running bot.
With CRAFTBOT_DATA_KEY set it opens the sealed crisis pathways to count them by pathway.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings, load_settings
from bot.ptb.privacy import data_cipher
from state.curriculum.loader import read_curriculum
from state.reports.chart import draw_report_chart
from state.reports.stats import ModuleInfo, Report, build_report, duration_text, shown
from state.store.crypto import DataKeyError
from state.store.dialect import Location
from state.store.reports import ReportError, ReportStore


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot stats` on the `craftbot` parser."""
    parser = sub.add_parser(
        "stats", help="anonymous statistics: modules started and completed, where people stop")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--db", type=Path, help="SQLite file to read (default: the config's)")
    source.add_argument("--config", type=Path, help="settings file naming the database")
    parser.add_argument("--png", type=Path, help="also draw the figures as a PNG chart here")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--idle-days", type=int, default=7,
                        help="people idle longer than this count as stopped (default 7)")
    parser.add_argument("--weeks", type=int, default=12, help="weeks to show (default 12)")
    parser.add_argument("--curriculum", type=Path,
                        help="curriculum folder for module titles and step order (default: the config's)")


def modules_of(folder: Path, default_locale: str) -> list[ModuleInfo]:
    """The modules of a curriculum in menu order (what parses, even if it has errors)."""
    curriculum, _ = read_curriculum(folder, default_locale)
    content = curriculum.locales.get(default_locale) or next(iter(curriculum.locales.values()), None)
    if content is None:
        return []
    ordered = sorted(content.modules.values(), key=lambda m: (not m.onboarding, m.order, m.id))
    return [ModuleInfo(m.id, m.title, tuple(s.id for s in m.steps)) for m in ordered]


def run(args: argparse.Namespace) -> int:
    """Run `craftbot stats` with the settings of `--config`."""
    return cmd_stats(load_settings(args.config), args)


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    """Print the statistics (and draw the chart); exit 2 when the database cannot be read."""
    database = args.db or settings.storage.location()
    folder = args.curriculum or settings.curriculum.path
    modules = modules_of(folder, settings.curriculum.default_locale)
    try:
        # the key opens crisis pathways (on PostgreSQL through the key database)
        with ReportStore(database, data_cipher(), settings.storage.keys()) as store:
            report = build_report(store, modules, now=time.time(), idle_days=args.idle_days,
                                  weeks=args.weeks)
    except (ReportError, DataKeyError) as exc:
        print(f"craftbot stats: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(table_lines(report, Location.parse(database))))
    if args.png:
        draw_report_chart(report, args.png)
        print(f"chart written to {args.png}", file=sys.stderr)
    return 0


def _table(header: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < right_from else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def table_lines(report: Report, database: Path | Location) -> list[str]:
    """The report as a terminal table."""
    day = datetime.fromtimestamp(report.generated_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"craftbot statistics for {database}, {day}",
           "Counts from 1 to 4 are shown as <5 (0 as 0). No one is named or numbered.", ""]
    rows = [[m.title, shown(m.started), shown(m.completed),
             "-" if m.completion_rate is None else f"{m.completion_rate:.0%}",
             duration_text(m.median_seconds)] for m in report.modules]
    out += _table(["module", "started", "completed", "rate", "median time"], rows)
    out += ["", f"Where people stop (current step, no message for over {report.idle_days} days)"]
    stops = [[m.title, step, shown(cell)] for m in report.modules for step, cell in m.stopped]
    out += _table(["module", "step", "people"], stops, right_from=2) if stops else ["  nobody"]
    out += ["", "Per ISO week (UTC)"]
    out += _table(["week", "active people", "crisis interrupts"],
                  [[w.week, shown(w.active), shown(w.crises)] for w in report.weeks])
    out += ["", f"In all: {shown(report.people)} people stored,"
                f" {shown(report.crises)} crisis interrupts."]
    if report.crisis_pathways:
        out.append("Crisis interrupts by pathway: " + ", ".join(
            f"{name} {shown(cell)}" for name, cell in report.crisis_pathways.items()))
    return out
