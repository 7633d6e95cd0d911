"""The study's tables, as rows, so that one definition renders to Markdown and LaTeX.

Each table is a title, headers and rows; every row carries the number of its
cell in ``results.json`` (column ``#``), so each figure can be traced to its
samples.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from tabulate import tabulate

from backends import PROCESS_BACKENDS
from compare.analyse.analysis import Analysis
from compare.analyse.headline import fastest, headline_cells
from compare.analyse.statistics import slowdown_text, speedup_text
from compare.cells import Cell, Experiment
from mapreduce.driver import PHASES
from mapreduce.sizes import format_size


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    note: str = ""

    def render(self, tablefmt: str) -> str:
        return tabulate(self.rows, self.headers, tablefmt=tablefmt, disable_numparse=True)


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def spread(cell: Cell) -> str:
    return f"{min(cell.walls):.3f}-{max(cell.walls):.3f}" if cell.samples else "-"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def output_text(analysis: Analysis, cell: Cell) -> str:
    if cell.error:
        return f"FAILED: {cell.error}"
    return "yes" if analysis.matches(cell) else f"NO ({(cell.digest or '')[:12]})"


def paired_median(cell: Cell) -> float | None:
    """Median wall time of the sequential runs paired with this cell's runs."""
    paired = [s.paired_sequential for s in cell.samples if s.paired_sequential]
    return statistics.median(paired) if paired else None


def vs_sequential(analysis: Analysis, cell: Cell) -> str:
    """The speedup with its interval; ``reference`` for sequential; marked when suspect."""
    if cell.backend == "sequential":
        return "reference"
    text = speedup_text(analysis.interval(cell))
    return f"{text} SUSPECT" if analysis.suspect(cell) else text


def timing_columns(analysis: Analysis, number: int, cell: Cell) -> list[str]:
    ok = bool(cell.samples)
    return [
        seconds(cell.median if ok else None),
        spread(cell),
        seconds(paired_median(cell)),
        vs_sequential(analysis, cell),
        percent(analysis.efficiency(cell)) if cell.backend != "sequential" else "-",
        percent(cell.cpu_utilization if ok else None),
        seconds(cell.startup_seconds),
        output_text(analysis, cell),
        str(number),
    ]


TIMING_HEADERS = [
    "median (s)", "min-max (s)", "paired sequential (s)", "vs sequential [interval]", "efficiency",
    "CPU use", "start-up (s)", "output matches", "#",
]  # fmt: skip


def matrix_tables(analysis: Analysis) -> list[Table]:
    tables = []
    jobs = dict.fromkeys(
        cell.job for cell in analysis.cells if cell.experiment == Experiment.MATRIX
    )
    for job in jobs:
        rows = []
        for number, cell in enumerate(analysis.cells):
            if cell.experiment == Experiment.MATRIX and cell.job == job:
                phases = [seconds(cell.phase_median(p)) if cell.samples else "-" for p in PHASES]
                timing = timing_columns(analysis, number, cell)[:-1]
                rows.append([cell.backend, cell.workers, *timing, *phases, number])
        first = next(
            c for c in analysis.cells if c.job == job and c.experiment == Experiment.MATRIX
        )
        tables.append(
            Table(
                f"{job} ({first.dataset.removeprefix(job).strip() or first.dataset})",
                ["backend", "workers", *TIMING_HEADERS[:-1], *PHASES, "#"],
                rows,
            )
        )
    return tables


def sweep_table(analysis: Analysis, experiment: str, title: str, label: str) -> Table | None:
    rows = []
    chosen = (
        analysis.input_size_cells()
        if experiment == Experiment.INPUT_SIZE
        else [c for c in analysis.cells if c.experiment == experiment]
    )
    for cell in chosen:
        number = analysis.cells.index(cell)
        if experiment == Experiment.GRANULARITY:
            task = cell.input_bytes / cell.split_count
            first = f"{cell.split_count} ({format_size(task)} a task)"
        elif experiment == Experiment.INPUT_SIZE:
            first = format_size(cell.input_bytes)
        elif experiment == Experiment.START_METHOD:
            first = cell.start_method or "-"
        else:
            first = f"{cell.job} on {cell.dataset}"
        rows.append([first, cell.backend, cell.workers, *timing_columns(analysis, number, cell)])
    if not rows:
        return None
    return Table(title, [label, "backend", "workers", *TIMING_HEADERS], rows)


HEADLINE = "Headline: the three regimes"


def headline_table(analysis: Analysis) -> Table | None:
    """Per regime and job: sequential, and the best threads, process and (3.14+) interpreters
    cells (2+ workers)."""
    rows = [
        [
            regime,
            job,
            f"{cell.backend} x{cell.workers}",
            vs_sequential(analysis, cell),
            percent(cell.cpu_utilization),
            analysis.cells.index(cell),
        ]
        for regime, job, _, cell in headline_cells(analysis)
    ]
    if not rows:
        return None
    headers = ["regime", "job", "cell", "vs sequential [interval]", "CPU use", "#"]
    return Table(HEADLINE, headers, rows)


INPUTS = "Inputs and their sequential times"


def matrix_references(analysis: Analysis) -> list[tuple[int, Cell]]:
    """Each matrix job's sequential cell, with its number."""
    return [
        (number, cell)
        for number, cell in enumerate(analysis.cells)
        if cell.experiment == Experiment.MATRIX and cell.backend == "sequential" and cell.samples
    ]


