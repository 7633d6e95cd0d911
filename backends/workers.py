"""A worker process's life: what it sets up as it starts, and how it dies with its run."""

from __future__ import annotations

import functools
import os
import select
import signal
import sys
import threading
from collections.abc import Callable

from backends.signals import BLOCKS, STOPPING_SIGNALS

PR_SET_PDEATHSIG = 1
"""Linux ``prctl`` option: the signal a process gets when the thread that started it ends."""


def describe_exit(exitcode: int | None) -> str:
    """How a process ended, in words: ``killed by SIGKILL`` or ``exited with status 1``."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


def prepare_worker(run: int | None = None) -> None:
    """Worker initializer: leave signals to the parent, die with it (or with process ``run``,
    the run that started it), and print by the line.

    Ctrl-C reaches every process in the terminal's group; the workers ignore it
    and the parent stops the pool.  A forked worker would also inherit the
    parent's SIGTERM and SIGHUP handlers, so they are reset to the default.
    On Linux the worker is killed when its parent dies, even by SIGKILL, so
    no worker outlives the run that started it (elsewhere, a dead parent's
    workers end when they next talk to it).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in STOPPING_SIGNALS:
        if signum != signal.SIGINT:
            signal.signal(signum, signal.SIG_DFL)
    if BLOCKS:  # blocked by the parent while it started this worker (``held_back``)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING_SIGNALS)
    if sys.platform.startswith("linux"):
        # imported here, in worker processes only: the interpreters backend's
        # subinterpreters import this module too, and CPython 3.14.10 can crash
        # (a segmentation fault) importing ctypes in two of them at once
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if run is not None and run != os.getppid():
        die_with(run)
    # What a job prints goes out line by line: a worker stopped at close (SIGTERM) would
    # lose a block-buffered tail, as standard output is a pipe, not a terminal.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)


def die_with(run: int) -> None:
    """End this worker when process ``run`` ends, though it is not this worker's parent.

    A forkserver's workers are the forkserver's children, so the parent-death
    signal waits for the forkserver, which waits for its workers: they hold
    its "still alive" pipe open (CPython passes it to each, to start more).
    A killed run would leave them all running.  A thread waits on a Linux
    process descriptor for ``run`` instead (elsewhere, the workers end when
    they next talk to the dead run).
    """
    try:
        handle = os.pidfd_open(run)
    except (AttributeError, OSError):
        return

    def wait() -> None:
        select.select([handle], [], [])
        os._exit(1)

    threading.Thread(target=wait, name="run-watch", daemon=True).start()


def worker_initializer() -> Callable[[], None]:
    """``prepare_worker`` for the workers of a pool started by this process."""
    return functools.partial(prepare_worker, os.getpid())


def process_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists (perhaps another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and is another user's
        pass
    return True
