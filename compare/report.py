"""The comparison table: median time, spread, speedup over sequential, and correctness."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from compare.matrix import Cell


def speedup_text(ratio: float) -> str:
    """A speedup as pyperf says it: ``1.9x faster`` or ``1.4x slower``."""
    if ratio >= 1:
        return f"{ratio:.2f}x faster"
    return f"{1 / ratio:.2f}x slower"


def mismatches(cells: Sequence[Cell], reference: Cell) -> list[Cell]:
    """The cells whose output differs from the reference cell's."""
    return [cell for cell in cells if cell.digest != reference.digest]


def table(cells: Sequence[Cell], reference: Cell, tablefmt: str = "github") -> str:
    """One row per cell; the speedup is the reference median over the cell's median."""
    rows = []
    for cell in cells:
        matches = cell.digest == reference.digest
        rows.append(
            [
                cell.backend,
                cell.workers,
                f"{cell.startup_seconds:.3f}",
                f"{cell.median:.3f}",
                f"{min(cell.samples):.3f}-{max(cell.samples):.3f}",
                speedup_text(reference.median / cell.median) if matches else "-",
                "yes" if matches else f"NO ({cell.digest[:12]})",
            ]
        )
    headers = [
        "backend",
        "workers",
        "start-up (s)",
        "median (s)",
        "min-max (s)",
        "vs sequential",
        "output matches",
    ]
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
