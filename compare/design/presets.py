"""How much the study measures: presets from a 30-second smoke run to GB-scale inputs.

A preset fixes the input size of each job in the matrix, the worker counts,
the rounds, and the sweeps that explain the matrix.  The default preset's
sizes make one sequential run of every job take about 1.15 s on this
project's 2-core reference machine: long enough that the work, not start-up
and pickling, is what is timed; on another machine, or a busy day, the
default and ``full`` presets scale them to the speed measured first.  Its
matrix measures seven of the twelve jobs on every backend at the core count
(I/O-bound jobs also past it) in about 5 minutes; the ``full``
preset adds the other five, the whole worker grid, the start-method sweep
and real text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MB = 1_000_000


@dataclass(frozen=True)
class Sweep:
    """One job at a fixed size, varied along one axis."""

    job: str
    size: int
    values: tuple[int, ...] = ()


STRAGGLER_SCENARIOS = ("normal", "straggler", "straggler, backup tasks", "worker killed")
"""The straggler experiment's scenarios in every preset (``full`` adds backups alone)."""


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    repeat: int
    sizes: dict[str, int]
    """Bytes of generated input for each job of the matrix (jobs left out are not run)."""
    granularity: Sweep | None
    """A job with ``values`` as the number of splits (task size = size / splits); wordmean,
    whose output is small, so the per-task cost is all that changes."""
    input_size: Sweep | None
    """Word count at each of ``values`` bytes."""
    start_method: Sweep | None
    """The process backends under fork, spawn and forkserver."""
    shakespeare_copies: int = 0
    """Copies of Shakespeare's plays to index and count (0: leave real text out)."""
    stdlib_all: bool = False
    """Every standard-library module rather than only the top-level ones."""
    baseline_size: int = 1 * MB
    """Bytes of word count input for the framework-free baselines (0: leave them out)."""
    scale_out_jobs: tuple[str, ...] = ("wordcount", "pi")
    """The jobs a distributed backend (dask) runs in the matrix, at the core count only,
    unless named in ``--backends``: on one machine its cost is its start-up and
    per-task overhead, much the same for every job, and each cell costs seconds."""
    full_grid: bool = False
    """Every worker count of ``worker_counts(full=True)``, not only the core count."""
    extra_rounds: int = 0
    """Extra rounds for the cells whose range is wide, for a steadier median."""
    shuffle: str = "auto"
    """How intermediate data travels in every cell: ``auto``, the engine's default (through
    files on process backends, in memory on sequential and threads)."""
    straggler_jobs: tuple[str, ...] = ()
    """Jobs of the straggler experiment, on their matrix input (core count; ``full_grid``:
    also twice it)."""
    straggler_scenarios: tuple[str, ...] = STRAGGLER_SCENARIOS
    """Its scenarios (``compare.design.experiments.SCENARIOS``): the paper's three, and the
    straggler with backup tasks."""
    invocations: int = 0
    """Fresh processes the headline's cells are measured in again, after the rest
    (``compare.measure.invocations``): their intervals are cut from one value per invocation."""
    invocation_rounds: int = 1
    """Rounds each of those invocations runs."""
    calibrate: bool = False
    """Scale the processor-bound inputs to this machine's speed first
    (``compare.measure.calibration``), so that they take the time ``sizes`` were set for."""


def worker_counts(io: bool = False, full: bool = False, cores: int | None = None) -> list[int]:
    """The core count; ``full``: also 1, 2 and twice the cores (oversubscribed).

    I/O-bound jobs (``io``) also get four times the cores: waiting threads
    scale past them.
    """
    cores = cores or os.cpu_count() or 1
    counts = {1, 2, cores, 2 * cores} if full else {cores}
    return sorted(counts | {4 * cores} if io else counts)


