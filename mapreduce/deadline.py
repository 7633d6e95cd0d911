"""Cutting a block short once it has run too long, whatever it waits on.

A run that never ends (a job whose mapper never returns, a library waiting on
a pipe a killed worker left half-written) must not hold up whoever started
it: ``mapreduce check``'s configurations and the study's cells each have a
deadline.  Past it, the real-time timer's signal interrupts the main thread
wherever it is, and the run unwinds as it does on Ctrl-C (its workers stopped,
its files removed), then the block raises ``Overtime``.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from types import FrameType

from mapreduce.interrupts import Interrupted


class Overtime(Exception):
    """A block ran past its deadline and was cut short."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"ran longer than {seconds:g} s and was stopped")
        self.seconds = seconds


class Expired(Interrupted):
    """Raised by the timer inside the block: the run stops as it would on a signal (a task
    does not take it for a failure of its job's code), and the block turns it into
    ``Overtime``."""


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
def deadline(seconds: float, expired: Callable[[], None] | None = None) -> Iterator[None]:
    """Cut the block short after ``seconds`` and raise ``Overtime``, having first called
    ``expired`` (to log the stacks, say).  In the main thread, where the real-time timer
    exists; elsewhere the block has no deadline."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        if expired is not None:
            expired()
        raise Expired(signum)

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)  # in the try: it may expire at once
        yield
    except Expired:
        raise Overtime(seconds) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
