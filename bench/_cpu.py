"""CPU seconds by group of processes, and the machine's busy share, read from /proc.

Not a benchmark itself (`make bench` skips files starting with `_`). A group is named by its
root processes: a root whose tree counts sums the user + system time of the root and of every
live descendant, each with the time of the children it has already reaped (`cutime` +
`cstime`), so a PostgreSQL backend that exits within the window still counts (in its
postmaster's reaped time). A root whose tree does not count is its own threads only (the
bench's process, whose children are the bots under test, counted in their own group).

`Meter.read()` before and after a window gives `Usage`: CPU seconds per group, the machine's
busy share over the window (/proc/stat: every core's time but idle and iowait), and what
the rest of the machine used (other sessions' work on a shared machine).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class Task:
    """One process's parent and CPU ticks: its own (all threads) and its reaped children's."""

    ppid: int
    own: int
    reaped: int


def processes() -> dict[int, Task]:
    """Every process now readable in /proc (one may end while being read: left out)."""
    found: dict[int, Task] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry.name)] = Task(int(fields[1]), int(fields[11]) + int(fields[12]),
                                      int(fields[13]) + int(fields[14]))
    return found


def tree_ticks(root: int, table: dict[int, Task]) -> int:
    """Ticks of a process and its live descendants, with what each has reaped."""
    children: dict[int, list[int]] = {}
    for pid, found in table.items():
        children.setdefault(found.ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        task = table.get(pid)
        if task is None:
            continue
        total += task.own + task.reaped
        todo.extend(children.get(pid, []))
    return total


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of every core since boot, from /proc/stat's first line.

    Busy is user, nice, system, irq and softirq; not idle, iowait, nor steal (the hypervisor
    running another machine); guest time is already in user, so it is not added again.
    """
    values = [*(int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]), 0, 0, 0]
    user, nice, system, idle, iowait, irq, softirq, steal = values[:8]
    return user + nice + system + irq + softirq, user + nice + system + idle + iowait + irq + softirq + steal


@dataclass(frozen=True)
class Reading:
    """Ticks by group, and the machine's, at one moment."""

    at: float
    groups: dict[str, int]
    busy: int
    total: int


@dataclass(frozen=True)
class Usage:
    """CPU over a window: seconds by group, the machine's busy share, the rest of the machine's."""

    seconds: float
    groups: dict[str, float]
    busy_share: float
    others: float

    def per_turn_ms(self, turns: int) -> dict[str, float]:
        """Milliseconds of CPU per turn, by group."""
        return {name: 1000 * cpu / max(1, turns) for name, cpu in self.groups.items()}


class Meter:
    """Reads the CPU of named groups: {name: [(pid, whole tree?)]}, pids asked for at each read."""

    def __init__(self, groups: dict[str, list[tuple[int, bool]]]) -> None:
        self.groups = groups

    def read(self) -> Reading:
        """The ticks now."""
        table = processes()
        found = {}
        for name, roots in self.groups.items():
            found[name] = sum(tree_ticks(pid, table) if tree else (table[pid].own if pid in table else 0)
                              for pid, tree in roots)
        busy, total = machine_ticks()
        return Reading(time.perf_counter(), found, busy, total)

    @staticmethod
    def usage(before: Reading, after: Reading) -> Usage:
        """What was used between two readings."""
        groups = {name: (after.groups[name] - before.groups.get(name, 0)) / TICK for name in after.groups}
        busy, total = after.busy - before.busy, after.total - before.total
        return Usage(after.at - before.at, groups, busy / max(1, total),
                     busy / TICK - sum(groups.values()))


def postmaster_pid(data: Path) -> int:
    """The PostgreSQL server's main process, from its data folder's postmaster.pid."""
    return int((data / "postmaster.pid").read_text().split("\n", 1)[0])
