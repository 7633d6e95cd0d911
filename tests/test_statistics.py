"""What the study may say about speed: intervals, ties, wins and suspect values, known samples."""

from __future__ import annotations

import itertools
import math
import statistics

import pytest

from compare.analyse.analysis import Analysis, paired_interval
from compare.analyse.findings import findings
from compare.analyse.statistics import (
    CONFIDENCE,
    Interval,
    leaders,
    median_interval,
    speedup_text,
    suspect,
    value_range,
)
from compare.cells import Cell, Sample
from compare.render.tables import all_tables


def test_the_interval_holds_the_median_and_lies_within_the_samples():
    values = [1.80, 1.84, 1.79, 1.90, 1.83, 1.85, 1.81]
    interval = median_interval(values)
    assert interval.median == statistics.median(values)
    assert min(values) <= interval.low <= interval.median <= interval.high <= max(values)


def test_an_interval_is_the_narrowest_pair_of_order_statistics_that_reaches_its_level():
    """Its level is the binomial one, counted here from every way the values can fall on
    either side of the median: a range of 3 holds it 75% of the time."""
    for count in range(3, 16):
        values = [float(i) for i in range(count)]
        interval = median_interval(values)
        depth = int(interval.low) + 1
        assert interval.high == count - depth  # symmetric: x(j) and x(n+1-j)
        # the interval misses the median when j or more values fall on one side of it
        misses = sum(
            1
            for signs in itertools.product((0, 1), repeat=count)
            if sum(signs) < depth or count - sum(signs) < depth
        )
        assert math.isclose(interval.level, 1 - misses / 2**count)
        deeper = 1 - 2 * sum(math.comb(count, i) for i in range(depth + 1)) / 2**count
        widest = depth == 1 and interval.level < CONFIDENCE  # too few values for the level
        assert interval.level >= CONFIDENCE > deeper or widest
    assert median_interval([3.0, 1.0, 2.0]).label == "75%"
    assert median_interval([float(i) for i in range(6)]).label == "96.8%"  # floored
    assert median_interval([float(i) for i in range(10)]).label == "99.8%"
    widest = median_interval([float(i) for i in range(14)])
    assert (widest.low, widest.high, widest.label) == (0.0, 13.0, "99.9%")
    deep = median_interval([float(i) for i in range(16)])
    assert (deep.low, deep.high) == (1.0, 14.0)


def test_rounds_of_one_process_give_their_range_and_claim_no_level():
    interval = value_range([1.80, 1.84, 1.79, 1.90])
    assert (interval.low, interval.high, interval.level) == (1.79, 1.90, None)
    assert speedup_text(interval) == "1.82x faster [1.79, 1.90] range of 4 runs"


def test_a_cell_measured_in_fresh_processes_takes_one_value_per_invocation():
    """Its rounds inside one invocation share that invocation's offset: they are one value."""
    ratios = {1: [1.9, 1.8], 2: [1.5, 1.6, 1.7], 3: [2.0], 4: [1.2, 1.0], 5: [1.9], 6: [1.8]}
    samples = [Sample(1.0, 1.0, {}, "same", 1.0)] * 3  # the study's own rounds: left out
    samples += [
        Sample(1 / r, 1.0, {}, "same", 1.0, invocation=number)
        for number, values in ratios.items()
        for r in values
    ]
    pool = Cell("matrix", "pi", "pi", 100, "pool", 2, samples=samples)
    medians = [statistics.median(values) for values in ratios.values()]
    assert sorted(pool.invocation_values) == pytest.approx(sorted(medians))
    interval = paired_interval(pool, None)
    assert interval == median_interval(pool.invocation_values)
    assert (interval.low, interval.high, interval.label) == pytest.approx((1.1, 2.0, "96.8%"))


def test_too_few_pairs_give_no_interval_and_no_claim():
    interval = median_interval([1.5, 1.6])
    assert math.isinf(interval.low) and math.isinf(interval.high)
    assert speedup_text(interval) == "1.55x faster (too few runs for an interval)"
    assert suspect(interval, 1, "joblib", "cpu", 1.0, 2) is None


def test_a_speedup_whose_interval_holds_one_is_noise():
    interval = median_interval([0.97, 1.04, 1.01, 0.99, 1.02])
    assert speedup_text(interval).startswith("no faster (within noise) [")


def test_speedups_and_slowdowns_are_said_as_pyperf_says_them():
    assert speedup_text(Interval(1.83, 1.78, 1.88)) == "1.83x faster [1.78, 1.88]"
    assert speedup_text(Interval(0.5, 0.4, 0.625)) == "2.00x slower [1.60, 2.50]"


def test_a_tie_is_reported_as_a_tie_and_a_clear_win_as_a_win():
    close = {
        "pool": median_interval([1.90, 1.84, 1.95]),
        "futures": median_interval([1.88, 1.80, 1.93]),
    }
    assert sorted(leaders(close)) == ["futures", "pool"]
    clear = {
        "pool": median_interval([1.90, 1.92, 1.95]),
        "threads": median_interval([1.0, 1.02, 0.98]),
    }
    assert leaders(clear) == ["pool"]


