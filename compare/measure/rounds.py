"""Measuring cells in interleaved rounds: every number in the report starts here.

Cells that share a job, an input and a split count form a group; its
sequential cell is the reference.  The group's other cells are dealt into
batches (``batches``) of one worker count and at most one cell per backend
(joblib keeps one executor per process; dask, whose scheduler runs in this
process, is measured in a batch of its own; a cell that forks is opened first,
one to a batch, before the others start threads).  The sequential run of a batch
runs the very tasks its cells run (the same splits and reducers), one after
another: a speedup then measures running them in parallel, not cutting the
input differently (smaller tasks can be cheaper per byte).  A batch opens every backend once (each
one's start-up timed on its own), warms each up on a small input, then runs
``repeat`` rounds: the sequential run first, then every cell once, in an
order shuffled by a seeded generator.  Each cell's run is paired with its
round's sequential run.  On a shared machine the speed of a core drifts by
tens of percent over seconds; a ratio of two runs taken a second apart is
far steadier than one of two cells measured minutes apart, and shuffling
keeps any cell from always running first, or last.

Before each batch the study's own objects are frozen out of the garbage
collector (``gc.freeze``): with the libraries it imports, this process holds
some 100,000 of them, and every full collection during a run would walk
them all, slowing a run in this process (sequential, threads, and workers
forked from it) by up to a third against one in a fresh process.

Once every batch has run, where the preset asks for it (``full``), the
cells whose range reaches further than ``WIDE`` from the median get extra
rounds (with the sequential run), for a steadier median: more rounds of one
process never narrow a range, and add nothing of the variance between
processes, which the headline's fresh processes measure.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass

import backends
from backends import SCALE_OUT_BACKENDS, Backend
from compare.analyse.statistics import value_range
from compare.cells import Cell, Experiment, Sample
from compare.design.baselines import BASELINES
from compare.design.experiments import keeps_timeline
from compare.measure.cpu import cpu_seconds_between, tree_cpu_seconds
from compare.measure.guard import limit, limited
from compare.measure.timelines import MedianRun
from mapreduce import driver
from mapreduce.catalog import find_job
from mapreduce.errors import one_line
from mapreduce.output import digest, format_lines

WIDE = 0.10
"""An interval reaching further than this fraction of the median on either side is wide."""

Runner = Callable[[Sequence[str]], Sample]
"""Runs a cell once on the given input files and times it."""


def timed(run: Callable[[], tuple[str, dict[str, float], dict[str, int]]]) -> Sample:
    """Run once; wall seconds, CPU seconds of the whole process tree, and what ``run`` says."""
    before, wall = tree_cpu_seconds(), time.perf_counter()
    output_digest, phases, shuffled = run()
    wall = time.perf_counter() - wall
    cpu = cpu_seconds_between(before, tree_cpu_seconds())
    return Sample(wall, cpu, phases, output_digest, shuffled=shuffled)


def baseline_runner(cell: Cell) -> Runner:
    """Runs the cell's baseline word count (it has no phases)."""
    function = BASELINES[cell.baseline]

    def run(paths: Sequence[str]) -> Sample:
        return timed(
            lambda: (digest(format_lines(sorted(function(paths, cell.workers).items()))), {}, {})
        )

    return run


def outcome(
    result: driver.RunResult, plan: driver.Plan
) -> tuple[str, dict[str, float], dict[str, int]]:
    """What a sample keeps of a run: its digest, its phases, and what its map tasks sent."""
    counters = result.counters
    moved = {
        "tasks": len(plan.splits),
        "pairs": counters["combine_output_pairs"],
        "bytes": counters["shuffle_bytes"],
    }
    return result.digest, result.seconds, moved


def engine_runner(cell: Cell, backend: Backend, tasks_for: int | None = None) -> Runner:
    """Runs the cell's job on the open ``backend``; with ``tasks_for``, cut into the map and
    reduce tasks a run on that many workers would have (the same tasks, one after another).
    A cell the report draws keeps its median run's timeline."""
    job = find_job(cell.job)(**cell.params)
    workers = tasks_for or cell.workers
    split_count = cell.split_count or driver.default_split_count(workers)
    median_run = MedianRun(cell) if keeps_timeline(cell) else None

    plans: dict[tuple[str, ...], driver.Plan] = {}  # planned once per input, not per round

    def run(paths: Sequence[str]) -> Sample:
        key = tuple(paths)
        if key not in plans:
            plans[key] = driver.plan(
                job,
                paths,
                backend,
                reducers=workers,
                split_count=split_count,
                shuffle=cell.shuffle,
            )
        plan = plans[key]
        results = []

        def once() -> tuple[str, dict[str, float], dict[str, int]]:
            with driver.execute(plan, backend) as result:
                results.append(result)
                return outcome(result, plan)

        sample = timed(once)
        if median_run and cell.source and list(paths) == list(cell.source.paths):
            median_run.add(sample.wall, results[0])  # not the warm-up's
        return sample

    return run


@dataclass
class Batch:
    """A group's sequential cell and the cells measured in rounds with it."""

    reference: Cell
    cells: list[Cell]

    @property
    def runs(self) -> int:
        """Runs in one round."""
        return 1 + len(self.cells)

    @property
    def workers(self) -> int:
        """The cells' worker count (one per batch; 1 if it has none)."""
        return self.cells[0].workers if self.cells else 1


def forks(cell: Cell) -> bool:
    """Whether the cell's backend starts its workers with ``fork`` (the start-method sweep
    asks for it).  A fork copies the locks of every thread running then as they are, so
    such a cell is opened first in its batch, before another backend starts a thread."""
    return cell.start_method == "fork"


