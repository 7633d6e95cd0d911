"""What the study measures: the matrix, and the sweeps that explain it.

Each function returns unmeasured cells.  Every group of cells that should
give the same output (one job on one input) includes a sequential cell, whose
digest is the reference and whose time is the baseline for speedups.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import backends
from backends import PROCESS_BACKENDS, SCALE_OUT_BACKENDS
from compare.cells import BASELINE, Cell, Experiment
from compare.design.baselines import BASELINES, dask_available
from compare.design.datasets import Dataset, generated, shakespeare, stdlib
from compare.design.presets import Preset, worker_counts
from mapreduce.catalog import find_job


def cell(
    preset: Preset,
    experiment: str,
    job: str,
    dataset: Dataset,
    backend: str,
    workers: int,
    **extra,
) -> Cell:
    return Cell(
        experiment=experiment,
        job=job,
        dataset=dataset.name,
        input_bytes=dataset.size,
        source=dataset,
        backend=backend,
        workers=1 if backend == "sequential" else workers,
        shuffle=preset.shuffle,
        **extra,
    )


def matrix(
    preset: Preset,
    jobs: Sequence[str],
    names: Sequence[str],
    workers: Sequence[int] | None,
    named: Sequence[str] = (),
    given: Dataset | None = None,
) -> list[Cell]:
    """Every job × backend × the preset's worker counts (I/O-bound jobs get more workers),
    on the ``given`` input or each job's generated one.

    A scale-out backend not ``named`` by the user runs only the preset's
    ``scale_out_jobs``, at the core count.
    """
    cells = []
    for job in jobs:
        dataset = given or generated(job, preset.sizes[job])
        io = find_job(job).workload == "io"
        counts = workers or worker_counts(io, preset.full_grid)
        cells.append(cell(preset, Experiment.MATRIX, job, dataset, "sequential", 1))
        for name in names:
            if name == "sequential":
                continue
            if name in SCALE_OUT_BACKENDS and name not in named:
                if job not in preset.scale_out_jobs:
                    continue
                scale_out_counts = workers or [os.cpu_count() or 1]
                cells += [
                    cell(preset, Experiment.MATRIX, job, dataset, name, n)
                    for n in scale_out_counts
                ]
            else:
                cells += [cell(preset, Experiment.MATRIX, job, dataset, name, n) for n in counts]
    return cells


def granularity(preset: Preset, names: Sequence[str]) -> list[Cell]:
    """One input cut into ever more, ever smaller map tasks, at 2 workers."""
    sweep = preset.granularity
    dataset = generated(sweep.job, sweep.size)
    chosen = [n for n in ("sequential", "threads", "pool") if n in names]
    return [
        cell(preset, Experiment.GRANULARITY, sweep.job, dataset, name, 2, split_count=count)
        for count in sweep.values
        for name in chosen
    ]


BEST_PROCESS = "best process"
"""Stands for the process backend the headline quotes on the job in the matrix, the first of
those tied for the fastest (``choose_best_process``)."""


def input_size(preset: Preset, names: Sequence[str]) -> list[Cell]:
    """The same job on growing inputs on sequential, threads and the best process backend,
    at the core count."""
    sweep, cores = preset.input_size, os.cpu_count() or 1
    chosen = [n for n in ("sequential", "threads") if n in names]
    if any(n in PROCESS_BACKENDS for n in names):
        chosen.append(BEST_PROCESS)
    return [
        cell(preset, Experiment.INPUT_SIZE, sweep.job, generated(sweep.job, size), name, cores)
        for size in sweep.values
        for name in chosen
    ]


def choose_best_process(cells: Sequence[Cell], pick: Callable[[list[Cell]], Cell | None]) -> None:
    """Give the cells standing for the best process backend the one ``pick`` chooses of those
    measured on their job in the matrix at their worker count (pool if none was measured)."""
    for chosen in (c for c in cells if c.backend == BEST_PROCESS):
        measured = [
            c
            for c in cells
            if c.experiment == Experiment.MATRIX
            and c.job == chosen.job
            and c.workers == chosen.workers
            and c.backend in PROCESS_BACKENDS
        ]
        best = pick(measured)
        chosen.backend = best.backend if best else "pool"


def start_method(preset: Preset, names: Sequence[str]) -> list[Cell]:
    """Each process backend under each start method it supports, at 2 workers."""
    sweep = preset.start_method
    dataset = generated(sweep.job, sweep.size)
    cells = [cell(preset, Experiment.START_METHOD, sweep.job, dataset, "sequential", 1)]
    for name in PROCESS_BACKENDS:
        if name in names:
            cells += [
                cell(
                    preset,
                    Experiment.START_METHOD,
                    sweep.job,
                    dataset,
                    name,
                    2,
                    start_method=method,
                )
                for method in backends.backend_class(name).available_start_methods()
            ]
    return cells


def real_text(preset: Preset, names: Sequence[str]) -> tuple[list[Cell], list[Dataset]]:
    """Word count and the inverted index on Shakespeare and on the standard library."""
    datasets = [shakespeare(preset.shakespeare_copies), stdlib(preset.stdlib_all)]
    chosen = [n for n in ("sequential", "pool") if n in names]
    cells = [
        cell(preset, Experiment.REAL_TEXT, job, dataset, name, 2)
        for dataset in datasets
        for job in ("wordcount", "invertedindex")
        for name in chosen
    ]
    return cells, datasets


def baselines(preset: Preset, workers: int = 2) -> list[Cell]:
    """Word count written without the framework, beside the engine, on the matrix's input."""
    dataset = generated("wordcount", preset.baseline_size)
    names = [n for n in BASELINES if n != "dask-bag" or dask_available()]
    cells = [cell(preset, Experiment.BASELINES, "wordcount", dataset, "sequential", 1)]
    cells += [cell(preset, Experiment.BASELINES, "wordcount", dataset, "pool", workers)]
    cells += [
        cell(
            preset,
            Experiment.BASELINES,
            "wordcount",
            dataset,
            f"{BASELINE}{n}",
            1 if n == "handwritten" else workers,
        )
        for n in names
    ]
    return cells


