"""The study's plots: speedup against workers, phase breakdown, CPU use, task size, and
task timelines (``compare.render.timelines``).

Each is written as PNG (for the report) and PDF (vector, for a LaTeX
writeup), and ``figures.tex`` holds a ready ``figure`` environment for each.
A backend has one colour and one marker in every figure, fixed by its name.
matplotlib is optional (``pip install .[plots]``); without it ``draw`` returns
no plots and the report says how to get them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import backends
from compare.analyse.analysis import Analysis
from compare.cells import Cell, Experiment
from compare.render import timelines
from compare.render.timelines import PHASE_COLOURS
from mapreduce.driver import PHASES

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
STYLES = {
    name: {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)]}
    for i, name in enumerate(backends.names())
}
"""Each backend's colour and marker, the same in every figure: by name, not plotting order."""

CAPTIONS = {
    "speedup": "Speedup over the sequential backend (median of paired runs, with the "
    "interval the tables give it: the range of its runs, or for the headline's cells a 96\\% "
    "interval from fresh processes); the dotted line is sequential, the dashed one the core "
    "count.",
    "phases": "Median seconds in each phase, up to the core count.",
    "cpu": "CPU use (CPU seconds of all processes over wall seconds; 100\\% is one core); "
    "the dashed line is every core busy.",
    "granularity": "Median seconds against bytes of input per map task (log-log).",
    "input-size": "Word count's speedup over sequential against input size at the core "
    "count (median of paired runs, with their range); processes pay off where the range "
    "leaves 1.",
    **timelines.CAPTIONS,
}


