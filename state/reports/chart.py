"""The /progress picture: the last weeks of check-ins, drawn with matplotlib (Agg, no display).

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
from typing import Any

from state.checkins import Week

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
    bars.set_xticks(x, [w.start.strftime("%b %d") for w in weeks], fontsize=8)
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
