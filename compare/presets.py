"""How much the study measures: presets from a 30-second smoke run to GB-scale inputs.

A preset fixes the input size of each job in the matrix (chosen so that one
sequential run takes a fraction of a second on this project's 2-core
reference machine, long enough to time, short enough to repeat), the repeats,
and the sweeps that explain the matrix.
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


def worker_counts(cores: int | None = None) -> list[int]:
    """1, 2, the core count and twice it (oversubscribed): on 2 cores, 1, 2 and 4."""
    cores = cores or os.cpu_count() or 1
    return sorted({1, 2, cores, 2 * cores})


def io_worker_counts(cores: int | None = None) -> list[int]:
    """I/O-bound jobs also get four times the cores: waiting threads scale past them."""
    cores = cores or os.cpu_count() or 1
    return sorted({*worker_counts(cores), 4 * cores})


PRESETS = {
    "smoke": Preset(
        name="smoke",
        description="a few jobs, small inputs, one repeat: checks the study works (CI)",
        repeat=1,
        sizes={"wordcount": 200_000, "pi": 16 * 300_000, "fetch": 1_200, "compress": 2 * MB},
        granularity=Sweep("wordmean", 100_000, (2, 16, 256)),
        input_size=Sweep("wordcount", 0, (50_000, 100_000, 200_000)),
        start_method=Sweep("pi", 16 * 100_000),
        baseline_size=200_000,
        scale_out_jobs=("wordcount",),
    ),
    "default": Preset(
        name="default",
        description="every job, every backend, 1 to 2x-cores workers, three paired repeats",
        repeat=3,
        sizes={
            "wordcount": 3 * MB,
            "grep": 3_500_000,
            "urlcount": 2 * MB,
            "reverselinks": 4 * MB,
            "termvector": 600_000,
            "invertedindex": 400_000,
            "sort": 2 * MB,
            "pi": 16 * 1_600_000,
            "topwords": 600_000,
            "wordmean": 500_000,
            "fetch": 2_000,
            "compress": 3_500_000,
        },
        granularity=Sweep("wordmean", 1 * MB, (2, 8, 32, 128, 512, 2048)),
        input_size=Sweep("wordcount", 0, (500_000, 1 * MB, 2 * MB)),
        start_method=Sweep("pi", 16 * 500_000),
        shakespeare_copies=1,
        baseline_size=500_000,
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
    ),
}
