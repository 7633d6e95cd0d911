"""One line per cell on standard error: which cell, how far, and about how long is left."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from compare.measure import Cell


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


class StudyProgress:
    """Announces each cell; the time left is the mean time per cell so far, times those left."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def __call__(self, cell: Cell) -> None:
        elapsed = time.monotonic() - self.started
        left = (
            f", about {clock(elapsed / self.done * (self.total - self.done))} left"
            if self.done
            else ""
        )
        method = f" ({cell.start_method})" if cell.start_method else ""
        splits = f", {cell.splits} splits" if cell.splits else ""
        print(
            f"[{self.done + 1:>3}/{self.total}] {cell.experiment}: {cell.job} on {cell.backend} "
            f"x{cell.workers}{method}{splits}, {clock(elapsed)} elapsed{left}",
            file=self.stream,
            flush=True,
        )
        self.done += 1
