"""A pool of threads in this process: ``concurrent.futures.ThreadPoolExecutor``.

Threads share the interpreter, so pure-Python work holds the GIL and runs on
one core at a time; waiting (I/O, sleep) and C code that releases the GIL
(zlib, hashlib) do run in parallel.
"""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor

from backends.executor import ExecutorBackend


class ThreadsBackend(ExecutorBackend):
    """Runs tasks on ``workers`` threads of this process."""

    name = "threads"

    def _make_executor(self) -> Executor:
        return ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="mapreduce")
