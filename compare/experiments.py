"""What the study measures: the matrix, and the sweeps that explain it.

Each function returns unmeasured cells.  Every group of cells that should
give the same output (one job on one input) includes a sequential cell, whose
digest is the reference and whose time is the baseline for speedups.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import backends
from backends import PROCESS_BACKENDS
from compare.baselines import BASELINES, dask_available
from compare.datasets import Dataset, generated, shakespeare, stdlib
from compare.measure import BASELINE, Cell
from compare.presets import Preset, Sweep, io_worker_counts, worker_counts
from mapreduce.catalog import find_job


def cell(experiment: str, job: str, dataset: Dataset, backend: str, workers: int, **extra) -> Cell:
    return Cell(
        experiment=experiment,
        job=job,
        dataset=dataset.name,
        input_bytes=dataset.size,
        source=dataset,
        backend=backend,
        workers=1 if backend == "sequential" else workers,
        **extra,
    )


SCALE_OUT = ("dask",)
"""Backends for work that outgrows one machine (see ``Preset.scale_out_jobs``)."""


def matrix(
    preset: Preset,
    jobs: Sequence[str],
    names: Sequence[str],
    workers: Sequence[int] | None,
    named: Sequence[str] = (),
) -> list[Cell]:
    """Every job × backend × worker count (I/O-bound jobs get more workers).

    A scale-out backend not ``named`` by the user runs only the preset's
    ``scale_out_jobs``, at the core count.
    """
    cells = []
    for job in jobs:
        dataset = generated(job, preset.sizes[job])
        counts = workers or (
            io_worker_counts() if find_job(job).workload == "io" else worker_counts()
        )
        cells.append(cell("matrix", job, dataset, "sequential", 1))
        for name in names:
            if name == "sequential":
                continue
            if name in SCALE_OUT and name not in named:
                if job not in preset.scale_out_jobs:
                    continue
                scale_out_counts = workers or [os.cpu_count() or 1]
                cells += [cell("matrix", job, dataset, name, n) for n in scale_out_counts]
            else:
                cells += [cell("matrix", job, dataset, name, n) for n in counts]
    return cells


def granularity(sweep: Sweep, names: Sequence[str]) -> list[Cell]:
    """One input cut into ever more, ever smaller map tasks, at 2 workers."""
    dataset = generated(sweep.job, sweep.size)
    chosen = [n for n in ("sequential", "threads", "pool") if n in names]
    return [
        cell("granularity", sweep.job, dataset, name, 2, splits=splits)
        for splits in sweep.values
        for name in chosen
    ]


def input_size(sweep: Sweep, names: Sequence[str]) -> list[Cell]:
    """The same job on growing inputs, at 2 workers."""
    chosen = [n for n in ("sequential", "pool") if n in names]
    return [
        cell("input-size", sweep.job, generated(sweep.job, size), name, 2)
        for size in sweep.values
        for name in chosen
    ]


def start_method(sweep: Sweep, names: Sequence[str]) -> list[Cell]:
    """Each process backend under each start method it supports, at 2 workers."""
    dataset = generated(sweep.job, sweep.size)
    cells = [cell("start-method", sweep.job, dataset, "sequential", 1)]
    for name in PROCESS_BACKENDS:
        if name in names:
            cells += [
                cell("start-method", sweep.job, dataset, name, 2, start_method=method)
                for method in backends.backend_class(name).available_start_methods()
            ]
    return cells


def real_text(preset: Preset, names: Sequence[str]) -> tuple[list[Cell], list[Dataset]]:
    """Word count and the inverted index on Shakespeare and on the standard library."""
    datasets = [shakespeare(preset.shakespeare_copies), stdlib(preset.stdlib_all)]
    chosen = [n for n in ("sequential", "pool") if n in names]
    cells = [
        cell("real-text", job, dataset, name, 2)
        for dataset in datasets
        for job in ("wordcount", "invertedindex")
        for name in chosen
    ]
    return cells, datasets


def baselines(preset: Preset, workers: int = 2) -> list[Cell]:
    """Word count written without the framework, beside the engine, on the matrix's input."""
    dataset = generated("wordcount", preset.baseline_size)
    names = [n for n in BASELINES if n != "dask-bag" or dask_available()]
    cells = [cell("baselines", "wordcount", dataset, "sequential", 1)]
    cells += [cell("baselines", "wordcount", dataset, "pool", workers)]
    cells += [
        cell(
            "baselines",
            "wordcount",
            dataset,
            f"{BASELINE}{n}",
            1 if n == "handwritten" else workers,
        )
        for n in names
    ]
    return cells


def available(names: Sequence[str]) -> list[str]:
    """The named backends that are installed, sequential first."""
    ordered = ["sequential", *(n for n in names if n != "sequential")]
    return [n for n in ordered if backends.is_available(n)]