def batches(cells: Sequence[Cell]) -> list[Batch]:
    """Each group's cells dealt into batches of one worker count and at most one cell per
    backend (a scale-out backend's alone) and one that forks (opened first), in plan order,
    the shared batches first."""
    groups: dict[tuple, list[Cell]] = {}
    for cell in cells:
        groups.setdefault(cell.timing_key, []).append(cell)
    found = []
    for group in groups.values():
        reference = next((c for c in group if c.backend == "sequential"), None)
        if reference is None:
            raise ValueError(f"no sequential cell for {group[0].job} in {group[0].experiment}")
        dealt: list[list[Cell]] = []
        for cell in group:
            if cell is reference:
                continue
            fits = (
                batch
                for batch in dealt
                if cell.backend not in SCALE_OUT_BACKENDS
                and all(
                    c.backend != cell.backend
                    and c.workers == cell.workers
                    and c.backend not in SCALE_OUT_BACKENDS
                    and not (forks(c) and forks(cell))
                    for c in batch
                )
            )
            batch = next(fits, None)
            if batch is None:
                dealt.append(batch := [])
            if forks(cell):
                batch.insert(0, cell)
            else:
                batch.append(cell)
        dealt.sort(
            key=lambda batch: batch[0].backend in SCALE_OUT_BACKENDS
        )  # the shared batch first
        found += [Batch(reference, batch) for batch in dealt or [[]]]
    return found


def too_wide(cell: Cell) -> bool:
    """Whether the cell's speedup interval reaches past ``WIDE`` of its median on a side."""
    ratios = cell.ratios
    if not ratios:
        return False
    interval = value_range(ratios)
    return interval.low < interval.median * (1 - WIDE) or (
        interval.high > interval.median * (1 + WIDE)
    )


def widest(batch: Batch) -> float:
    """How far the batch's widest interval reaches from its median, as a fraction of it."""
    reach = 0.0
    for cell in batch.cells:
        if cell.ratios and not cell.error:
            interval = value_range(cell.ratios)
            reach = max(reach, (interval.high - interval.low) / interval.median)
    return reach


def measure(batch: Batch, rounds: int, rng: random.Random) -> None:
    """Open the batch's backends, warm up, and time ``rounds`` rounds; errors are recorded
    per cell."""
    reference = batch.reference
    read_through(reference.source.paths)
    gc.collect()  # then the study's own objects (libraries, plans, samples so far) are kept
    gc.freeze()  # out of the collector's way: a run here pays for its own objects only
    with ExitStack() as stack:
        sequential = stack.enter_context(backends.create("sequential"))
        running: list[tuple[Cell, Runner]] = []
        for cell in [reference, *batch.cells]:
            try:
                with limited(limit(None), f"{cell}, its start and warm-up"):
                    run = opened(cell, sequential, stack, batch.workers)
                    warm = cell.source.warm_up or cell.source
                    run(warm.paths)
                running.append((cell, run))
            except Exception as exc:  # a broken cell is reported, and fails the study
                cell.error = one_line(exc)
        if reference.error:
            unpaired(batch)
            return
        try:
            for _ in range(rounds):
                measure_round(running[0], running[1:], rng)
        except Exception as exc:  # the sequential run failed: nothing left to pair with
            reference.error = one_line(exc)
            unpaired(batch)


def unpaired(batch: Batch) -> None:
    """Mark the batch's cells that have no error of their own as failed with its reference."""
    for cell in batch.cells:
        cell.error = (
            cell.error or f"not measured: the sequential run failed: {batch.reference.error}"
        )


def measure_wide(planned: Sequence[Batch], rounds: int, rng: random.Random) -> None:
    """``rounds`` more rounds for the cells whose range is wide, the matrix's first (the
    headline comes from it), widest batch first."""
    for batch in sorted(
        planned, key=lambda b: (b.reference.experiment != Experiment.MATRIX, -widest(b))
    ):
        wide = [cell for cell in batch.cells if not cell.error and too_wide(cell)]
        if wide:
            measure(Batch(batch.reference, wide), rounds, rng)


def read_through(paths: Sequence[str], block: int = 1 << 20) -> None:
    """Read the files once, so that no round's first run waits on the disk."""
    for path in paths:
        with open(path, "rb") as file:
            while file.read(block):
                pass


def opened(cell: Cell, sequential: Backend, stack: ExitStack, tasks_for: int) -> Runner:
    """The cell's runner, on its backend opened in ``stack`` (start-up timed); the
    sequential cell runs the tasks of a run on ``tasks_for`` workers."""
    if cell.baseline:
        return baseline_runner(cell)
    if cell.backend == "sequential":
        return engine_runner(cell, sequential, tasks_for)
    backend = backends.create(cell.backend, cell.workers, cell.start_method)
    started = time.perf_counter()
    stack.enter_context(backend)
    cell.startup_seconds = time.perf_counter() - started
    cell.start_method = getattr(backend, "start_method", None)
    return engine_runner(cell, backend)


def measure_round(
    reference: tuple[Cell, Runner], cells: list[tuple[Cell, Runner]], rng: random.Random
) -> None:
    """The sequential run, then each cell that has not failed once, in a shuffled order."""
    first, run_first = reference
    with limited(limit(first.median if first.samples else None), str(first)):
        paired = run_first(first.source.paths)
    first.samples.append(paired)
    for cell, run in rng.sample(cells, len(cells)):
        if cell.error:
            continue
        try:
            with limited(limit(paired.wall), str(cell)):
                sample = run(cell.source.paths)
        except Exception as exc:  # a broken cell is reported, and fails the study
            cell.error = one_line(exc)
            continue
        sample.paired_sequential = paired.wall
        cell.samples.append(sample)
