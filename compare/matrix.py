"""The run matrix: every backend and worker count, timed, with outputs checked.

A cell opens its backend once (that start-up is timed apart from the work),
runs the job once to warm up, then ``repeat`` more times, keeping every
sample's wall time and the output digest of each run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import backends
from mapreduce import Job, driver


@dataclass
class Cell:
    """One backend at one worker count, measured."""

    backend: str
    workers: int
    startup_seconds: float = 0.0
    samples: list[float] = field(default_factory=list)
    digests: set[str] = field(default_factory=set)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def digest(self) -> str:
        """The output digest, or ``"inconsistent"`` if runs of this cell disagreed."""
        return next(iter(self.digests)) if len(self.digests) == 1 else "inconsistent"


def measure(job: Job, inputs: Sequence[str], backend_name: str, workers: int, repeat: int) -> Cell:
    """Open one backend, warm it up, and time ``repeat`` runs of ``job``."""
    backend = backends.create(backend_name, workers)
    checked = driver.plan(job, inputs, backend, reducers=workers)
    cell = Cell(backend_name, backend.workers)
    started = time.perf_counter()
    with backend:
        cell.startup_seconds = time.perf_counter() - started
        for attempt in range(repeat + 1):
            result = driver.execute(checked, backend)
            cell.digests.add(result.digest)
            if attempt:  # the first run is the warm-up
                cell.samples.append(result.seconds["total"])
    return cell


def run_matrix(
    job: Job,
    inputs: Sequence[str],
    backend_names: Sequence[str],
    worker_counts: Sequence[int],
    repeat: int,
    announce: Callable[[str], None] = lambda message: None,
) -> list[Cell]:
    """Measure ``job`` on every backend and worker count; sequential once, first."""
    cells = []
    for name in ["sequential", *(n for n in backend_names if n != "sequential")]:
        for workers in [1] if name == "sequential" else worker_counts:
            announce(f"{job.name} on {name} with {workers} worker(s)")
            cells.append(measure(job, inputs, name, workers, repeat))
    return cells
