"""Anonymous statistics: how modules are used and where families stop, in counts only.

`build_report` turns what `state.store.reports` reads into a `Report` in which every count
from 1 to `SUPPRESS_BELOW` - 1 is already replaced by None (shown as "<5"; a zero is shown as
0: it points at no one), rates and median times
are given only where both counts behind them are shown, and nothing names or numbers a
person. The terminal table, the JSON and the PNG chart are all drawn from a `Report`, so
none of them can show more than it holds.

Definitions (all times UTC):

* started / completed: different people with a `module_started` / `module_completed` event;
* completion rate: completed / started;
* median time to complete: for each person's first completion, the time since the start
  that preceded it;
* stopped at: people whose current step is that step and whose last message is older than
  `idle_days`;
* active users per ISO week: different people who wrote at least once that week;
* crisis interrupts: crisis words detected in a message (the /safety command not counted),
  also by crisis pathway where the database records it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from state.store.progress import iso_week
from state.store.reports import ModuleEvent, ReportStore

SUPPRESS_BELOW = 5
DAY = 86400.0

Cell = int | None  # None: 1 to SUPPRESS_BELOW - 1, not shown (0 is shown)


def suppress(count: int) -> Cell:
    """The count, or None when it is too small to show without pointing at someone (1 to 4).

    Zero is shown as it is: nobody is there to point at, and "<5" would hide that nothing happened.
    """
    return count if count == 0 or count >= SUPPRESS_BELOW else None


def shown(cell: Cell) -> str:
    """A cell as printed: the number (0 too), or "<5" for a suppressed one."""
    return f"<{SUPPRESS_BELOW}" if cell is None else str(cell)


@dataclass(frozen=True)
class ModuleInfo:
    """What the report needs to know about a module: its id, title and steps in order."""

    id: str
    title: str
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModuleStats:
    """One module's figures, small counts already suppressed."""

    module: str
    title: str
    started: Cell
    completed: Cell
    completion_rate: float | None
    median_seconds: float | None
    stopped: list[tuple[str, Cell]] = field(default_factory=list)


@dataclass(frozen=True)
class WeekStats:
    """One ISO week: different active people and crisis interrupts."""

    week: str
    active: Cell
    crises: Cell


@dataclass(frozen=True)
class Report:
    """Everything `craftbot stats` shows."""

    generated_at: float
    idle_days: int
    people: Cell
    crises: Cell
    modules: list[ModuleStats]
    weeks: list[WeekStats]
    crisis_pathways: dict[str, Cell] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data; suppressed counts are the string "<5"."""
        return {
            "generated_at": datetime.fromtimestamp(self.generated_at, UTC).isoformat(),
            "suppressed_below": SUPPRESS_BELOW,
            "idle_days": self.idle_days,
            "people": _json_cell(self.people),
            "crisis_interrupts": _json_cell(self.crises),
            "crisis_interrupts_by_pathway": {k: _json_cell(v) for k, v in self.crisis_pathways.items()},
            "modules": [{
                "module": m.module, "title": m.title, "started": _json_cell(m.started),
                "completed": _json_cell(m.completed), "completion_rate": m.completion_rate,
                "median_seconds_to_complete": m.median_seconds,
                "stopped": [{"step": step, "people": _json_cell(cell)} for step, cell in m.stopped],
            } for m in self.modules],
            "weeks": [{"week": w.week, "active_users": _json_cell(w.active),
                       "crisis_interrupts": _json_cell(w.crises)} for w in self.weeks],
        }


def _json_cell(cell: Cell) -> int | str:
    return shown(cell) if cell is None else cell


def build_report(store: ReportStore, modules: list[ModuleInfo], *, now: float,
                 idle_days: int = 7, weeks: int = 12) -> Report:
    """Read the database and compute every figure, suppressing small counts."""
    events = store.module_events()
    known = {m.id for m in modules}
    retired = sorted({e.module for e in events} - known)
    everything = modules + [ModuleInfo(m, f"{m} (no longer in the curriculum)") for m in retired]
    idle = store.idle_placements(now - idle_days * DAY)
    return Report(
        generated_at=now,
        idle_days=idle_days,
        people=suppress(store.user_count()),
        crises=suppress(len(store.event_times("crisis"))),
        modules=[_module_stats(info, events, idle) for info in everything],
        weeks=_weeks(store, now, weeks),
        crisis_pathways={k: suppress(n) for k, n in store.event_details("crisis").items()},
    )


def _module_stats(info: ModuleInfo, events: list[ModuleEvent],
                  idle: list[tuple[str, str, int]]) -> ModuleStats:
    mine = [e for e in events if e.module == info.id]
    started = {e.user_id for e in mine if e.kind == "module_started"}
    completed = {e.user_id for e in mine if e.kind == "module_completed"}
    shown_started, shown_completed = suppress(len(started)), suppress(len(completed))
    rate = None
    if shown_started and shown_completed is not None:  # no rate of nobody
        rate = min(1.0, len(completed) / len(started))
    durations = _durations(mine)
    median = statistics.median(durations) if len(durations) >= SUPPRESS_BELOW else None
    order = {step: i for i, step in enumerate(info.steps)}
    stopped = sorted(((step, users) for module, step, users in idle if module == info.id),
                     key=lambda item: (order.get(item[0], len(order)), item[0]))
    return ModuleStats(info.id, info.title, shown_started, shown_completed, rate, median,
                       [(step, suppress(users)) for step, users in stopped])


def _durations(events: list[ModuleEvent]) -> list[float]:
    """Seconds from start to first completion, one per person who completed."""
    began: dict[int, float] = {}
    took: dict[int, float] = {}
    for event in events:  # in time order
        if event.kind == "module_started":
            began[event.user_id] = event.at
        elif event.user_id in began and event.user_id not in took:
            took[event.user_id] = event.at - began[event.user_id]
    return list(took.values())


def _weeks(store: ReportStore, now: float, count: int) -> list[WeekStats]:
    """The last `count` ISO weeks up to `now`, oldest first."""
    active = store.weekly_active()
    crises: dict[str, int] = {}
    for at in store.event_times("crisis"):
        week = iso_week(at)
        crises[week] = crises.get(week, 0) + 1
    today = datetime.fromtimestamp(now, UTC)
    labels = [iso_week((today - timedelta(weeks=back)).timestamp()) for back in range(count)]
    return [WeekStats(w, suppress(active.get(w, 0)), suppress(crises.get(w, 0)))
            for w in reversed(labels)]


def duration_text(seconds: float | None) -> str:
    """A duration the way a person says it: 12 min, 3.5 h, 2.0 days; "-" when unknown."""
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 2 * DAY:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / DAY:.1f} days"
