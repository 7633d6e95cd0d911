"""The classic process pool: ``multiprocessing.Pool``.

``Pool`` quietly replaces a worker that dies, but the task that worker held
never returns: waiting for its result would hang forever.  So this backend
waits in short slices and, between them, checks that every worker it started
is still alive; a dead one raises ``WorkerLost``.

``Pool.terminate`` alone can hang in two ways, so closing prepares for it:
it waits without limit for workers that ignore SIGTERM or are frozen
(SIGSTOP), and it takes the task queue's lock, which an idle worker holds
while it waits for a task, so a worker killed while idle holds it forever.
``_stop`` therefore stops the pool's respawning, stops the workers itself
(SIGTERM, then SIGKILL), frees the locks a dead worker may hold, and only
then lets ``terminate`` join the pool's threads.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from multiprocessing.pool import TERMINATE, Pool
from typing import Any

from backends.base import (
    STOP_GRACE_SECONDS,
    ProcessBackend,
    R,
    T,
    WorkerLost,
    call_indexed,
    describe_exit,
    settle,
    stop_processes,
    worker_initializer,
)

POLL_SECONDS = 0.2
"""How long to wait for a result before checking on the workers."""


def free(lock: Any) -> None:
    """Leave a ``multiprocessing`` lock unheld; whoever held it is dead."""
    if lock is not None:
        lock.acquire(False)
        lock.release()


class PoolBackend(ProcessBackend):
    """Runs tasks on ``workers`` processes of a ``multiprocessing.Pool``."""

    name = "pool"
    _pool: Pool | None = None
    _processes: list[multiprocessing.process.BaseProcess]

    def _start(self) -> None:
        before = set(multiprocessing.active_children())
        self._pool = self.context.Pool(processes=self.workers, initializer=worker_initializer())
        # Pool starts all its workers in its constructor: the new children are they.
        self._processes = [p for p in multiprocessing.active_children() if p not in before]

    def run(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        if self._pool is None:
            raise RuntimeError(f"{self!r} is not open")
        # imap_unordered returns results as they finish but not which task
        # each came from, so every task carries its index there and back.
        indexed = functools.partial(call_indexed, fn)
        results = self._pool.imap_unordered(indexed, enumerate(tasks), chunksize=1)
        while True:
            try:
                yield results.next(timeout=POLL_SECONDS)
            except StopIteration:
                return
            except multiprocessing.TimeoutError:
                self.check()

    def submit(self, fn: Callable[[T], R], task: T) -> Future:
        """``apply_async``, its result handed to a ``concurrent.futures.Future``.

        A task cannot be taken back once queued: ``cancel`` lets it run, unused.
        """
        if self._pool is None:
            raise RuntimeError(f"{self!r} is not open")
        future: Future = Future()
        self._pool.apply_async(
            fn,
            (task,),
            callback=functools.partial(settle, future),
            error_callback=functools.partial(settle, future, None),
        )
        return future

    def check(self) -> None:
        for process in self._processes:
            if process.exitcode is not None:
                raise WorkerLost(f"pool worker {process.pid} {describe_exit(process.exitcode)}")

    def _stop(self) -> None:
        # As Pool.__exit__ does, terminate() rather than close(), which would
        # wait for queued work that nobody will collect; but first make sure it
        # cannot hang (see the module's docstring).  Pool has no public way to
        # do this: the attributes below are its own.
        pool, self._pool = self._pool, None
        if pool is None:
            return
        pool._worker_handler._state = TERMINATE  # no more replacement workers
        pool._change_notifier.put(None)
        pool._worker_handler.join(STOP_GRACE_SECONDS)
        stop_processes({*self._processes, *pool._pool})
        free(pool._inqueue._rlock)  # only workers take it
        # The result queue's lock: a worker stopped while it sent a result holds
        # it.  The task handler, told to finish, takes it for a moment to send a
        # last message; once it is done, or stuck behind a dead holder, any
        # holder is dead.
        pool._task_handler.join(POLL_SECONDS)
        free(pool._outqueue._wlock)
        pool.terminate()
        pool.join()
