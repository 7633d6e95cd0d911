"""The signals that stop a run, and holding them back while workers start and stop, and while
the driver waits on its futures."""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait

STOPPING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Signals that stop a run: Ctrl-C, ``kill``, and the terminal closing."""


TIMER_SIGNALS = tuple(getattr(signal, name) for name in ("SIGALRM",) if hasattr(signal, name))
"""The real-time timer's signal, which cuts a run past its deadline (``mapreduce.deadline``)."""

CUTTING_SIGNALS = STOPPING_SIGNALS + TIMER_SIGNALS
"""Every signal whose handler raises where it lands: ``held_back`` holds them all, for one
left out could cut the block between two of the changes it makes or undoes."""

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

    Every signal whose handler raises is held (``CUTTING_SIGNALS``): one that
    is not could cut the block where no ``try`` guards it, as it is entered or
    left (after ``__enter__``'s call to the generator, at the start of
    ``__exit__``), and leave the handlers replaced and the block in place.
    """
    received: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    block = set(blocked) & set(signums)
    restore: list[Callable[[], object]] = [functools.partial(forget, received)]
    try:  # a signal can cut the setting up too: each change is noted before it is made
        HELD.append(received)
        if BLOCKS and block:
            restore.append(functools.partial(set_mask, current_mask()))
            signal.pthread_sigmask(signal.SIG_BLOCK, block)
        for signum in signums if main else ():
            restore.append(functools.partial(signal.signal, signum, signal.getsignal(signum)))
            signal.signal(signum, lambda n, _: received.append(n))
        yield
    finally:
        cut = settle(restore)
        if received:
            signal.raise_signal(received[0])
        if cut is not None:
            raise cut


def current_mask() -> set[int]:
    """The signals this thread blocks."""
    return signal.pthread_sigmask(signal.SIG_BLOCK, ())


def set_mask(mask: Collection[int]) -> None:
    """Make ``mask`` the signals this thread blocks."""
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def forget(received: list[int]) -> None:
    """Take a ``held_back`` block's list out of ``HELD`` (by identity: empty lists are equal)."""
    HELD[:] = [other for other in HELD if other is not received]


def settle(steps: Sequence[Callable[[], object]]) -> BaseException | None:
    """Run every step to its end, though a signal's handler raises in one; the first
    exception raised, or None.

    Putting handlers and masks back is where a stop lands half way: a signal
    held back until now is delivered as soon as its own handler is back, and
    the deadline's timer can fire at any moment.  Each step sets a state, so a
    step cut short is run again; one that fails ``RETRIES`` times in a row
    fails by itself, and is left.
    """
    cut: BaseException | None = None
    done = failed = 0
    while True:
        try:
            while done < len(steps):
                steps[done]()
                done, failed = done + 1, 0
            return cut
        except BaseException as exc:  # a handler's exception, raised inside a step
            cut = cut or exc
            failed += 1
            if failed == RETRIES:
                done, failed = done + 1, 0


RETRIES = 3
"""Runs of a step that ``settle`` makes: a handler raises once for each signal, a step that
fails by itself every time."""


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
    if not BLOCKS:
        yield
        return
    restore = [functools.partial(set_mask, current_mask())]
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        yield
    finally:
        cut = settle(restore)
        if cut is not None:
            raise cut


def first_done(futures: Collection[Future], timeout: float) -> tuple[set[Future], set[Future]]:
    """``concurrent.futures.wait`` for the first of ``futures`` to finish, at most ``timeout``
    seconds, with the stopping signals and the timer's held back until it returns.

    ``wait`` takes every future's lock, one after the other: an exception that
    a signal raised half way would leave some held, and the executor's own
    thread, which takes them to finish a future, would wait forever, and the
    close with it.  Held back, the signal is raised as ``wait`` returns.
    """
    with held_back(*CUTTING_SIGNALS, blocked=()):
        return wait(futures, timeout, FIRST_COMPLETED)
