"""Measuring one cell: a job on one backend, configuration and input, repeated.

The backend is opened once (its start-up timed on its own), the job runs once
to warm up (imports, caches, the page cache), then ``repeat`` timed runs keep
every sample: wall seconds, CPU seconds of the whole process tree, the time
of each phase, and the output digest.

Runs are paired: right before each timed run, the same job on the same input
runs on the sequential backend, and its wall time is kept beside the sample.
On a shared machine the speed of a core drifts by tens of percent over
seconds; a ratio of two runs taken back to back is far steadier than a ratio
of two cells measured a minute apart.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import backends
from backends import Backend
from compare.baselines import BASELINES
from compare.cpu import cpu_seconds_between, tree_cpu_seconds
from compare.datasets import Dataset
from mapreduce import driver
from mapreduce.catalog import find_job
from mapreduce.errors import one_line
from mapreduce.output import digest, format_lines


@dataclass
class Sample:
    wall: float
    cpu: float
    phases: dict[str, float]
    digest: str
    paired_sequential: float | None = None
    """Wall seconds of the sequential run just before this one (paired measurement)."""


@dataclass
class Cell:
    """One measured configuration; what is measured is filled in by ``measure``."""

    experiment: str
    job: str
    dataset: str
    input_bytes: int
    backend: str
    workers: int
    params: dict[str, Any] = field(default_factory=dict)
    start_method: str | None = None
    splits: int | None = None
    startup_seconds: float | None = None
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None
    source: Dataset | None = field(default=None, repr=False)
    """The input files; not saved (results.json describes datasets once, by name)."""

    @property
    def walls(self) -> list[float]:
        return [s.wall for s in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu_utilization(self) -> float:
        """Median of CPU seconds over wall seconds, per sample (1.0 is one busy core)."""
        return statistics.median(s.cpu / s.wall for s in self.samples)

    @property
    def digest(self) -> str | None:
        """The output digest; ``"inconsistent"`` if this cell's own runs disagreed."""
        digests = {s.digest for s in self.samples}
        if not digests:
            return None
        return digests.pop() if len(digests) == 1 else "inconsistent"

    def phase_median(self, phase: str) -> float:
        return statistics.median(s.phases.get(phase, 0.0) for s in self.samples)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "source"}


BASELINE = "baseline:"
"""Prefix of a cell's backend name that runs a framework-free baseline instead of the engine."""


Runner = Callable[[], tuple[str, dict[str, float]]]
"""Runs a cell once; returns the output digest and the seconds of each phase."""


def baseline_runner(cell: Cell) -> Runner:
    """Runs the cell's baseline word count (it has no phases)."""
    function = BASELINES[cell.backend.removeprefix(BASELINE)]
    paths = cell.source.paths

    def run() -> tuple[str, dict[str, float]]:
        return digest(format_lines(sorted(function(paths, cell.workers).items()))), {}

    return run


def engine_runner(cell: Cell, backend: Backend) -> Runner:
    """Runs the cell's job on the open ``backend``."""
    job = find_job(cell.job)(**cell.params)
    plan = driver.plan(job, cell.source.paths, backend, reducers=cell.workers, splits=cell.splits)

    def run() -> tuple[str, dict[str, float]]:
        with driver.execute(plan, backend) as result:
            return result.digest, result.seconds

    return run


def measure(cell: Cell, repeat: int) -> Cell:
    """Open the cell's backend, warm up, and time ``repeat`` paired runs; errors are recorded."""
    try:
        sequential = backends.create("sequential")
        reference = engine_runner(replace(cell, backend="sequential", workers=1), sequential)
        is_baseline = cell.backend.startswith(BASELINE)
        backend = (
            sequential
            if is_baseline
            else backends.create(cell.backend, cell.workers, cell.start_method)
        )
        started = time.perf_counter()
        with backend:
            cell.startup_seconds = time.perf_counter() - started
            cell.start_method = getattr(backend, "start_method", None)
            run = baseline_runner(cell) if is_baseline else engine_runner(cell, backend)
            run()
            for _ in range(repeat):
                paired = None
                if cell.backend != "sequential":
                    paired = time.perf_counter()
                    reference()
                    paired = time.perf_counter() - paired
                before, wall = tree_cpu_seconds(), time.perf_counter()
                output_digest, phases = run()
                wall = time.perf_counter() - wall
                cpu = cpu_seconds_between(before, tree_cpu_seconds())
                cell.samples.append(Sample(wall, cpu, phases, output_digest, paired))
    except Exception as exc:  # a broken cell is reported, and fails the study, not the process
        cell.error = one_line(exc)
    return cell
