"""Every statement the report makes about speed, and the numbers behind it, in one place.

A cell's speedup is the median of its paired ratios (the sequential run's wall
time over the cell's run right after it), with a 95% percentile-bootstrap
interval of that median (``RESAMPLES`` resamples of the pairs, seeded, so a
report is reproducible from ``results.json``).  A difference is said only
when the intervals say it: a speedup whose interval holds 1.0 is
``no faster (within noise)``, and a winner is named only when its interval
lies above the runner-up's.  A value that a correct run cannot produce is
``suspect``, shown as such and never turned into a finding.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K")

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 20261125

THREADS_ON_CPU_LIMIT = 1.2
"""Threads this much faster on pure-Python (``cpu``) work: the measurement moved, not the GIL."""

EFFICIENCY_SLACK = 1.05
"""A cell may beat perfect scaling by this much (a warmer cache) before it is suspect."""

MIN_PAIRS = 3
"""Fewer pairs than this give no interval: nothing is said to differ, and nothing is suspect."""

CPU_USE_SLACK = 1.05
"""CPU use may pass the core count by this much (sampling at the edges) before it is suspect."""


@dataclass(frozen=True)
class Interval:
    """A median and its confidence interval."""

    median: float
    low: float
    high: float

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high

    def above(self, other: Interval) -> bool:
        """Whether this interval lies wholly above ``other``: a difference beyond the noise."""
        return self.low > other.high


def median_interval(values: Sequence[float], seed: int = SEED) -> Interval:
    """The median of ``values`` and a percentile-bootstrap interval of it."""
    if not values:
        raise ValueError("no values")
    middle = statistics.median(values)
    if len(values) < MIN_PAIRS:  # too few to say how much the median could move
        return Interval(middle, -math.inf, math.inf)
    draw = random.Random(seed).choices
    medians = sorted(statistics.median(draw(values, k=len(values))) for _ in range(RESAMPLES))
    tail = (1 - CONFIDENCE) / 2
    low = medians[int(tail * (RESAMPLES - 1))]
    high = medians[int((1 - tail) * (RESAMPLES - 1))]
    return Interval(middle, low, high)


def ratio_text(ratio: float) -> str:
    """``1.90x faster`` or ``1.40x slower``, as pyperf says it."""
    return f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"


def speedup_text(interval: Interval | None) -> str:
    """A speedup and its interval: ``1.83x faster [1.78, 1.88]``, or that it is noise."""
    if interval is None:
        return "-"
    if math.isinf(interval.high):
        return f"{ratio_text(interval.median)} (too few runs for an interval)"
    if interval.holds(1.0):
        return f"no faster (within noise) [{interval.low:.2f}, {interval.high:.2f}]"
    if interval.median >= 1:
        return f"{ratio_text(interval.median)} [{interval.low:.2f}, {interval.high:.2f}]"
    return f"{ratio_text(interval.median)} [{1 / interval.high:.2f}, {1 / interval.low:.2f}]"


def slowdown_text(interval: Interval | None) -> str:
    """A slowdown against a reference run as the paper gives it: ``+44% [+30%, +61%]``."""
    if interval is None:
        return "-"
    change = f"{100 * (interval.median - 1):+.0f}%"
    if math.isinf(interval.high):
        return f"{change} (too few runs for an interval)"
    bounds = f"[{100 * (interval.low - 1):+.0f}%, {100 * (interval.high - 1):+.0f}%]"
    return f"within noise {bounds}" if interval.holds(1.0) else f"{change} {bounds}"


def leaders(speedups: dict[K, Interval]) -> list[K]:
    """The keys whose speedups cannot be told apart from the best one's: one key is a winner.

    Ranked by median; every key whose interval reaches the leader's lower
    bound is tied with it.
    """
    ranked = sorted(speedups, key=lambda name: speedups[name].median, reverse=True)
    if not ranked:
        return []
    best = speedups[ranked[0]]
    return [name for name in ranked if not best.above(speedups[name])]


def suspect(
    speedup: Interval | None, workers: int, backend: str, workload: str, cpu_use: float, cores: int
) -> str | None:
    """Why a cell's numbers cannot come from a correct run on an idle machine, or None."""
    if speedup is None or math.isinf(speedup.high):
        return None
    # waiting overlaps past the cores; computing cannot use more cores than it has
    most = workers if workload == "io" else min(workers, cores)
    if backend != "sequential" and speedup.low > most * EFFICIENCY_SLACK:
        if workers == 1:
            return "faster than sequential with one worker (efficiency over 100%)"
        return f"over {most}x faster with {most} busy cores (efficiency over 100%)"
    if backend == "threads" and workload == "cpu" and speedup.median > THREADS_ON_CPU_LIMIT:
        return (
            f"threads over {THREADS_ON_CPU_LIMIT}x faster on pure-Python work, which holds the GIL"
        )
    if cpu_use > cores * CPU_USE_SLACK:
        return f"CPU use {100 * cpu_use:.0f}% on {cores} cores"
    return None