def test_values_a_correct_run_cannot_give_are_suspect():
    fast = Interval(1.44, 1.40, 1.50)
    assert "one worker" in suspect(fast, 1, "joblib", "cpu", 1.0, 2)
    assert "at 100% CPU" in suspect(fast, 2, "threads", "cpu", 1.0, 2)
    barely = Interval(1.05, 1.03, 1.07)  # beyond its interval, however little: not physics
    assert "threads faster than sequential" in suspect(barely, 2, "threads", "cpu", 1.02, 2)
    assert suspect(Interval(1.02, 0.97, 1.07), 2, "threads", "cpu", 1.0, 2) is None  # noise
    assert suspect(Interval(1.9, 1.8, 2.0), 2, "threads", "cpu", 1.9, 2) is None  # no GIL
    assert suspect(fast, 2, "threads", "io", 0.3, 2) is None  # waiting: threads may win
    assert "CPU use 250%" in suspect(fast, 2, "pool", "cpu", 2.5, 2)
    superlinear = Interval(2.49, 2.42, 2.90)
    assert "over 2x faster with 2 busy cores" in suspect(superlinear, 2, "joblib", "cpu", 1.9, 2)
    assert "over 2x faster" in suspect(superlinear, 4, "pool", "releases-gil", 1.9, 2)
    assert suspect(Interval(7.8, 7.7, 7.9), 8, "threads", "io", 0.2, 2) is None  # waits overlap
    assert suspect(Interval(1.9, 1.8, 2.0), 2, "pool", "cpu", 1.98, 2) is None


def cell(backend: str, workers: int, ratios: list[float], cpu_use: float) -> Cell:
    """A matrix cell of ``pi`` whose paired runs give ``ratios`` (sequential 1 s each)."""
    samples = [Sample(1 / r, cpu_use / r, {}, "same", 1.0) for r in ratios]
    if backend == "sequential":
        samples = [Sample(1.0, 1.0, {}, "same") for _ in ratios]
    return Cell("matrix", "pi", "pi", 100, backend, workers, samples=samples)


def test_a_report_where_threads_beat_sequential_on_pure_python_calls_it_suspect():
    cells = [
        cell("sequential", 1, [1, 1, 1], 1.0),
        cell("threads", 2, [1.50, 1.52, 1.49], 1.0),  # impossible under the GIL
        cell("pool", 2, [1.40, 1.42, 1.38], 1.9),
    ]
    analysis = Analysis(cells, cores=2)
    said = findings(analysis, load=0.0)
    suspects = [line for line in said if line.startswith("**Suspect values**")]
    assert len(suspects) == 1 and "pi on threads x2, threads faster than sequential" in suspects[0]
    others = [line for line in said if line not in suspects]
    assert not any("threads" in line for line in others)
    assert any("**pi**: fastest on pool with 2 worker(s), 1.40x faster" in line for line in others)
    rows = next(t for t in all_tables(analysis) if t.title.startswith("pi")).rows
    assert any(row[0] == "threads" and row[5].endswith("SUSPECT") for row in rows)
    assert [row[5] for row in rows if row[0] == "sequential"] == ["reference"]


def test_the_report_opens_with_the_headline_and_it_prefers_cells_that_are_not_suspect():
    cells = [
        cell("sequential", 1, [1, 1, 1], 1.0),
        cell("threads", 2, [1.50, 1.52, 1.49], 1.0),  # suspect
        cell("threads", 4, [0.98, 1.01, 0.99], 1.0),
        cell("pool", 2, [1.90, 1.92, 1.88], 1.9),
    ]
    analysis = Analysis(cells, cores=2)
    headline = all_tables(analysis)[0]
    assert headline.title.startswith("Headline")
    assert [row[2:4] for row in headline.rows] == [
        ["sequential x1", "reference"],
        ["threads x4", "no faster (within noise) [0.98, 1.01] range of 3 runs"],
        ["pool x2", "1.90x faster [1.88, 1.92] range of 3 runs"],
    ]
    alone = Analysis([cell for cell in cells if cell.workers != 4], cores=2)
    (threads,) = [row for row in all_tables(alone)[0].rows if row[2].startswith("threads")]
    assert threads[3].endswith("SUSPECT")  # the only threads cell: shown, as what it is


def test_the_matrix_input_is_the_input_size_sweeps_largest_point():
    def at(experiment: str, backend: str, size: int) -> Cell:
        workers = 1 if backend == "sequential" else 2
        return Cell(experiment, "wordcount", f"w {size}", size, backend, workers)

    sweep = [at("input-size", name, size) for size in (10, 20) for name in ("sequential", "pool")]
    matrix = [at("matrix", name, 45) for name in ("sequential", "pool", "threads", "joblib")]
    chosen = Analysis(matrix + sweep, cores=2).input_size_cells()
    assert [(c.input_bytes, c.backend) for c in chosen] == [
        (10, "sequential"), (10, "pool"), (20, "sequential"), (20, "pool"),
        (45, "sequential"), (45, "pool"),
    ]  # fmt: skip
    assert Analysis(matrix, cores=2).input_size_cells() == []
