"""The signals that stop a run, and holding them back while workers start and stop, and while
the driver waits on its futures."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Collection, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait

STOPPING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Signals that stop a run: Ctrl-C, ``kill``, and the terminal closing."""


TIMER_SIGNALS = tuple(getattr(signal, name) for name in ("SIGALRM",) if hasattr(signal, name))
"""The real-time timer's signal, which cuts a run past its deadline (``mapreduce.deadline``)."""

BLOCKS = hasattr(signal, "pthread_sigmask")
"""Whether this platform can block signals (POSIX)."""


@contextlib.contextmanager
def held_back(*signums: int, blocked: Collection[int] = (signal.SIGINT,)) -> Iterator[None]:
    """Hold ``signums`` back until the block ends, then deliver the first that came.

    For code that must not be cut half way: starting workers (a half-started
    pool cannot be cleaned up; a dask cluster's start is abandoned instead, on
    ``stop_requested``) and stopping them (a half-closed pool hangs later).
    The handlers are replaced (in the main
    thread) to note the signals instead.  Those of them in ``blocked`` are
    also blocked in this thread, so that threads and processes started
    meanwhile inherit the block (a blocked signal stays blocked across
    ``exec``) until their own code is ready for it: a worker that Python
    starts afresh (spawn, forkserver, loky) would otherwise print a
    ``KeyboardInterrupt`` traceback when a Ctrl-C, which reaches every
    process in the terminal's group, comes before its initializer ignores it,
    and a forked worker stopped (SIGTERM) before its initializer reset the
    handler it inherited would raise this process's ``Interrupted``.
    ``prepare_worker`` unblocks them.
    """
    received: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, lambda n, _: received.append(n)) for s in signums if main}
    block = set(blocked) & set(signums)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, block) if BLOCKS and block else None
    HELD.append(received)
    try:
        yield
    finally:
        HELD.remove(received)
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            signal.raise_signal(received[0])


HELD: list[list[int]] = []
"""The signals each ``held_back`` block now running has received, innermost last."""


def stop_requested() -> bool:
    """Whether a stopping signal has come and is being held back: a start that can be
    abandoned (``backends.dask``) abandons it, and the signal is delivered at the end."""
    return any(HELD)


@contextlib.contextmanager
def receiving(signum: int) -> Iterator[None]:
    """Let ``signum`` reach this thread during the block, though ``held_back`` blocks it:
    threads and processes started before the block keep the block they inherited."""
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum}) if BLOCKS else None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def first_done(futures: Collection[Future], timeout: float) -> tuple[set[Future], set[Future]]:
    """``concurrent.futures.wait`` for the first of ``futures`` to finish, at most ``timeout``
    seconds, with the stopping signals and the timer's held back until it returns.

    ``wait`` takes every future's lock, one after the other: an exception that
    a signal raised half way would leave some held, and the executor's own
    thread, which takes them to finish a future, would wait forever, and the
    close with it.  Held back, the signal is raised as ``wait`` returns.
    """
    with held_back(*STOPPING_SIGNALS, *TIMER_SIGNALS, blocked=()):
        return wait(futures, timeout, FIRST_COMPLETED)
