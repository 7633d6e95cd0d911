"""A pool of threads in this process: ``concurrent.futures.ThreadPoolExecutor``.

Threads share the interpreter, so pure-Python work holds the GIL and runs on
one core at a time; waiting (I/O, sleep) and C code that releases the GIL
(zlib, hashlib) do run in parallel.
"""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor

from backends.executor import ExecutorBackend

THREAD_PREFIX = "mapreduce"
"""The names of this backend's threads begin so (``mapreduce_0``, ...)."""


class ThreadsBackend(ExecutorBackend):
    """Runs tasks on ``workers`` threads of this process."""

    name = "threads"

    def _make_executor(self) -> Executor:
        return ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=THREAD_PREFIX)

    def restart(self) -> None:
        """New threads, without waiting for the old: a thread cannot be stopped from outside,
        so one stuck in a timed-out task is left to finish on its own, its result unused."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self.open()