def draw(analysis: Analysis, folder: Path) -> list[str]:
    """Write every plot that has data into ``folder``; return their file names."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    drawn = []
    for name, plot in PLOTS.items():
        figure = plot(analysis, plt)
        if figure is not None:
            for suffix in SUFFIXES:
                figure.savefig(folder / f"{name}.{suffix}", dpi=110)
            plt.close(figure)
            drawn.append(name)
    (folder / "figures.tex").write_text(latex_figures(drawn), encoding="utf-8")
    return [f"{name}.png" for name in drawn]


def latex_figures(names: list[str]) -> str:
    """A ``figure`` environment per plot, for ``\\input{figures.tex}`` in a writeup."""
    return "".join(
        "\\begin{figure}[htbp]\n  \\centering\n"
        f"  \\includegraphics[width=\\linewidth]{{{name}.pdf}}\n"
        f"  \\caption{{{CAPTIONS[name]}}}\n  \\label{{fig:{name}}}\n\\end{{figure}}\n\n"
        for name in names
    )


def matrix_jobs(analysis: Analysis) -> list[str]:
    return list(dict.fromkeys(c.job for c in analysis.cells if c.experiment == Experiment.MATRIX))


MIN_WIDTH = 6.0
"""Inches a figure of few panels still takes, for its title and the legend beside them."""


def grid(plt, count: int, width: float = 3.6, height: float = 2.8):
    columns = min(4, count)
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(max(width * columns, MIN_WIDTH), height * rows),
        squeeze=False,
        layout="constrained",
    )
    for axis in axes.flat[count:]:
        axis.set_visible(False)
    return figure, list(axes.flat)


def per_job(analysis: Analysis, plt, title: str, panel: Callable[[Any, list[Cell]], None]):
    """A panel per matrix job, drawn by ``panel(axis, that job's cells)``; None if no jobs."""
    jobs = matrix_jobs(analysis)
    if not jobs:
        return None
    figure, axes = grid(plt, len(jobs))
    for axis, job in zip(axes, jobs, strict=False):
        panel(axis, analysis.select(Experiment.MATRIX, job=job))
        axis.set_title(job)
    legend = {}  # every backend (or phase) drawn in any panel, once
    for axis in axes:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    figure.legend(
        legend.values(), legend.keys(), loc="outside lower center", ncols=min(len(legend), 5),
        fontsize="small",
    )  # fmt: skip
    figure.suptitle(title)
    return figure


def line_per_backend(
    axis, cells: list[Cell], point: Callable[[Cell], tuple[float, float] | None]
) -> None:
    """One line per backend through ``point(cell)`` of its cells, skipping cells with none."""
    for backend in dict.fromkeys(c.backend for c in cells):
        points = sorted(p for c in cells if c.backend == backend and (p := point(c)))
        if points:
            axis.plot(*zip(*points, strict=True), label=backend, **style(backend))


def style(backend: str) -> dict[str, str]:
    return STYLES.get(backend, {"color": "grey", "marker": "."})


def bars(axis, cells: list[Cell], value: Callable[[Cell], float | None], error=None) -> None:
    """A horizontal bar per cell (``backend xN``) in its backend's colour, with optional
    ``error(cell)`` whiskers (below, above); cells with no value are left out."""
    shown = [c for c in cells if value(c) is not None]
    for row, cell in enumerate(shown):
        whiskers = None if error is None else [[e] for e in error(cell)]
        axis.barh(
            row,
            value(cell),
            xerr=whiskers,
            color=style(cell.backend)["color"],
            label=cell.backend,
            capsize=3,
        )
    axis.set_yticks(range(len(shown)), [f"{c.backend} x{c.workers}" for c in shown])
    axis.tick_params(axis="y", labelsize="small")
    axis.invert_yaxis()


def whiskers(analysis: Analysis) -> Callable[[Cell], tuple[float, float]]:
    """How far a cell's speedup interval reaches below and above its median (0 if none)."""

    def reach(cell: Cell) -> tuple[float, float]:
        interval = analysis.interval(cell)
        if interval is None or math.isinf(interval.high):
            return 0.0, 0.0
        return interval.median - interval.low, interval.high - interval.median

    return reach


def speedup(analysis: Analysis, plt):
    def panel(axis, cells: list[Cell]) -> None:
        cells = [c for c in cells if c.backend != "sequential"]
        bars(axis, cells, analysis.speedup, whiskers(analysis))
        axis.axvline(1, color="grey", linestyle=":", linewidth=1)
        axis.axvline(analysis.cores, color="grey", linestyle="--", linewidth=1)
        axis.set_xlabel("speedup vs sequential")

    title = "Speedup over sequential (whiskers: the table's intervals)"
    return per_job(analysis, plt, title, panel)


def phases(analysis: Analysis, plt):
    def panel(axis, cells: list[Cell]) -> None:
        cells = [c for c in cells if c.workers <= analysis.cores and c.samples]
        labels = [f"{c.backend} x{c.workers}" for c in cells]
        left = [0.0] * len(cells)
        for phase in PHASES:
            widths = [c.phase_median(phase) for c in cells]
            axis.barh(labels, widths, left=left, label=phase, color=PHASE_COLOURS[phase])
            left = [a + b for a, b in zip(left, widths, strict=True)]
        axis.set_xlabel("seconds (median)")
        axis.tick_params(axis="y", labelsize="small")
        axis.invert_yaxis()

    return per_job(analysis, plt, "Time in each phase, up to the core count", panel)


def cpu_use(analysis: Analysis, plt):
    def panel(axis, cells: list[Cell]) -> None:
        cells = [c for c in cells if c.samples]
        bars(axis, cells, lambda c: 100 * c.cpu_utilization)
        axis.axvline(100 * analysis.cores, color="grey", linestyle="--", linewidth=1)
        axis.set_xlabel("CPU use (%)")

    title = "CPU use: CPU seconds of all processes over wall seconds (100% = one core)"
    return per_job(analysis, plt, title, panel)


def granularity(analysis: Analysis, plt):
    cells = [c for c in analysis.cells if c.experiment == Experiment.GRANULARITY and c.samples]
    if not cells:
        return None
    figure, axis = plt.subplots(figsize=(6, 4), layout="constrained")
    line_per_backend(axis, cells, lambda c: (c.input_bytes / c.split_count, c.median))
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("bytes of input per map task")
    axis.set_ylabel("median seconds")
    axis.set_title("Task granularity: the cost of many small tasks")
    axis.legend()
    return figure


def input_size(analysis: Analysis, plt):
    cells = [
        c
        for c in analysis.input_size_cells()
        if c.backend != "sequential" and analysis.interval(c)
    ]
    if not cells:
        return None
    figure, axis = plt.subplots(figsize=(6, 4), layout="constrained")
    reach = whiskers(analysis)
    for backend in dict.fromkeys(c.backend for c in cells):
        mine = sorted((c for c in cells if c.backend == backend), key=lambda c: c.input_bytes)
        axis.errorbar(
            [c.input_bytes for c in mine],
            [analysis.speedup(c) for c in mine],
            yerr=list(zip(*map(reach, mine), strict=True)),
            label=f"{backend} x{mine[0].workers}",
            capsize=3,
            **style(backend),
        )
    axis.axhline(1, color="grey", linestyle=":", linewidth=1)
    axis.axhline(analysis.cores, color="grey", linestyle="--", linewidth=1)
    axis.set_xscale("log")
    axis.set_xlabel("input bytes")
    axis.set_ylabel("speedup vs sequential")
    axis.set_title(f"Input size: where processes pay off ({cells[0].job})")
    axis.legend()
    return figure


PLOTS: dict[str, Callable[[Analysis, Any], Any]] = {
    "speedup": speedup,
    "phases": phases,
    "cpu": cpu_use,
    "granularity": granularity,
    "input-size": input_size,
    "timelines": timelines.draw_regimes,
    "stragglers": timelines.draw_stragglers,
}
"""Every plot the study can draw, by file name, in the report's order."""

SUFFIXES = ("png", "pdf")

FILES = (*(f"{name}.{suffix}" for name in PLOTS for suffix in SUFFIXES), "figures.tex")
"""Every file ``draw`` can write."""
