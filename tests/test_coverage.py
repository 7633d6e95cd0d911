"""The level printed beside an interval is the level it has: the study's own estimator,
simulated on samples drawn as the study's are, holds the true median that often.

A study's samples differ by two kinds of noise: between invocations (a fresh
process lands on another memory layout, hash seed, core: every run in it is
offset alike) and within one (round to round), with now and then a run slowed
by the rest of the machine.  The sizes are those measured on this project's
2-core machine (docs/STUDY.md, "Where the variance is").
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable

import pytest

from compare.analyse.analysis import paired_interval
from compare.analyse.statistics import CONFIDENCE, Interval, median_interval
from compare.cells import Cell, Sample
from compare.design.presets import PRESETS

BETWEEN = 0.05
"""Standard deviation of an invocation's offset, in log ratio."""
WITHIN = 0.03
"""Standard deviation of one round's ratio around its invocation's, in log ratio."""
SLOWED = (0.05, 1.3)
"""How often a run is slowed by other work on the machine, and by up to how much."""
SPEEDUP = 1.9
SIMULATIONS = 4000
"""Enough to tell 94% from 95%: the standard error of a coverage near 95% is 0.34%."""


def tolerance(level: float) -> float:
    """How far under ``level`` a coverage simulated ``SIMULATIONS`` times may fall by chance
    (three standard errors): 0.9 points for 96%."""
    return 3 * math.sqrt(level * (1 - level) / SIMULATIONS)


def ratio(rng: random.Random, offset: float) -> float:
    slowed = rng.uniform(1, SLOWED[1]) if rng.random() < SLOWED[0] else 1.0
    return SPEEDUP * math.exp(offset + rng.gauss(0, WITHIN)) / slowed


def samples(rng: random.Random, invocations: int, rounds: int) -> list[Sample]:
    """One cell's samples: ``rounds`` in each of ``invocations`` fresh processes."""
    drawn = []
    for number in range(1, invocations + 1):
        offset = rng.gauss(0, BETWEEN)
        for _ in range(rounds):
            value = ratio(rng, offset)
            drawn.append(Sample(1 / value, 1.9 / value, {}, "same", 1.0, invocation=number))
    return drawn


def true_median(rounds: int, rng: random.Random, draws: int = 200_000) -> float:
    """The median of one invocation's value (its rounds' median ratio), by many draws."""
    return statistics.median(
        statistics.median(ratio(rng, offset) for _ in range(rounds))
        for offset in (rng.gauss(0, BETWEEN) for _ in range(draws))
    )


def coverage(
    estimate: Callable[[list[Sample]], Interval], invocations: int, rounds: int
) -> tuple[float, float]:
    """How often ``estimate`` held the true median, and the level it printed (the lowest)."""
    rng = random.Random(20261204)
    truth = true_median(rounds, rng)
    held, levels = 0, []
    for _ in range(SIMULATIONS):
        interval = estimate(samples(rng, invocations, rounds))
        held += interval.holds(truth)
        levels.append(interval.level)
    return held / SIMULATIONS, min(levels)


def the_studys(drawn: list[Sample]) -> Interval:
    """The study's own estimator: the interval of a cell with these samples."""
    return paired_interval(cell(drawn), None)


def cell(drawn: list[Sample]) -> Cell:
    return Cell("matrix", "pi", "pi", 100, "pool", 2, samples=drawn)


def pooled(drawn: list[Sample]) -> Interval:
    """Every round taken as if independent, labelled as if it were: what the check rejects."""
    return median_interval([s.ratio for s in drawn])


PRESET_SHAPES = sorted(
    {(p.invocations, p.invocation_rounds) for p in PRESETS.values() if p.invocations}
)


@pytest.mark.parametrize(("invocations", "rounds"), PRESET_SHAPES)
def test_the_printed_level_is_the_level_the_interval_has(invocations, rounds):
    held, level = coverage(the_studys, invocations, rounds)
    assert held >= level - tolerance(level), f"held {held:.1%} of the time, printed {level:.1%}"


def test_the_default_studys_headline_intervals_reach_the_confidence_they_are_cut_for():
    default = PRESETS["default"]
    held, level = coverage(the_studys, default.invocations, default.invocation_rounds)
    assert level >= CONFIDENCE and held >= CONFIDENCE - tolerance(CONFIDENCE)


def agreement(estimate: Callable[[list[Sample]], Interval], invocations: int) -> float:
    """How often two runs, each of ``invocations`` fresh processes, agree on a cell: each
    one's median inside the other's interval, with no widening."""
    rng = random.Random(20261205)
    agreed = 0
    for _ in range(SIMULATIONS):
        first, second = (estimate(samples(rng, invocations, 1)) for _ in range(2))
        agreed += first.holds(second.median) and second.holds(first.median)
    return agreed / SIMULATIONS


HEADLINE_SPEEDUPS = 8
"""Per regime's job, threads and the best process: pi, word count, fetch, compress."""


def test_two_default_runs_agree_on_all_the_headlines_speedups_at_least_94_percent_of_the_time():
    each = agreement(the_studys, PRESETS["default"].invocations)
    assert each**HEADLINE_SPEEDUPS >= 0.94, f"{each:.2%} a cell"


def test_a_95_percent_interval_of_the_median_holds_another_runs_median_far_less_often():
    """The other run's median has noise of its own: that is why the study cuts 99.9%."""

    def cut_for_95(drawn: list[Sample]) -> Interval:
        return median_interval(cell(drawn).invocation_values, 0.95)

    rate = agreement(cut_for_95, PRESETS["default"].invocations)
    assert rate < 0.9


@pytest.mark.parametrize("invocations", [4, 5])
def test_fewer_invocations_print_the_lower_level_they_have(invocations):
    held, level = coverage(the_studys, invocations, 1)
    assert level < CONFIDENCE
    assert held >= level - tolerance(level)


def test_a_level_the_interval_does_not_have_fails_the_check():
    """Rounds inside one invocation share its offset: labelled as independent values, their
    interval claims a level it is far from having."""
    held, level = coverage(pooled, 6, 3)
    assert held < level - tolerance(level)
