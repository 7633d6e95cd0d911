"""From measured cells to the numbers the report quotes.

Two references per cell: for correctness, the sequential run of the same job
on the same input (any experiment: the output must not depend on the backend,
the split count or the start method); for speed, the sequential cell of the
same experiment, job, input and split count.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from compare.measure import Cell


def output_group(cell: Cell) -> tuple:
    return cell.job, cell.dataset, json.dumps(cell.params, sort_keys=True)


def timing_group(cell: Cell) -> tuple:
    return cell.experiment, *output_group(cell), cell.splits


class Analysis:
    """The measured cells, with each one's references looked up once."""

    def __init__(self, cells: Sequence[Cell]) -> None:
        self.cells = list(cells)
        self.output_reference: dict[tuple, Cell] = {}
        self.timing_reference: dict[tuple, Cell] = {}
        for cell in self.cells:
            if cell.backend == "sequential" and cell.samples:
                self.output_reference.setdefault(output_group(cell), cell)
                self.timing_reference.setdefault(timing_group(cell), cell)

    def matches(self, cell: Cell) -> bool:
        """Whether the cell ran and its output equals the sequential backend's."""
        reference = self.output_reference.get(output_group(cell))
        return (
            cell.error is None
            and bool(cell.samples)
            and reference is not None
            and cell.digest == reference.digest
        )

    def failures(self) -> list[Cell]:
        """Cells that failed to run or whose output differs: each fails the study."""
        return [cell for cell in self.cells if not self.matches(cell)]

    def speedup(self, cell: Cell) -> float | None:
        """Paired speedup over sequential (see ``Cell.paired_speedup``); None if wrong output."""
        if not self.matches(cell):
            return None
        paired = cell.paired_speedup()
        if paired is not None:
            return paired
        reference = self.timing_reference.get(timing_group(cell))
        return None if reference is None else reference.median / cell.median

    def efficiency(self, cell: Cell) -> float | None:
        speedup = self.speedup(cell)
        return None if speedup is None else speedup / cell.workers

    def select(self, experiment: str, **fields: object) -> list[Cell]:
        return [
            cell
            for cell in self.cells
            if cell.experiment == experiment
            and all(getattr(cell, name) == value for name, value in fields.items())
        ]

    def best(self, cells: Sequence[Cell]) -> Cell | None:
        """The cell with the highest paired speedup among those that gave the right output."""
        good = [cell for cell in cells if self.speedup(cell) is not None]
        return max(good, key=self.speedup, default=None)


def speedup_text(ratio: float | None) -> str:
    """A speedup as pyperf says it: ``1.9x faster`` or ``1.4x slower``."""
    if ratio is None:
        return "-"
    if ratio >= 1:
        return f"{ratio:.2f}x faster"
    return f"{1 / ratio:.2f}x slower"
