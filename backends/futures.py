"""A pool of processes: ``concurrent.futures.ProcessPoolExecutor``.

Each worker is its own interpreter with its own GIL, so pure-Python work runs
on every core; the price is starting the processes and pickling every task
and result through a pipe.
"""

from __future__ import annotations

from concurrent.futures import Executor, ProcessPoolExecutor

from backends.base import ProcessBackend
from backends.executor import ExecutorBackend


class FuturesBackend(ExecutorBackend, ProcessBackend):
    """Runs tasks on ``workers`` processes of a ``ProcessPoolExecutor``."""

    name = "futures"

    def _make_executor(self) -> Executor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=self.context)
