"""A pool of processes: ``concurrent.futures.ProcessPoolExecutor``.

Each worker is its own interpreter with its own GIL, so pure-Python work runs
on every core; the price is starting the processes and pickling every task
and result through a pipe.  A worker that dies breaks the whole executor
(``BrokenProcessPool``); the engine then starts a fresh one.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import Executor, InvalidStateError, ProcessPoolExecutor

from backends.base import (
    STOP_GRACE_SECONDS,
    ProcessBackend,
    stop_processes,
    worker_initializer,
)
from backends.executor import ExecutorBackend


def quiet_cancelled_broken(args: threading.ExceptHookArgs, previous=threading.excepthook) -> None:
    """Hide one CPython 3.11 bug, pass every other thread exception on.

    When workers are stopped after ``shutdown(cancel_futures=True)``, 3.11's
    executor manager thread sets an exception on the futures it had just
    cancelled, and dies printing ``InvalidStateError`` (3.12 checks first):
    a traceback after the run's own one-line error, about nothing.
    """
    manager = type(args.thread).__name__ == "_ExecutorManagerThread"
    if not (manager and isinstance(args.exc_value, InvalidStateError)):
        previous(args)


if sys.version_info < (3, 12):
    threading.excepthook = quiet_cancelled_broken


class FuturesBackend(ExecutorBackend, ProcessBackend):
    """Runs tasks on ``workers`` processes of a ``ProcessPoolExecutor``."""

    name = "futures"

    def _make_executor(self) -> Executor:
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=self.context, initializer=worker_initializer()
        )

    def _stop(self) -> None:
        """Stop the workers now, even mid-task: ``shutdown`` alone waits for running tasks."""
        executor = self._executor
        if not isinstance(executor, ProcessPoolExecutor):
            return
        # The executor's own list of processes: Python 3.14 adds terminate_workers()
        # for this, earlier versions offer no public way to stop a running task.
        processes = list((executor._processes or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        stop_processes(processes)
        # its manager thread ends once it sees the workers gone; a process with a
        # thread left should not fork the next pool's workers (3.12 warns)
        manager = getattr(executor, "_executor_manager_thread", None)
        if manager is not None:
            manager.join(STOP_GRACE_SECONDS)
        self._executor = None