DEFAULT_SIZES = {
    "wordcount": 45 * MB,
    "grep": 60 * MB,
    "urlcount": 43 * MB,
    "reverselinks": 62 * MB,
    "termvector": 10_500_000,
    "invertedindex": 6_800_000,
    "sort": 32 * MB,
    "pi": 16 * 11_200_000,
    "topwords": 19 * MB,
    "wordmean": 9 * MB,
    "fetch": 7_800,
    "compress": 25 * MB,
}
"""About 1.15 s of one sequential run each on the reference machine (before calibration);
word count, whose per-run cost (the shuffle of its vocabulary, the merge) is high, about
2.3 s.  The input-size sweep's largest point is the matrix's own word count input."""

FULL_ONLY = ("grep", "urlcount", "termvector", "topwords", "wordmean")
"""Jobs only ``full`` runs in its matrix: the default spends their minute on the headline's
invocations instead."""

GRANULARITY = Sweep("wordmean", 1 * MB, (2, 16, 128, 1024))
INPUT_SIZE = Sweep("wordcount", 0, (100_000, 300_000, 1 * MB, 3 * MB, 10 * MB))

PRESETS = {
    "smoke": Preset(
        name="smoke",
        description="a few jobs, small inputs, one round: checks the study works (CI)",
        repeat=1,
        sizes={"wordcount": 200_000, "pi": 16 * 300_000, "fetch": 1_200, "compress": 2 * MB},
        granularity=Sweep("wordmean", 100_000, (2, 16, 256)),
        input_size=Sweep("wordcount", 0, (50_000, 200_000)),
        start_method=Sweep("pi", 16 * 100_000),
        baseline_size=200_000,
        scale_out_jobs=("wordcount",),
        straggler_jobs=("wordcount",),
        invocations=3,
    ),
    "default": Preset(
        name="default",
        description=(
            "seven jobs sized to about 1.15 s sequential, every backend at the core count, "
            "three rounds, the headline's cells again in 14 fresh processes, the granularity "
            "and input-size sweeps and the straggler experiment on sort; about 5 minutes on "
            "2 cores"
        ),
        repeat=3,
        sizes={job: size for job, size in DEFAULT_SIZES.items() if job not in FULL_ONLY},
        granularity=GRANULARITY,
        input_size=INPUT_SIZE,
        start_method=None,
        baseline_size=500_000,
        scale_out_jobs=("pi",),
        straggler_jobs=("sort",),
        invocations=14,
        calibrate=True,
    ),
    "full": Preset(
        name="full",
        description=(
            "every job at the default's sizes on the whole worker grid (1, 2, cores, twice "
            "the cores), every sweep, and real text"
        ),
        repeat=3,
        sizes=DEFAULT_SIZES,
        granularity=Sweep("wordmean", 1 * MB, (2, 8, 32, 128, 512, 2048)),
        input_size=Sweep("wordcount", 0, (*INPUT_SIZE.values, 30 * MB, 100 * MB)),
        start_method=Sweep("pi", 16 * 500_000),
        shakespeare_copies=1,
        baseline_size=500_000,
        full_grid=True,
        extra_rounds=3,
        straggler_jobs=("sort", "wordcount"),
        straggler_scenarios=("normal", "backup tasks", *STRAGGLER_SCENARIOS[1:]),
        invocations=14,
        calibrate=True,
    ),
    "large": Preset(
        name="large",
        description="GB-scale inputs: minutes per cell, for a machine left alone",
        repeat=3,
        sizes={
            "wordcount": 1000 * MB,
            "grep": 2000 * MB,
            "urlcount": 1000 * MB,
            "invertedindex": 200 * MB,
            "sort": 1000 * MB,
            "pi": 16 * 100_000_000,
            "fetch": 40_000,
            "compress": 1000 * MB,
        },
        granularity=Sweep("wordmean", 20 * MB, (2, 8, 32, 128, 512, 2048, 8192)),
        input_size=Sweep("wordcount", 0, (100 * MB, 200 * MB, 500 * MB, 1000 * MB)),
        start_method=Sweep("pi", 16 * 5_000_000),
        shakespeare_copies=20,
        stdlib_all=True,
        baseline_size=200 * MB,
        scale_out_jobs=("wordcount", "grep", "sort", "pi", "fetch", "compress"),
        full_grid=True,
        invocations=6,
    ),
}
