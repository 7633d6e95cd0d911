"""The study's PNG plots: speedup against workers, phase breakdown, CPU use, task size.

matplotlib is optional (``pip install .[plots]``); without it ``draw`` returns
no plots and the report says how to get them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compare.analysis import Analysis
from compare.measure import Cell
from compare.results import PHASES


def draw(analysis: Analysis, folder: Path) -> list[str]:
    """Write every plot that has data into ``folder``; return their file names."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    drawn = []
    for name, plot in (
        ("speedup.png", speedup),
        ("phases.png", phases),
        ("cpu.png", cpu_use),
        ("granularity.png", granularity),
    ):
        figure = plot(analysis, plt)
        if figure is not None:
            figure.savefig(folder / name, dpi=110, bbox_inches="tight")
            plt.close(figure)
            drawn.append(name)
    return drawn


def matrix_jobs(analysis: Analysis) -> list[str]:
    return list(dict.fromkeys(c.job for c in analysis.cells if c.experiment == "matrix"))


def grid(plt, count: int, width: float = 3.6, height: float = 2.8):
    columns = min(4, count)
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(width * columns, height * rows), squeeze=False
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
        panel(axis, analysis.select("matrix", job=job))
        axis.set_title(job)
    axes[0].legend(fontsize="small")
    figure.suptitle(title)
    return figure


def line_per_backend(
    axis, cells: list[Cell], point: Callable[[Cell], tuple[float, float] | None]
) -> None:
    """One line per backend through ``point(cell)`` of its cells, skipping cells with none."""
    for backend in dict.fromkeys(c.backend for c in cells):
        points = sorted(p for c in cells if c.backend == backend and (p := point(c)))
        if points:
            axis.plot(*zip(*points, strict=True), marker="o", label=backend)


def speedup(analysis: Analysis, plt):
    def panel(axis, cells: list[Cell]) -> None:
        cells = [c for c in cells if c.backend != "sequential"]
        line_per_backend(
            axis, cells, lambda c: (c.workers, s) if (s := analysis.speedup(c)) else None
        )
        most = max((c.workers for c in cells), default=1)
        axis.plot([1, most], [1, most], color="grey", linestyle=":", linewidth=1, label="ideal")
        axis.set_xlabel("workers")
        axis.set_ylabel("speedup vs sequential")

    return per_job(analysis, plt, "Speedup against workers", panel)


def phases(analysis: Analysis, plt):
    def panel(axis, cells: list[Cell]) -> None:
        cells = [c for c in cells if c.workers in (1, 2) and c.samples]
        labels = [f"{c.backend} x{c.workers}" for c in cells]
        left = [0.0] * len(cells)
        for phase in PHASES:
            widths = [c.phase_median(phase) for c in cells]
            axis.barh(labels, widths, left=left, label=phase)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        axis.set_xlabel("seconds (median)")
        axis.tick_params(axis="y", labelsize="small")

    figure = per_job(analysis, plt, "Time in each phase, 1 and 2 workers", panel)
    if figure is not None:
        figure.tight_layout()
    return figure


def cpu_use(analysis: Analysis, plt):
    def panel(axis, cells: list[Cell]) -> None:
        cells = [c for c in cells if c.samples]
        line_per_backend(axis, cells, lambda c: (c.workers, 100 * c.cpu_utilization))
        axis.set_xlabel("workers")
        axis.set_ylabel("CPU use (%)")

    title = "CPU use: CPU seconds of all processes over wall seconds (100% = one core)"
    return per_job(analysis, plt, title, panel)


def granularity(analysis: Analysis, plt):
    cells = [c for c in analysis.cells if c.experiment == "granularity" and c.samples]
    if not cells:
        return None
    figure, axis = plt.subplots(figsize=(6, 4))
    line_per_backend(axis, cells, lambda c: (c.input_bytes / c.splits, c.median))
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("bytes of input per map task")
    axis.set_ylabel("median seconds")
    axis.set_title("Task granularity: the cost of many small tasks")
    axis.legend()
    return figure
