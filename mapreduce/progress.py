"""A one-line progress bar on standard error, shown only once work takes a moment."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Draws ``phase  done/total [#####.....]  elapsed`` in place on a terminal.

    Nothing is drawn during the first ``delay`` seconds, so quick runs stay
    quiet, and nothing at all when the stream is not a terminal (unless
    ``force``), so logs and pipes get no carriage returns.
    """

    def __init__(
        self, stream: TextIO | None = None, delay: float = 0.5, force: bool = False
    ) -> None:
        self.stream = stream or sys.stderr
        self.delay = delay
        self.enabled = force or self.stream.isatty()
        self.started = time.monotonic()
        self.drawn = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.started
        if not self.enabled or elapsed < self.delay:
            return
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r{phase:<7} {done:>4}/{total:<4} [{bar}] {elapsed:6.1f}s")
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        """End the bar's line, if one was drawn."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
