"""A cell: one configuration the study measures, and every sample measured of it.

Designed in ``compare.design``, filled in by ``compare.measure``, read by
``compare.analyse`` and ``compare.render``: the one record every stage passes on.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from compare.design.datasets import Dataset


@dataclass
class Sample:
    wall: float
    cpu: float
    phases: dict[str, float]
    digest: str
    paired_sequential: float | None = None
    """Wall seconds of the sequential run that opened this sample's round."""
    shuffled: dict[str, int] = field(default_factory=dict)
    """What the map tasks sent to the reducers: ``tasks``, ``pairs``, and pickled ``bytes``
    (0 where nothing is pickled: sequential and threads pass the objects themselves)."""
    faults: dict[str, int] = field(default_factory=dict)
    """The driver's counts of what it did about slow and lost workers (``FAULTS``), in the
    straggler experiment."""
    invocation: int = 0
    """The fresh process it was measured in (``compare.measure.invocations``); 0 for the
    study's own."""

    @property
    def ratio(self) -> float | None:
        """Its paired speedup: its round's sequential wall time over its own (None unpaired)."""
        return self.paired_sequential / self.wall if self.paired_sequential else None


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
    split_count: int | None = None
    shuffle: str = "auto"
    scenario: str | None = None
    """The straggler experiment's disturbance (``compare.design.experiments.SCENARIOS``)."""
    startup_seconds: float | None = None
    samples: list[Sample] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    """Every task execution of the cell's median run, for the cells the study draws as a
    timeline: ``worker`` (a row number), ``phase``, ``index``, ``execution``, ``outcome``,
    ``start`` and ``end`` (seconds from the run's start)."""
    error: str | None = None
    source: Dataset | None = field(default=None, repr=False)
    """The input files; not saved (results.json describes datasets once, by name)."""

    def __str__(self) -> str:
        scenario = f", {self.scenario}" if self.scenario else ""
        return f"{self.experiment}: {self.job} on {self.backend} x{self.workers}{scenario}"

    @property
    def walls(self) -> list[float]:
        return [s.wall for s in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def ratios(self) -> list[float]:
        """Each paired speedup (``Sample.ratio``) of the study's own process, not those of
        the fresh processes it was measured in again."""
        return [s.ratio for s in self.samples if s.ratio is not None and not s.invocation]

    @property
    def invocation_values(self) -> list[float]:
        """The median paired ratio of each fresh process the cell was measured in
        (``compare.measure.invocations``), where most of the variance between runs lies;
        empty if it was measured in the study's process alone."""
        apart: dict[int, list[float]] = {}
        for sample in self.samples:
            if sample.invocation and sample.ratio is not None:
                apart.setdefault(sample.invocation, []).append(sample.ratio)
        return [statistics.median(ratios) for ratios in apart.values()]

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

    @property
    def output_key(self) -> tuple:
        """Cells with the same key must give the same output, whatever their backend."""
        return self.job, self.dataset, json.dumps(self.params, sort_keys=True)

    @property
    def timing_key(self) -> tuple:
        """Cells with the same key are timed against the same sequential cell."""
        return self.experiment, *self.output_key, self.split_count

    def phase_median(self, phase: str) -> float:
        return statistics.median(s.phases.get(phase, 0.0) for s in self.samples)

    @property
    def baseline(self) -> str | None:
        """The framework-free baseline the cell runs instead of the engine, if it runs one
        (its backend is ``baseline:NAME``)."""
        return self.backend.removeprefix(BASELINE) if self.backend.startswith(BASELINE) else None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "source"}


class Experiment:
    """The study's experiments, by the name a cell carries (``Cell.experiment``)."""

    MATRIX = "matrix"
    BASELINES = "baselines"
    GRANULARITY = "granularity"
    INPUT_SIZE = "input-size"
    START_METHOD = "start-method"
    REAL_TEXT = "real-text"
    STRAGGLERS = "stragglers"


FAULTS = ("backup_tasks", "backup_wins", "worker_restarts", "task_timeouts")
"""The run counters that say what the driver did about slow and lost workers."""

BASELINE = "baseline:"
"""Prefix of a cell's backend name that runs a framework-free baseline instead of the engine."""
