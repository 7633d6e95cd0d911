"""Threads with a GIL each: ``concurrent.futures.InterpreterPoolExecutor`` (Python 3.14+).

Each worker is a thread of this process running its own subinterpreter
(PEP 734), with its own GIL: pure-Python work runs on every core, as with
processes, yet nothing is forked or spawned, so the pool starts in
milliseconds.  What travels between interpreters is pickled, as between
processes: a job reaches a worker by reference, so it must be importable at
module level, and its keys and values must pickle.

What it cannot do: an interpreter cannot be killed, so a task stuck in one
is abandoned, as on threads (``--task-timeout`` leaves it running, unused),
and Ctrl-C or ``close`` waits for the tasks already running; an extension
module that does not support subinterpreters fails to import in a worker
(the task fails, naming it).
"""

from __future__ import annotations

from concurrent.futures import Executor, InterpreterPoolExecutor

from backends.threads import THREAD_PREFIX, ThreadsBackend


class InterpretersBackend(ThreadsBackend):
    """Runs tasks on ``workers`` threads, each in a subinterpreter with its own GIL."""

    name = "interpreters"
    pickles = True

    def _make_executor(self) -> Executor:
        return InterpreterPoolExecutor(max_workers=self.workers, thread_name_prefix=THREAD_PREFIX)
