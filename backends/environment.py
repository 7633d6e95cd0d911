"""The parent's environment, kept as it was around starting workers."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from multiprocessing import resource_tracker


def forget_missing_main() -> None:
    """Drop the path of a main module that is no file (``python -`` names it ``<stdin>``):
    a worker that Python starts afresh would run it, and die.  A REPL, ``python -c`` and a
    notebook name none; their jobs reach the workers by value (``mapreduce.job``)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if isinstance(path, str) and not os.path.isfile(path):
        del main.__file__


def start_resource_tracker() -> None:
    """Start Python's resource tracker now, unless it runs already.

    Whoever starts it has SIGINT unblocked in the starting thread (Python 3.11
    to 3.13), which would undo ``open``'s hold on Ctrl-C for the workers that
    thread starts next; started before that hold, it leaves it alone.
    """
    resource_tracker.ensure_running()


def restore_environment(saved: dict[str, str]) -> None:
    """Put ``os.environ`` back as ``saved``, undoing what a library wrote into it."""
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def environment_kept() -> Iterator[None]:
    """Undo whatever the block writes to ``os.environ``.

    dask's schedulers set ``PYTHONHASHSEED`` (and more) in the calling process
    for their own workers; pools started afterwards would inherit it.
    """
    saved = dict(os.environ)
    try:
        yield
    finally:
        restore_environment(saved)


QUIET_TRACKER = "ignore:resource_tracker:UserWarning"
"""A warnings filter for the messages of a resource tracker, which all begin so."""


@contextlib.contextmanager
def quiet_resource_tracker() -> Iterator[None]:
    """A resource tracker started in the block keeps its warnings to itself.

    A worker killed before it released a semaphore leaves the tracker one that
    the library has since removed, and at exit the tracker warns of it: noise
    after the run's one line.  Only the processes started in the block get the
    filter, and nothing but the tracker's own messages is filtered.
    """
    with environment_kept():
        os.environ["PYTHONWARNINGS"] = ",".join(
            filter(None, [os.environ.get("PYTHONWARNINGS"), QUIET_TRACKER])
        )
        yield
