"""Every statement the report makes about speed, and the numbers behind it, in one place.

A cell's speedup is the median of its values.  Where it was measured in
several fresh processes (the headline's cells), a value is an invocation's
median paired ratio, and its interval is a pair of order statistics of those
values, ``[x(j), x(n+1-j)]``, which holds the median of the distribution
they are drawn from with probability ``1 - 2 P(Binomial(n, 1/2) < j)``,
whatever that distribution is: the narrowest pair that reaches
``CONFIDENCE``, labelled with the level it has, floored to a tenth of a
percent (99.9% for 14 values, their range; 96.8% for 6).
Elsewhere a value is a paired ratio (the sequential run's wall time over the
cell's run right after it) from the rounds of the study's one process: their
spread leaves out the variance between processes, so its interval is their
range and says so (``range of 3 runs``), claiming no level.  A difference
is said only when the intervals say it: a speedup whose interval holds 1.0
is ``no faster (within noise)``, and a winner is named only when its
interval lies above the runner-up's.  A value that a correct run cannot
produce is ``suspect``, shown as such and never turned into a finding.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K")

CONFIDENCE = 0.999
"""The level an interval is cut for, when there are values enough to reach it.

Not 95%: a reader checks a figure against another run, whose median has noise of its
own.  Another run's median of 14 values lands inside a 95% interval of the median of 14
(the 3rd to 12th of them, 98.7%) only 93% of the time, and two such runs agree both ways
on a cell 88% of the time: on all eight cells of the headline about one time in three.
Inside the range of 14 (99.99%) it lands 99.7% of the time, and two runs agree on all
eight 95% of the time (``tests/test_coverage.py``)."""

ONE_CORE = 1.5
"""CPU use under this many cores is one core's: threads taking turns on the GIL."""

EFFICIENCY_SLACK = 1.05
"""A cell may beat perfect scaling by this much (a warmer cache) before it is suspect."""

MIN_PAIRS = 3
"""Fewer values than this give no interval: nothing is said to differ, and nothing is suspect."""

CPU_USE_SLACK = 1.05
"""CPU use may pass the core count by this much (sampling at the edges) before it is suspect."""


@dataclass(frozen=True)
class Interval:
    """A median and an interval of it, with what the interval is."""

    median: float
    low: float
    high: float
    level: float | None = None
    """The probability that an interval cut this way holds the median it estimates; None
    for the range of values that are not independent (the rounds of one process)."""
    values: int = 0
    """How many values it was cut from (0: given, not cut from values)."""

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high

    def above(self, other: Interval) -> bool:
        """Whether this interval lies wholly above ``other``: a difference beyond the noise."""
        return self.low > other.high

    @property
    def label(self) -> str:
        """What the interval is: ``96.8%`` (its level, floored), or ``range of 3 runs``;
        empty for one given."""
        if not self.values:
            return ""
        if self.level is None:
            return f"range of {self.values} runs"
        return f"{math.floor(1000 * self.level) / 10:g}%"


def coverage(count: int, depth: int) -> float:
    """The probability that ``[x(depth), x(count + 1 - depth)]`` of ``count`` independent
    values holds their distribution's median (any continuous distribution)."""
    below = sum(math.comb(count, i) for i in range(depth))
    return 1 - 2 * below / 2**count


def median_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The median of independent ``values`` and the narrowest order-statistic interval of it
    that reaches ``confidence`` (their range, at the level it has, if none does)."""
    middle, count = center(values)
    if count < MIN_PAIRS:  # too few to say how much the median could move
        return Interval(middle, -math.inf, math.inf, 0.0, count)
    ordered = sorted(values)
    depth = 1
    while depth < (count + 1) // 2 and coverage(count, depth + 1) >= confidence:
        depth += 1
    low, high = ordered[depth - 1], ordered[count - depth]
    return Interval(middle, low, high, coverage(count, depth), count)


def value_range(values: Sequence[float]) -> Interval:
    """The median of ``values`` and their range: what rounds in one process give, whose
    spread leaves out the variance between processes, so no level is claimed for it."""
    middle, count = center(values)
    if count < MIN_PAIRS:
        return Interval(middle, -math.inf, math.inf, None, count)
    return Interval(middle, min(values), max(values), None, count)


def center(values: Sequence[float]) -> tuple[float, int]:
    """The median of ``values`` and how many there are; an error for none."""
    if not values:
        raise ValueError("no values")
    return statistics.median(values), len(values)


def ratio_text(ratio: float) -> str:
    """``1.90x faster`` or ``1.40x slower``, as pyperf says it."""
    return f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"


def bounds(low: float, high: float, interval: Interval) -> str:
    """``[1.78, 1.88] 96.8%``: the bounds and what they are."""
    label = f" {interval.label}" if interval.label else ""
    return f"[{low}, {high}]{label}"


def speedup_text(interval: Interval | None) -> str:
    """A speedup and its interval: ``1.83x faster [1.78, 1.88] 99.9%``, or that it is noise."""
    if interval is None:
        return "-"
    if math.isinf(interval.high):
        return f"{ratio_text(interval.median)} (too few runs for an interval)"
    low, high = f"{interval.low:.2f}", f"{interval.high:.2f}"
    if interval.holds(1.0):
        return f"no faster (within noise) {bounds(low, high, interval)}"
    if interval.median >= 1:
        return f"{ratio_text(interval.median)} {bounds(low, high, interval)}"
    slower = bounds(f"{1 / interval.high:.2f}", f"{1 / interval.low:.2f}", interval)
    return f"{ratio_text(interval.median)} {slower}"


def slowdown_text(interval: Interval | None) -> str:
    """A slowdown against a reference run as the paper gives it: ``+44% [+30%, +61%]``."""
    if interval is None:
        return "-"
    change = f"{100 * (interval.median - 1):+.0f}%"
    if math.isinf(interval.high):
        return f"{change} (too few runs for an interval)"
    low, high = f"{100 * (interval.low - 1):+.0f}%", f"{100 * (interval.high - 1):+.0f}%"
    cut = bounds(low, high, interval)
    return f"within noise {cut}" if interval.holds(1.0) else f"{change} {cut}"


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
    if backend == "threads" and workload == "cpu" and speedup.low > 1 and cpu_use < ONE_CORE:
        return (
            f"threads faster than sequential on pure-Python work at {100 * cpu_use:.0f}% CPU: "
            "one core does not run the same work faster in two threads that take turns"
        )
    if cpu_use > cores * CPU_USE_SLACK:
        return f"CPU use {100 * cpu_use:.0f}% on {cores} cores"
    return None
