"""The findings section: sentences generated from the measured numbers, never typed in.

Each function looks at one question the study exists to answer and says what
this run found, with the cell numbers behind it.  Where a measurement
disagrees with what a correct study on an idle machine finds (processes near
2x on 2 cores for pure Python, threads near 1x), it says so and why it might.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from backends import PROCESS_BACKENDS
from compare.analyse.analysis import Analysis
from compare.analyse.headline import fastest
from compare.analyse.statistics import slowdown_text, speedup_text
from compare.cells import Cell, Experiment
from compare.design.presets import STRAGGLER_SCENARIOS
from mapreduce import driver
from mapreduce.catalog import find_job
from mapreduce.sizes import format_size


def ref(analysis: Analysis, cell: Cell) -> str:
    return f"(#{analysis.cells.index(cell)})"


def winners(analysis: Analysis) -> Iterator[str]:
    """Per job, the winner if one stands clear of the rest, else the cells tied for first."""
    jobs = dict.fromkeys(c.job for c in analysis.cells if c.experiment == Experiment.MATRIX)
    for job in jobs:
        cells = analysis.select(Experiment.MATRIX, job=job)
        tied = analysis.leaders([c for c in cells if c.backend != "sequential"])
        if not tied:
            continue
        if math.isinf(analysis.interval(tied[0]).high):
            yield f"**{job}**: too few runs per cell to tell the backends apart."
        elif len(tied) == 1:
            best = tied[0]
            yield (
                f"**{job}**: fastest on {best.backend} with {best.workers} worker(s), "
                f"{speedup_text(analysis.interval(best))} than sequential "
                f"(median {best.median:.3f} s) {ref(analysis, best)}."
            )
        else:
            names = ", ".join(f"{c.backend} x{c.workers} {ref(analysis, c)}" for c in tied)
            yield f"**{job}**: no single winner; tied within noise: {names}."


def suspects(analysis: Analysis) -> Iterator[str]:
    """Values a correct run cannot produce: said, with the advice to rerun, never a finding."""
    found = [
        f"{cell.job} on {cell.backend} x{cell.workers}, {reason} {ref(analysis, cell)}"
        for cell in analysis.cells
        if (reason := analysis.suspect(cell))
    ]
    if found:
        yield (
            f"**Suspect values** ({len(found)} cells), which a correct run on an idle machine "
            "cannot give: other work on the machine, or runs too short to time (CPU time is "
            "counted in 10 ms ticks). They are left out of every finding; rerun on an idle "
            "machine, with larger inputs, before citing them: " + "; ".join(found) + "."
        )


def by_workload(analysis: Analysis, workload: str) -> str | None:
    jobs = dict.fromkeys(c.job for c in analysis.cells if c.experiment == Experiment.MATRIX)
    return next((job for job in jobs if find_job(job).workload == workload), None)


def cell_at(analysis: Analysis, job: str, backend: str, workers: int) -> Cell | None:
    found = analysis.select(Experiment.MATRIX, job=job, backend=backend, workers=workers)
    return found[0] if found and analysis.citable(found[0]) else None


def describe(analysis: Analysis, cell: Cell) -> str:
    return (
        f"{cell.backend} x{cell.workers}: {speedup_text(analysis.interval(cell))}, "
        f"CPU use {100 * cell.cpu_utilization:.0f}% {ref(analysis, cell)}"
    )


def gil(analysis: Analysis, load: float | None) -> Iterator[str]:
    job = (
        by_workload(analysis, "cpu") if not analysis.select(Experiment.MATRIX, job="pi") else "pi"
    )
    if job is None:
        return
    threads = cell_at(analysis, job, "threads", 2)
    processes = [c for name in PROCESS_BACKENDS if (c := cell_at(analysis, job, name, 2))]
    if threads is None or not processes:
        return
    best = fastest(analysis, processes)  # the headline's: measured in fresh processes too
    yield (
        f"**The GIL, on {job}** (pure Python, CPU-bound), at 2 workers: "
        f"{describe(analysis, threads)}; the best process backend, {describe(analysis, best)}. "
        "Threads share one interpreter and take turns holding its lock, so their CPU use "
        "stays near one core (100%) however many there are; each process has its own "
        "interpreter and lock, so two of them keep two cores busy (near 200%)."
    )
    interpreters = cell_at(analysis, job, "interpreters", 2)
    if interpreters is not None:
        yield (
            f"**Threads, each with its own GIL** (Python 3.14's InterpreterPoolExecutor): "
            f"{describe(analysis, interpreters)}; its pool started in "
            f"{interpreters.startup_seconds or 0:.3f} s, {best.backend}'s in "
            f"{best.startup_seconds or 0:.3f} s. The same threads of one "
            "process, each in a subinterpreter with its own lock: what holds threads back on "
            "pure Python is the GIL, not the threads."
        )
    process_speedup, thread_speedup = analysis.speedup(best) or 0, analysis.speedup(threads) or 0
    if process_speedup < 1.7 or thread_speedup >= 1.2:
        yield (
            f"This run did not show the expected gap (processes at least 1.7x, threads under "
            f"1.2x): measured {process_speedup:.2f}x and {thread_speedup:.2f}x. The 1-minute "
            f"load average was {load if load is not None else 'unknown'} before the run: other "
            "work on the machine takes cores from the processes; inputs too small for the "
            "per-run overhead shrink every speedup. Rerun on an idle machine or a larger preset."
        )


def waiting(analysis: Analysis) -> Iterator[str]:
    job = by_workload(analysis, "io")
    if job is None:
        return
    cells = [c for c in analysis.select(Experiment.MATRIX, job=job) if analysis.matches(c)]
    threads = [c for c in cells if c.backend == "threads"]
    if not threads:
        return
    most = max(threads, key=lambda c: c.workers)
    yield (
        f"**Waiting, on {job}** (I/O-bound: each record sleeps): "
        f"{describe(analysis, most)}. Sleeping releases the GIL, so threads overlap their waits "
        "and scale past the core count while using almost no CPU; threads were enough here."
    )
    same = [c for c in cells if c.workers == most.workers and c.backend in PROCESS_BACKENDS]
    if best := fastest(analysis, same):
        yield (
            f"Processes at the same count: {describe(analysis, best)}; they scale too, but "
            "pay for starting workers and pickling tasks that only wait."
        )


def releasing(analysis: Analysis) -> Iterator[str]:
    job = by_workload(analysis, "releases-gil")
    threads = job and cell_at(analysis, job, "threads", 2)
    if threads:
        yield (
            f"**C code that drops the GIL, on {job}** (zlib): {describe(analysis, threads)}. "
            "zlib releases the GIL while it compresses, so threads use both cores without "
            "pickling a byte of data."
        )


def crossover(analysis: Analysis) -> Iterator[str]:
    """From big tasks to small: the first task size at which processes stop winning."""
    cells = [
        c for c in analysis.cells if c.experiment == Experiment.GRANULARITY and analysis.matches(c)
    ]
    counts = sorted({c.split_count for c in cells if c.split_count >= c.workers > 1})
    winners = {
        count: sole_leader(analysis, [c for c in cells if c.split_count == count])
        for count in counts
    }
    won = [count for count in counts if winners[count] and winners[count].backend == "pool"]
    if not won:
        if counts:
            yield "**Task size**: processes won at no split count tried: too little work."
        return
    total = cells[0].input_bytes
    lost = [
        count
        for count in counts
        if count > won[0] and winners[count] and winners[count].backend != "pool"
    ]
    if not lost:
        smallest = format_size(total / counts[-1])
        yield f"**Task size**: processes won from {won[0]} tasks up, down to {smallest} a task."
        return
    loser = winners[lost[0]]
    yield (
        f"**Task size**: on {cells[0].job}, processes won with {format_size(total / won[0])} "
        f"tasks, and lost to {loser.backend} once {format_size(total)} was cut into "
        f"{lost[0]} tasks of "
        f"{format_size(total / lost[0])} {ref(analysis, loser)}: each task's pickling and "
        "inter-process round trip costs the same however little work it carries, so small "
        "tasks favour threads or a single core."
    )


def input_size(analysis: Analysis) -> Iterator[str]:
    """Where processes start to pay off as the input grows, and how close to the cores they get."""
    cells = [
        c for c in analysis.input_size_cells() if c.backend != "sequential" and analysis.citable(c)
    ]
    for backend in dict.fromkeys(c.backend for c in cells if c.backend in PROCESS_BACKENDS):
        mine = sorted((c for c in cells if c.backend == backend), key=lambda c: c.input_bytes)
        paying = [c for c in mine if analysis.interval(c).low > 1]
        if not paying:
            yield f"**Input size**: {backend} was faster than sequential at no size tried."
            continue
        first, largest = paying[0], mine[-1]
        yield (
            f"**Input size**, {first.job} on {backend} x{first.workers}: processes pay off "
            f"from {format_size(first.input_bytes)} ({speedup_text(analysis.interval(first))} "
            f"{ref(analysis, first)}) and reach {speedup_text(analysis.interval(largest))} at "
            f"{format_size(largest.input_bytes)} {ref(analysis, largest)}, against "
            f"{analysis.cores} cores: below that, starting tasks and pickling their results "
            "cost more than the work they share."
        )


def shuffle(analysis: Analysis) -> Iterator[str]:
    """The jobs whose shuffle costs most, and what it does to their speedup."""
    costs = {}
    for cell in analysis.select(Experiment.MATRIX, workers=analysis.cores):
        if (
            cell.backend in PROCESS_BACKENDS
            and analysis.citable(cell)
            and cell.samples[0].shuffled
        ):
            share = cell.phase_median("shuffle") / cell.median
            if share > costs.get(cell.job, (0.0, None))[0]:
                costs[cell.job] = (share, cell)
    ranked = sorted(costs.values(), key=lambda pair: pair[0], reverse=True)
    if len(ranked) < 2:
        return
    said = [
        f"{cell.job} ({100 * share:.0f}% of {cell.backend}'s time, "
        f"{format_size(cell.samples[0].shuffled['bytes'])} pickled; "
        f"{speedup_text(analysis.interval(cell))}) {ref(analysis, cell)}"
        for share, cell in ranked[:2]
    ]
    least_share, least = ranked[-1]
    yield (
        f"**Shuffle**: the jobs that move the most spend the largest share of their time "
        f"moving it: {'; '.join(said)}; against {100 * least_share:.0f}% for {least.job}. "
        "Every pair a map task sends is sorted, pickled and written to its reducer's file "
        "(the driver passes only the names), then read back, unpickled and merged: the cost "
        "the paper's combiner and partitioner exist to cut."
    )


def sole_leader(analysis: Analysis, cells: list[Cell]) -> Cell | None:
    """The cell ahead of all the others beyond the noise, or None if some are tied."""
    tied = analysis.leaders(cells)
    return tied[0] if len(tied) == 1 else None


def start_methods(analysis: Analysis) -> Iterator[str]:
    cells = [
        c
        for c in analysis.select(Experiment.START_METHOD)
        if c.startup_seconds is not None and c.backend != "sequential"
    ]
    if cells:
        quickest = min(cells, key=lambda c: c.startup_seconds)
        slowest = max(cells, key=lambda c: c.startup_seconds)
        yield (
            f"**Start methods**: pool start-up ranged from {quickest.startup_seconds:.3f} s "
            f"({quickest.backend}, {quickest.start_method}) to {slowest.startup_seconds:.3f} s "
            f"({slowest.backend}, {slowest.start_method}): fork copies the parent, spawn starts "
            "a fresh interpreter and imports everything again."
        )


PAPER_STRAGGLERS = (
    "the paper's sort took 891 s normally, 44% longer with backup tasks disabled, and 5% "
    "longer with 200 of its 1,746 workers killed"
)


def stragglers(analysis: Analysis) -> Iterator[str]:
    """Per straggler job at the core count: what a straggler, backups and a killed worker
    did to the time, against the paper's Figure 3."""
    for job in dict.fromkeys(c.job for c in analysis.select(Experiment.STRAGGLERS)):
        cells = {
            c.scenario: c
            for c in analysis.select(Experiment.STRAGGLERS, job=job, workers=analysis.cores)
        }
        slowed = {name: analysis.slowdown(cell) for name, cell in cells.items()}
        if any(slowed.get(name) is None for name in STRAGGLER_SCENARIOS):
            continue
        normal = cells["normal"]
        said = {
            name: f"{slowdown_text(slowed[name])} {ref(analysis, cells[name])}" for name in cells
        }
        alone = (
            f"Backup tasks with no straggler: {said['backup tasks']}. "
            if "backup tasks" in said
            else ""
        )
        yield (
            f"**Stragglers** ({job} on {normal.backend} x{normal.workers}, normally "
            f"{normal.median:.2f} s {ref(analysis, normal)}). One worker running a tenth of the "
            f"time: {said['straggler']} without backup tasks, {said['straggler, backup tasks']} "
            "with them (the timelines: the other workers then do nearly all the work, but a "
            "stopped worker waiting for a task holds the pool's task-queue lock, and every "
            f"worker waits with it). {alone}A worker killed half-way through the map phase: "
            f"{said['worker killed']}. For scale, {PAPER_STRAGGLERS}. Here the straggler is "
            f"one of {normal.workers} workers, not a few of 1,746 machines, and each map task "
            f"is 1/{driver.default_split_count(normal.workers)} of the work, not 1/15,000: a slow "
            "task is a large share of the run, and a backup has that much to redo. A pool "
            "cannot replace one worker, so a death restarts every worker and reruns every task "
            "in progress, where the paper's master reran only the dead machine's."
        )


def findings(analysis: Analysis, load: float | None) -> list[str]:
    """Every finding, in the order the report lists them."""
    return [
        *suspects(analysis),
        *gil(analysis, load),
        *waiting(analysis),
        *releasing(analysis),
        *crossover(analysis),
        *input_size(analysis),
        *shuffle(analysis),
        *start_methods(analysis),
        *stragglers(analysis),
        *winners(analysis),
    ]