def inputs_table(analysis: Analysis) -> Table | None:
    """What each matrix job ran on, and how long one sequential run of it took."""
    rows = [
        [cell.job, cell.dataset, seconds(cell.median), spread(cell), len(cell.samples), number]
        for number, cell in matrix_references(analysis)
    ]
    headers = ["job", "input", "sequential median (s)", "min-max (s)", "runs", "#"]
    return Table(INPUTS, headers, rows) if rows else None


def shuffle_table(analysis: Analysis) -> Table | None:
    """Per matrix job, what its map tasks send to the reducers and what moving it costs."""
    rows = []
    for _, reference in matrix_references(analysis):
        cells = analysis.select(Experiment.MATRIX, job=reference.job, workers=analysis.cores)
        best = fastest(analysis, [c for c in cells if c.backend in PROCESS_BACKENDS])
        if best is None:
            continue
        moved = best.samples[0].shuffled
        if not moved:  # measured before the study counted it
            continue
        share = best.phase_median("shuffle") / best.median
        rows.append(
            [
                reference.job,
                moved["tasks"],
                f"{moved['pairs']:,}",
                format_size(moved["bytes"]),
                format_size(moved["bytes"] / moved["tasks"]),
                seconds(reference.phase_median("shuffle")),
                f"{best.backend} x{best.workers}",
                seconds(best.phase_median("shuffle")),
                percent(share),
                vs_sequential(analysis, best),
                analysis.cells.index(best),
            ]
        )
    headers = [
        "job", "map tasks", "pairs sent", "pickled", "a map task", "sequential shuffle (s)",
        "process cell", "its shuffle (s)", "share of its time", "vs sequential [interval]", "#",
    ]  # fmt: skip
    note = (
        "Pairs and pickled bytes the map tasks send to the reducers (after the combiner), as "
        "the fastest process cell at the core count (as the headline picks it) moves them "
        "(through files in the run's folder, whose names the driver passes on); the shuffle "
        "phase is the driver's hand-off plus the tasks' time partitioning, sorting and "
        "writing (map) and reading and merging (reduce). Sequential moves no bytes: it "
        "passes the pairs themselves."
    )
    return Table(SHUFFLE, headers, rows, note) if rows else None


SHUFFLE = "Shuffle: what moves between map and reduce"

STRAGGLERS = "Stragglers and backup tasks"


def median_count(cell: Cell, name: str) -> str:
    """The median of a fault counter over the cell's runs."""
    counts = [s.faults.get(name, 0) for s in cell.samples]
    return f"{statistics.median(counts):g}" if counts else "-"


def straggler_table(analysis: Analysis) -> Table | None:
    """Each scenario's time and its slowdown against the same round's normal run."""
    rows = [
        [
            cell.job, f"{cell.backend} x{cell.workers}", cell.scenario,
            seconds(cell.median if cell.samples else None),
            spread(cell),
            "reference" if cell.scenario == "normal" else slowdown_text(analysis.slowdown(cell)),
            median_count(cell, "backup_tasks"), median_count(cell, "backup_wins"),
            median_count(cell, "worker_restarts"), output_text(analysis, cell),
            analysis.cells.index(cell),
        ]
        for cell in analysis.select(Experiment.STRAGGLERS)
        if cell.samples or cell.error
    ]  # fmt: skip
    headers = [
        "job", "cell", "scenario", "median (s)", "min-max (s)", "vs normal [interval]",
        "backup tasks", "won by a backup", "pool restarts", "output matches", "#",
    ]  # fmt: skip
    note = (
        "Each scenario runs once per round, in a shuffled order, on a pool of its own; its "
        "time is compared with the same round's normal run. Straggler: one worker process "
        "stopped and continued (SIGSTOP 0.45 s, SIGCONT 0.05 s) for the whole run, so it runs "
        "a tenth of the time. Worker killed: one worker killed (SIGKILL) once half the map "
        "tasks are done; the pool is restarted and every unfinished task runs again. "
        "Counts are medians per run."
    )
    return Table(STRAGGLERS, headers, rows, note) if rows else None


def all_tables(analysis: Analysis) -> list[Table]:
    sweeps = [
        sweep_table(analysis, Experiment.GRANULARITY, "Task granularity", "map tasks"),
        sweep_table(analysis, Experiment.INPUT_SIZE, "Input size", "input"),
        sweep_table(analysis, Experiment.START_METHOD, "Start method", "start method"),
        sweep_table(analysis, Experiment.REAL_TEXT, "Real text", "job and input"),
        sweep_table(
            analysis,
            Experiment.BASELINES,
            "Baselines: word count without the framework",
            "job and input",
        ),
        straggler_table(analysis),
    ]
    first = [headline_table(analysis), inputs_table(analysis), shuffle_table(analysis)]
    return (
        [table for table in first if table]
        + matrix_tables(analysis)
        + [table for table in sweeps if table]
    )


def render_tables(tables: list[Table], tablefmt: str) -> str:
    """Every table, titled, in one tabulate format (``latex_booktabs``, ``github``, ...)."""
    return (
        "\n\n".join(
            f"{t.title}\n\n{t.render(tablefmt)}" + (f"\n\n{t.note}" if t.note else "")
            for t in tables
        )
        + "\n"
    )
