"""Aggregate figures of a crisis detector on a frozen labelled set, never a line of it.

The held-out sets (tests/data/crisis/heldout*/) are for measuring only, so what leaves this
module is four shares and one printed line of them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from state.engine.safety.detector import Detection

Detect = Callable[[str], Detection | None]
Figures = tuple[float, float, float, float]  # caught, interrupted, everyday interrupts, asks


def measure(path: Path, detect: Detect) -> Figures:
    """Crises caught (interrupt or ask), crises interrupted, everyday lines interrupted, asked."""
    return measure_all([path], detect)


def measure_all(paths: list[Path], detect: Detect) -> Figures:
    """The same four shares over the lines of several sets pooled."""
    rows = [line.split("\t", 1) for path in paths
            for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    levels = [(label, found.level if (found := detect(text)) else "none") for label, text in rows]
    crises = [level for label, level in levels if label != "none"]
    everyday = [level for label, level in levels if label == "none"]
    caught = sum(level != "none" for level in crises) / len(crises)
    interrupted = crises.count("interrupt") / len(crises)
    false_interrupts = everyday.count("interrupt") / len(everyday)
    false_asks = everyday.count("ask") / len(everyday)
    name = " + ".join(f"{path.parent.name}/{path.name}" for path in paths)
    print(f"\n{name}: caught {caught:.3f}, interrupted {interrupted:.3f};"
          f" everyday interrupts {false_interrupts:.3f}, asks {false_asks:.3f}")
    return caught, interrupted, false_interrupts, false_asks



def assert_meets(figures: Figures, floors: Figures) -> None:
    """At least the floors of crises caught and interrupted, at most the ceilings of everyday
    interrupts and asks."""
    caught, interrupted, false_interrupts, false_asks = figures
    assert caught >= floors[0] and interrupted >= floors[1]
    assert false_interrupts <= floors[2] and false_asks <= floors[3]
