"""A run of a cell that takes far longer than it should is stopped and recorded as failed.

A study runs hundreds of cells, and one that never ends must not keep the rest
from being measured and reported.  Each run has a deadline, a generous
multiple of the time it is expected to take (``mapreduce.deadline``); past
it, the stacks of every thread go to the log (standard error) and the run is
cut short, raising ``CellTimeout``, which fails its cell like any other error.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from mapreduce.deadline import Overtime, deadline, stacks

FACTOR = 20
"""How many times its expected time a run may take."""

FLOOR_SECONDS = 30.0
"""The least time a run is given, however quick it is expected to be (a cold start)."""


class CellTimeout(Exception):
    """A run took longer than its limit."""


def limit(expected: float | None) -> float:
    """The seconds a run expected to take ``expected`` (None: unknown) may take."""
    return max(FLOOR_SECONDS, FACTOR * (expected or 0.0))


@contextlib.contextmanager
def limited(seconds: float, what: str) -> Iterator[None]:
    """Raise ``CellTimeout`` if the block runs longer than ``seconds``, every thread's stack
    logged first."""

    def log() -> None:
        print(f"compare: {what} ran longer than {seconds:.0f} s; its threads:", file=sys.stderr)
        print(stacks(), file=sys.stderr, flush=True)

    try:
        with deadline(seconds, log):
            yield
    except Overtime:
        raise CellTimeout(
            f"ran longer than {seconds:.0f} s ({FACTOR} times its expected time, at least "
            f"{FLOOR_SECONDS:.0f} s) and was stopped; its threads' stacks are in the log"
        ) from None
