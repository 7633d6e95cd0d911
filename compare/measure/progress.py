"""One line per batch on standard error: which cells, how far, and about how long is left."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO

from compare.measure.rounds import Batch


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


class StudyProgress:
    """Announces each batch; the time left is the mean time per run so far, times those left."""

    def __init__(
        self, batches: Sequence[Batch], repeat: int, stream: TextIO | None = None, later: int = 0
    ) -> None:
        """``later``: runs measured after the batches (the straggler experiment's)."""
        self.count, self.repeat = len(batches), repeat
        self.total = sum(b.runs for b in batches) * repeat + later
        self.done, self.announced = 0, 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def __call__(self, batch: Batch) -> None:
        elapsed = time.monotonic() - self.started
        left = (
            f", about {clock(elapsed / self.done * (self.total - self.done))} left"
            if self.done
            else ""
        )
        first = batch.reference
        splits = f", {first.split_count} splits" if first.split_count else ""
        cells = ", ".join(
            f"{c.backend} x{c.workers}" + (f" ({c.start_method})" if c.start_method else "")
            for c in batch.cells
        )
        self.announced += 1
        what = (
            first.dataset
            if first.dataset.startswith(first.job)
            else f"{first.job} on {first.dataset}"
        )
        print(
            f"[{self.announced:>3}/{self.count}] {first.experiment}: {what}{splits}; "
            f"sequential, {cells}; {clock(elapsed)} elapsed{left}",
            file=self.stream,
            flush=True,
        )
        self.done += batch.runs * self.repeat

    def say(self, what: str) -> None:
        """Announce a step that is not a batch."""
        elapsed = clock(time.monotonic() - self.started)
        print(f"[...] {what}; {elapsed} elapsed", file=self.stream, flush=True)
