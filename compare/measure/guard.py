"""A run of a cell that takes far longer than it should is stopped and recorded as failed.

A study runs hundreds of cells, and one that never ends (a library waiting on
a pipe a killed worker left half-written, say) must not keep the rest from
being measured and reported.  Each run has a limit, a generous multiple of
the time it is expected to take; past it, the stacks of every thread go to
the log (standard error) and the run is cut short, raising ``CellTimeout``,
which fails its cell like any other error.  The engine closes its backend on the way out,
and a close waits on nothing a stuck pool holds.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from types import FrameType

FACTOR = 20
"""How many times its expected time a run may take."""

FLOOR_SECONDS = 30.0
"""The least time a run is given, however quick it is expected to be (a cold start)."""


class CellTimeout(Exception):
    """A run took longer than its limit."""


class Expired(BaseException):
    """Raised by the timer inside the run: not an ``Exception``, so that no handler of the
    engine's takes it for a failure of its own (as a ``KeyboardInterrupt`` passes them)."""


def limit(expected: float | None) -> float:
    """The seconds a run expected to take ``expected`` (None: unknown) may take."""
    return max(FLOOR_SECONDS, FACTOR * (expected or 0.0))


def stacks() -> str:
    """Every thread's stack, this one's first, innermost call last, as ``traceback`` prints
    them."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    frames = sorted(sys._current_frames().items(), key=lambda t: t[0] != threading.get_ident())
    return "\n".join(
        f"Thread {names.get(ident, ident)}:\n" + "".join(traceback.format_stack(frame))
        for ident, frame in frames
    )


@contextlib.contextmanager
def limited(seconds: float, what: str) -> Iterator[None]:
    """Raise ``CellTimeout`` in the block if it runs longer than ``seconds`` (from the main
    thread, by the real-time timer; elsewhere, and where there is none, no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        print(f"compare: {what} ran longer than {seconds:.0f} s; its threads:", file=sys.stderr)
        print(stacks(), file=sys.stderr, flush=True)
        raise Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except Expired:
        raise CellTimeout(
            f"ran longer than {seconds:.0f} s ({FACTOR} times its expected time, at least "
            f"{FLOOR_SECONDS:.0f} s) and was stopped; its threads' stacks are in the log"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
