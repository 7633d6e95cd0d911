"""From measured cells to the numbers the report quotes.

Two references per cell: for correctness, the sequential run of the same job
on the same input (any experiment: the output must not depend on the backend,
the split count or the start method); for speed, the sequential cell of the
same experiment, job, input and split count.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from compare.analyse.statistics import Interval, leaders, median_interval, suspect, value_range
from compare.cells import Cell, Experiment
from mapreduce.catalog import find_job


class Analysis:
    """The measured cells, with each one's references looked up once."""

    def __init__(self, cells: Sequence[Cell], cores: int | None = None) -> None:
        self.cells = list(cells)
        self.cores = cores or os.cpu_count() or 1
        self.intervals: dict[int, Interval | None] = {}
        """Each cell's speedup interval, by ``id(cell)``, computed once."""
        self.output_reference: dict[tuple, Cell] = {}
        self.timing_reference: dict[tuple, Cell] = {}
        for cell in self.cells:
            if cell.backend == "sequential" and cell.samples:
                self.output_reference.setdefault(cell.output_key, cell)
                self.timing_reference.setdefault(cell.timing_key, cell)

    def matches(self, cell: Cell) -> bool:
        """Whether the cell ran and its output equals the sequential backend's."""
        reference = self.output_reference.get(cell.output_key)
        return (
            cell.error is None
            and bool(cell.samples)
            and reference is not None
            and cell.digest == reference.digest
        )

    def failures(self) -> list[Cell]:
        """Cells that failed to run or whose output differs: each fails the study."""
        return [cell for cell in self.cells if not self.matches(cell)]

    def interval(self, cell: Cell) -> Interval | None:
        """The paired speedup over sequential, its median and interval; None if wrong output."""
        if not self.matches(cell):
            return None
        if id(cell) not in self.intervals:
            reference = self.timing_reference.get(cell.timing_key)
            self.intervals[id(cell)] = paired_interval(cell, reference)
        return self.intervals[id(cell)]

    def speedup(self, cell: Cell) -> float | None:
        """The median paired speedup over sequential; None if wrong output."""
        interval = self.interval(cell)
        return None if interval is None else interval.median

    def efficiency(self, cell: Cell) -> float | None:
        speedup = self.speedup(cell)
        return None if speedup is None else speedup / cell.workers

    def suspect(self, cell: Cell) -> str | None:
        """Why the cell's numbers cannot come from a correct run on an idle machine, or None."""
        if not self.matches(cell) or cell.baseline:
            return None  # a baseline is other code: it may well beat the engine's sequential
        workload = find_job(cell.job).workload
        speedup, cpu_use = self.interval(cell), cell.cpu_utilization
        return suspect(speedup, cell.workers, cell.backend, workload, cpu_use, self.cores)

    def slowdown(self, cell: Cell) -> Interval | None:
        """A straggler-experiment cell's time over the normal run of each round (median and
        interval); None if its output is wrong or it has no normal run to compare with."""
        normal = next(iter(self.select(Experiment.STRAGGLERS, job=cell.job, workers=cell.workers,
                                       scenario="normal")), None)  # fmt: skip
        if not self.matches(cell) or normal is None or not self.matches(normal):
            return None
        return value_range(
            [s.wall / n.wall for s, n in zip(cell.samples, normal.samples, strict=True)]
        )

    def select(self, experiment: str, **fields: object) -> list[Cell]:
        return [
            cell
            for cell in self.cells
            if cell.experiment == experiment
            and all(getattr(cell, name) == value for name, value in fields.items())
        ]

    def input_size_cells(self) -> list[Cell]:
        """The input-size sweep's cells, with the matrix's cells of its job on the same
        backends and worker count: the matrix's input is one more size of the sweep."""
        sweep = self.select(Experiment.INPUT_SIZE)
        if not sweep:
            return []
        names = {(c.backend, c.workers) for c in sweep}
        sizes = {c.input_bytes for c in sweep}
        matrix = [
            c
            for c in self.select(Experiment.MATRIX, job=sweep[0].job)
            if (c.backend, c.workers) in names and c.input_bytes not in sizes
        ]
        return sorted(sweep + matrix, key=lambda c: c.input_bytes)

    def citable(self, cell: Cell) -> bool:
        """Whether a finding may quote the cell: right output, a speedup, and not suspect."""
        return self.interval(cell) is not None and not self.suspect(cell)

    def leaders(self, cells: Sequence[Cell]) -> list[Cell]:
        """The citable cells tied for the highest speedup (one: a winner).

        Cells are compared by their intervals: one is ahead only when its
        interval lies wholly above the other's.
        """
        good = [cell for cell in cells if self.citable(cell)]
        return [good[i] for i in leaders({i: self.interval(c) for i, c in enumerate(good)})]


def paired_interval(cell: Cell, reference: Cell | None) -> Interval | None:
    """The cell's speedup from its pairs; from the medians where it has none."""
    if cell.backend == "sequential":
        return Interval(1.0, 1.0, 1.0)
    if values := cell.invocation_values:
        return median_interval(values)
    if ratios := cell.ratios:
        return value_range(ratios)
    if reference is None:
        return None
    ratio = reference.median / cell.median
    return Interval(ratio, ratio, ratio)
