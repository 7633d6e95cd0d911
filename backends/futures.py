"""A pool of processes: ``concurrent.futures.ProcessPoolExecutor``.

Each worker is its own interpreter with its own GIL, so pure-Python work runs
on every core; the price is starting the processes and pickling every task
and result through a pipe.  A worker that dies breaks the whole executor
(``BrokenProcessPool``); the engine then starts a fresh one.
"""

from __future__ import annotations

import concurrent.futures.process
import sys
import threading
from concurrent.futures import Executor, InvalidStateError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess

from backends.executor import ExecutorBackend
from backends.process import ProcessBackend
from backends.teardown import executor_processes, stop_executor
from backends.workers import worker_initializer


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

    def processes(self) -> list[BaseProcess]:
        return executor_processes(self._executor)

    def threads(self) -> list[threading.Thread]:
        """The executor's manager thread and its task queue's feeder (which pickles each
        task), while the executor is whole (they end, as they should, once it breaks)."""
        executor = self._executor
        if executor is None or executor._broken:
            return []
        queue = getattr(executor, "_call_queue", None)
        found = [executor._executor_manager_thread, getattr(queue, "_thread", None)]
        return [thread for thread in found if thread is not None]

    def _stop(self) -> None:
        """Stop the workers now, even mid-task (``shutdown`` alone waits for running tasks),
        and wait on nothing a dead worker may have broken (``backends.teardown``)."""
        executor, self._executor = self._executor, None
        if isinstance(executor, ProcessPoolExecutor):
            stop_executor(
                executor,
                lambda: executor.shutdown(wait=False, cancel_futures=True),
                concurrent.futures.process._threads_wakeups,
                lambda: BrokenProcessPool("the executor was stopped"),
            )
