"""The headline: the study's three regimes, and the cells of each that a writeup quotes."""

from __future__ import annotations

from backends import PROCESS_BACKENDS
from compare.analyse.analysis import Analysis
from compare.analyse.statistics import leaders, value_range
from compare.cells import Cell, Experiment

REGIMES = (
    (
        "pure Python",
        ("pi", "wordcount"),
        "Pure-Python work holds the GIL: threads take turns on one interpreter and use one "
        "core however many there are, while each process has its own interpreter and lock.",
    ),
    (
        "waiting",
        ("fetch",),
        "A thread that waits releases the GIL, so threads overlap their waits, past the "
        "core count, with nothing to start or pickle.",
    ),
    (
        "C code that drops the GIL",
        ("compress",),
        "zlib releases the GIL while it compresses, so threads use every core, and pass "
        "no data between processes.",
    ),
)
"""The study's three regimes: what a writeup quotes, and why each comes out as it does."""


def fastest(analysis: Analysis, cells: list[Cell]) -> Cell | None:
    """The cell the headline quotes of ``cells``: of the citable ones tied for the highest
    speedup in the study's own rounds, the one measured again in fresh processes, else the
    first in the order given (the matrix's).  The noise of one run cannot tell tied cells
    apart, so the fixed order, not the noise, picks: two runs of the study measure again,
    and quote, the same cell.  Where every cell is suspect, the same of those, shown as
    suspect: measured again it may not be, and a headline without the row would hide the
    question."""
    measured = [cell for cell in cells if analysis.interval(cell) is not None]
    citable = [cell for cell in measured if not analysis.suspect(cell)] or measured
    in_rounds = {
        index: value_range(cell.ratios) if cell.ratios else analysis.interval(cell)
        for index, cell in enumerate(citable)
    }
    tied = [citable[index] for index in sorted(leaders(in_rounds))]
    return next((cell for cell in tied if cell.invocation_values), tied[0] if tied else None)


ROLES = ("sequential", "threads", "best process", "interpreters")
"""The headline's cells per job: sequential, and the fastest threads, process and (3.14+)
interpreters cells at 2+ workers."""


def headline_cells(analysis: Analysis) -> list[tuple[str, str, str, Cell]]:
    """The headline's ``(regime, job, role, cell)``, in the table's order."""
    chosen = []
    for regime, jobs, _ in REGIMES:
        for job in jobs:
            cells = analysis.select(Experiment.MATRIX, job=job)
            parallel = [c for c in cells if c.workers > 1]
            candidates = {
                "sequential": [c for c in cells if c.backend == "sequential"],
                "threads": [c for c in parallel if c.backend == "threads"],
                "best process": [c for c in parallel if c.backend in PROCESS_BACKENDS],
                "interpreters": [c for c in parallel if c.backend == "interpreters"],
            }
            for role in ROLES:
                if cell := fastest(analysis, candidates[role]):
                    chosen.append((regime, job, role, cell))
    return chosen
