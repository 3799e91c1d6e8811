"""Charts drawn with matplotlib (Agg, no display): a person's /progress picture and the stats chart.

The /progress picture shows the last weeks of check-ins, in the person's language: its words
are the locale's ui texts, its dates CLDR's through Babel ("8 dic" in Spanish, "Dec 8" in English).

Bars count, per calendar week, the days sober time was noticed and the rewards given;
a line shows the week's average stress (1-10, right axis). The numbers drawn are also
written into the PNG's `Description` text chunk as JSON (`series`), so a test, or anyone
holding the file, can read exactly what the picture shows.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from babel.dates import format_skeleton

from state.engine.between_sessions.checkins import Week
from state.reports.stats import Report, shown

STRESS_COLOR = "#d62728"
SOBER_COLOR = "#2ca02c"
REWARDS_COLOR = "#1f77b4"


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, from the locale's ui texts."""

    title: str
    stress: str
    sober: str
    rewards: str
    locale: str = "en"  # the language of the dates under the bars


def week_label(day: date, locale: str) -> str:
    """A week's first day as the locale writes a short day and month ("Dec 8", "8 dic")."""
    return format_skeleton("MMMd", day, locale=locale.replace("-", "_"))


def series(weeks: list[Week]) -> dict[str, list[Any]]:
    """What the chart draws, week by week (oldest first)."""
    return {
        "weeks": [w.start.isoformat() for w in weeks],
        "stress": [w.stress for w in weeks],
        "sober_days": [w.sober_days for w in weeks],
        "rewards": [w.rewards for w in weeks],
    }


def render_chart(weeks: list[Week], labels: ChartLabels) -> bytes:
    """The chart as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    data = series(weeks)
    fig = Figure(figsize=(8, 4.5), dpi=100)
    bars = fig.subplots()
    x = list(range(len(weeks)))
    width = 0.38
    bars.bar([i - width / 2 for i in x], data["sober_days"], width, color=SOBER_COLOR, label=labels.sober)
    bars.bar([i + width / 2 for i in x], data["rewards"], width, color=REWARDS_COLOR, label=labels.rewards)
    bars.set_ylim(0, max(7, *data["sober_days"], *data["rewards"]) + 1)
    bars.set_xticks(x, [week_label(w.start, labels.locale) for w in weeks], fontsize=8)
    stress = fig.axes[0].twinx()
    stress.plot(x, [math.nan if s is None else s for s in data["stress"]], color=STRESS_COLOR,
                marker="o", linewidth=2.5, label=labels.stress)
    stress.set_ylim(0, 10.5)
    stress.set_ylabel(labels.stress, color=STRESS_COLOR)
    handles = [*bars.get_legend_handles_labels()[0], *stress.get_legend_handles_labels()[0]]
    bars.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    bars.set_title(labels.title)
    for side in ("top",):
        bars.spines[side].set_visible(False)
        stress.spines[side].set_visible(False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Title": labels.title, "Description": json.dumps(data),
                                             "Software": "craftbot"})
    return out.getvalue()


def draw_report_chart(report: Report, path: Path) -> None:
    """Draw per-module starts and completions and weekly activity into one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 4 + 0.35 * len(report.modules)),
                                         gridspec_kw={"height_ratios": [max(2, len(report.modules)), 4]})
    titles = [m.title for m in report.modules][::-1]
    started = [m.started for m in report.modules][::-1]
    completed = [m.completed for m in report.modules][::-1]
    rows = range(len(titles))
    top.barh([r + 0.2 for r in rows], [v or 0 for v in started], height=0.4, label="started")
    top.barh([r - 0.2 for r in rows], [v or 0 for v in completed], height=0.4, label="completed")
    for r, (s, c) in enumerate(zip(started, completed, strict=True)):
        for value, offset in ((s, 0.2), (c, -0.2)):
            top.text(value or 0, r + offset, f" {shown(value)}", va="center", fontsize=8)
    top.set_yticks(list(rows), titles, fontsize=8)
    top.set_title("Modules: people who started and completed (counts from 1 to 4 shown as <5)")
    top.legend(loc="lower right", fontsize=8)
    places = range(len(report.weeks))
    for offset, label, values in ((-0.2, "active people", [w.active for w in report.weeks]),
                                  (0.2, "crisis interrupts", [w.crises for w in report.weeks])):
        bottom.bar([x + offset for x in places], [v or 0 for v in values], width=0.4, label=label)
        for x, value in zip(places, values, strict=True):
            if value is None:  # suppressed: no bar, just the mark
                bottom.text(x + offset, 0, "<5", ha="center", va="bottom", fontsize=6, color="grey")
    bottom.set_xticks(list(places), [w.week for w in report.weeks])
    bottom.set_title("Per ISO week (UTC)")
    bottom.tick_params(axis="x", labelrotation=45, labelsize=7)
    bottom.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
