"""Measuring the straggler experiment: the paper's Figure 3 at classroom scale.

Cells of one job and worker count form a group, measured in rounds: every
scenario once per round, in a shuffled order, each on a pool of its own
(opened untimed: a throttled worker, a killed one, or a backup's loser still
running must not leak into the next run).  A scenario's slowdown is its run
over the same round's normal run.

The straggler is one worker process stopped and continued on a duty
cycle (0.45 s stopped, 0.05 s running: a tenth of the
time) from the run's start to its end; the killed worker is killed (SIGKILL)
once half the map tasks are done.
"""

from __future__ import annotations

import contextlib
import gc
import os
import random
import signal
from collections.abc import Callable, Iterator, Sequence

import backends
from compare.cells import FAULTS, Cell, Sample
from compare.design.experiments import SCENARIOS, Scenario
from compare.measure.guard import limit, limited
from compare.measure.rounds import outcome, read_through, timed
from compare.measure.throttle import Throttle
from compare.measure.timelines import MedianRun
from mapreduce import driver
from mapreduce.catalog import find_job
from mapreduce.errors import one_line
from mapreduce.phase import AfterTask


def groups(cells: Sequence[Cell]) -> list[list[Cell]]:
    """The cells of each job and worker count, in plan order."""
    found: dict[tuple, list[Cell]] = {}
    for cell in cells:
        found.setdefault((cell.job, cell.workers), []).append(cell)
    return list(found.values())


def kill_at_half_map(pids: Sequence[int]) -> AfterTask:
    """An ``after_task`` hook that kills one worker once half the map tasks are done."""
    killed: list[int] = []

    def hook(phase: str, done: int, total: int) -> None:
        if phase == "map" and not killed and done >= total / 2:
            os.kill(pids[-1], signal.SIGKILL)
            killed.append(pids[-1])

    return hook


@contextlib.contextmanager
def slowed(scenario: Scenario, pids: Sequence[int]) -> Iterator[None]:
    """The straggler's throttle on the first worker while the block runs, if the scenario
    has one."""
    if not scenario.straggler:
        yield
        return
    with Throttle(pids[0]):
        yield


def run_scenario(cell: Cell, paths: Sequence[str]) -> tuple[Sample, driver.RunResult]:
    """One timed run of the cell's scenario on a pool of its own."""
    scenario = SCENARIOS[cell.scenario or "normal"]
    job = find_job(cell.job)(**cell.params)
    with backends.create(cell.backend, cell.workers) as backend:
        pids = sorted(getattr(backend, "worker_pids", ()))
        if len(pids) < cell.workers:
            raise RuntimeError(f"only {len(pids)} of {cell.backend}'s workers answered")
        plan = driver.plan(
            job,
            paths,
            backend,
            reducers=cell.workers,
            split_count=driver.default_split_count(cell.workers),
            shuffle=cell.shuffle,
            backup_tasks=scenario.backups,
        )
        hook: AfterTask | None = kill_at_half_map(pids) if scenario.killed else None
        results: list[driver.RunResult] = []
        faults: dict[str, int] = {}

        def once() -> tuple[str, dict[str, float], dict[str, int]]:
            with driver.execute(plan, backend, hook) as result:
                results.append(result)
                faults.update({name: result.counters[name] for name in FAULTS})
                return outcome(result, plan)

        with slowed(scenario, pids):
            sample = timed(once)
        sample.faults = faults
    return sample, results[0]


def measure_stragglers(
    cells: Sequence[Cell],
    rounds: int,
    rng: random.Random,
    say: Callable[[str], None],
) -> None:
    """Every scenario of each group once per round, shuffled; errors recorded per cell."""
    for group in groups(cells):
        first = group[0]
        say(f"stragglers: {first.job} on {first.backend} x{first.workers}, "
            f"{len(group)} scenarios x {rounds} rounds")  # fmt: skip
        read_through(first.source.paths)
        gc.collect()
        gc.freeze()
        medians = {id(cell): MedianRun(cell) for cell in group}
        for _ in range(rounds):
            for cell in rng.sample(group, len(group)):
                if cell.error:
                    continue
                expected = cell.median if cell.samples else None
                try:
                    with limited(limit(expected), str(cell)):
                        sample, result = run_scenario(cell, cell.source.paths)
                except Exception as exc:  # a broken cell is reported, and fails the study
                    cell.error = one_line(exc)
                    continue
                cell.samples.append(sample)
                medians[id(cell)].add(sample.wall, result)