@dataclass(frozen=True)
class Scenario:
    """One run of the straggler experiment: what is done to the workers, and whether the
    driver backs tasks up."""

    name: str
    straggler: bool = False
    """One worker process runs a tenth of the time (``compare.measure.throttle``)."""
    backups: bool = False
    killed: bool = False
    """One worker process is killed once half the map tasks are done."""


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("normal"),
        Scenario("backup tasks", backups=True),
        Scenario("straggler", straggler=True),
        Scenario("straggler, backup tasks", straggler=True, backups=True),
        Scenario("worker killed", killed=True),
    )
}
"""The paper's Figure 3 at classroom scale: (a) normal, (b) no backup tasks with a straggler,
(c) a killed worker; with the straggler's run with backups, and backups with no straggler
(what they cost when nothing is wrong)."""

STRAGGLER_BACKEND = "pool"
"""The straggler experiment's backend: a pool, whose workers it can stop by the pids they
answered at warm-up (``ProcessBackend.worker_pids``)."""

TIMELINE_JOBS = ("pi", "fetch", "wordcount")
"""The matrix jobs whose cells keep their median run's timeline for the report's plots:
pi (the GIL: threads against processes), fetch (threads waiting), word count."""


def stragglers(preset: Preset, names: Sequence[str], jobs: Sequence[str]) -> list[Cell]:
    """Each scenario on each of the preset's straggler jobs (of ``jobs``), on the pool backend
    at the core count (``full_grid``: also twice it)."""
    if STRAGGLER_BACKEND not in names:
        return []
    cores = os.cpu_count() or 1
    counts = [cores, 2 * cores] if preset.full_grid else [cores]
    return [
        cell(preset, Experiment.STRAGGLERS, job, generated(job, preset.sizes[job]),
             STRAGGLER_BACKEND, n, scenario=scenario)
        for job in preset.straggler_jobs
        if job in jobs
        for n in counts
        for scenario in preset.straggler_scenarios
    ]  # fmt: skip


def keeps_timeline(cell: Cell) -> bool:
    """Whether the study keeps the cell's median run's timeline (for a plot)."""
    return cell.experiment == Experiment.STRAGGLERS or (
        cell.experiment == Experiment.MATRIX and cell.job in TIMELINE_JOBS
    )


def available(names: Sequence[str]) -> list[str]:
    """The named backends that are installed, sequential first."""
    ordered = ["sequential", *(n for n in names if n != "sequential")]
    return [n for n in ordered if backends.is_available(n)]
