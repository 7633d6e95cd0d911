"""Timeline plots: a row per worker, a bar per task execution, coloured by phase.

Drawn from the median run of a cell (``Cell.timeline``), from the run's
start.  The backend's start-up, timed apart from the run, is the grey band
left of 0; the dashed
line is where the last map task ended and the reduce phase could begin; the
gaps between bars are a worker's idle time.  A hatched bar is an execution
whose result went unused (a backup race's loser, one given up) or a try that
raised; executions given up before they came back have a row of their own.
"""

from __future__ import annotations

import os
from typing import Any

from backends import PROCESS_BACKENDS
from compare.analyse.analysis import Analysis
from compare.analyse.headline import fastest
from compare.cells import Cell, Experiment
from compare.measure.timelines import GIVEN_UP
from mapreduce.driver import PHASES

PHASE_COLOURS = dict(zip(PHASES, ("#7f7f7f", "#bcbd22", "#17becf", "#c5b0d5"), strict=True))
"""The phases in colours no backend has, so that a bar is not read as a backend."""

HATCHES = {"won": "", "failed": "xx", "lost": "//"}

CAPTIONS = {
    "timelines": "Each worker's tasks in the median run of four regimes: pi on threads (one "
    "GIL: the tasks take turns) and on processes at the core count, fetch on threads (waiting "
    "overlaps), and word count on the process backend the headline quotes.  Grey: start-up, "
    "timed apart; dashed: the last map task's end.",
    "stragglers": "The straggler experiment's median runs: normal, one worker running a tenth "
    "of the time, and the same with backup tasks (hatched: the loser, its result unused).",
}


def regimes(analysis: Analysis) -> list[tuple[str, Cell]]:
    """The cells that show each regime, with a title: those measured, with a timeline."""
    cores = os.cpu_count() or 1

    def matrix(job: str, backend: str, workers: int | None = None) -> Cell | None:
        found = [
            c for c in analysis.select(Experiment.MATRIX, job=job, backend=backend)
            if c.timeline and (workers is None or c.workers == workers)
        ]  # fmt: skip
        return max(found, key=lambda c: c.workers, default=None)

    def fastest_process(job: str) -> Cell | None:
        found = [c for name in PROCESS_BACKENDS if (c := matrix(job, name, cores))]
        return fastest(analysis, found)

    chosen = [
        ("pi on threads", matrix("pi", "threads", cores)),
        ("pi on processes", fastest_process("pi")),
        ("fetch on threads", matrix("fetch", "threads")),
        ("word count on processes", fastest_process("wordcount")),
    ]
    return [(f"{title}: {c.backend} x{c.workers}", c) for title, c in chosen if c is not None]


def straggler_runs(analysis: Analysis) -> list[list[tuple[str, Cell]]]:
    """Per straggler job at the core count: its normal, straggler and backed-up runs."""
    cores = os.cpu_count() or 1
    shown = ("normal", "straggler", "straggler, backup tasks")
    rows = []
    for job in dict.fromkeys(c.job for c in analysis.select(Experiment.STRAGGLERS, workers=cores)):
        cells = {
            c.scenario: c for c in analysis.select(Experiment.STRAGGLERS, job=job, workers=cores)
        }
        row = [(f"{job}: {name}", cells[name]) for name in shown if cells.get(name)]
        if len(row) == len(shown) and all(c.timeline for _, c in row):
            rows.append(row)
    return rows


def panel(axis: Any, cell: Cell, title: str) -> None:
    """One cell's timeline on ``axis``."""
    records = cell.timeline
    workers = sorted({r["worker"] for r in records} - {GIVEN_UP})
    rows = {w: i for i, w in enumerate(workers)}
    rows[GIVEN_UP] = len(workers)
    for record in records:
        axis.broken_barh(
            [(record["start"], record["end"] - record["start"])],
            (rows[record["worker"]] - 0.4, 0.8),
            facecolors=PHASE_COLOURS.get(record["phase"], "grey"),
            edgecolor="white",
            linewidth=0.5,
            hatch=HATCHES.get(record["outcome"], ""),
        )
    if cell.startup_seconds:
        axis.axvspan(-cell.startup_seconds, 0, color="#dddddd", zorder=0)
    maps = [r["end"] for r in records if r["phase"] == "map" and r["outcome"] == "won"]
    if maps:
        axis.axvline(max(maps), color="black", linestyle="--", linewidth=0.8)
    labels = [f"worker {w + 1}" for w in workers]
    if any(r["worker"] == GIVEN_UP for r in records):
        labels.append("given up")
    axis.set_yticks(range(len(labels)), labels, fontsize="small")
    axis.set_ylim(len(labels) - 0.5, -0.5)
    axis.set_xlabel("seconds from the run's start")
    axis.set_title(title, fontsize="medium")


def legend(figure: Any) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=PHASE_COLOURS[p], label=p) for p in ("map", "reduce")]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="//", label="unused"))
    handles.append(Patch(color="#dddddd", label="start-up"))
    figure.legend(handles=handles, loc="outside right upper", fontsize="small")


def draw_regimes(analysis: Analysis, plt: Any) -> Any:
    """The regimes' timelines in a 2-column grid; None if none was kept."""
    chosen = regimes(analysis)
    if not chosen:
        return None
    columns = min(2, len(chosen))
    rows = -(-len(chosen) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(6 * columns, 2.6 * rows), squeeze=False, layout="constrained"
    )
    for axis, (title, cell) in zip(axes.flat, chosen, strict=False):
        panel(axis, cell, title)
    for axis in list(axes.flat)[len(chosen) :]:
        axis.set_visible(False)
    legend(figure)
    figure.suptitle("Where the time goes, task by task")
    return figure


def draw_stragglers(analysis: Analysis, plt: Any) -> Any:
    """Normal, straggler and backed-up runs side by side, one row per job; None if none."""
    rows = straggler_runs(analysis)
    if not rows:
        return None
    figure, axes = plt.subplots(
        len(rows), 3, figsize=(15, 2.8 * len(rows)), squeeze=False, sharex="row",
        layout="constrained",
    )  # fmt: skip
    for line, row in zip(axes, rows, strict=True):
        for axis, (title, cell) in zip(line, row, strict=True):
            panel(axis, cell, title)
    legend(figure)
    figure.suptitle("A straggler (one worker running a tenth of the time), without and with "
                    "backup tasks")  # fmt: skip
    return figure
