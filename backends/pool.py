"""The classic process pool: ``multiprocessing.Pool``.

``Pool`` quietly replaces a worker that dies, but the task that worker held
never returns: waiting for its result would hang forever.  So this backend
waits in short slices and, between them, checks that every worker the pool
ever started is still alive; a dead one raises ``WorkerLost``.

``Pool.terminate`` can hang after a worker died (see ``backends.teardown``),
and waits without limit for workers that ignore SIGTERM or are frozen
(SIGSTOP), so closing stops the pool with ``teardown.stop_pool`` instead.
"""

from __future__ import annotations

import functools
import multiprocessing
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from multiprocessing.pool import Pool

from backends.base import POLL_SECONDS, R, T, call_indexed, settle
from backends.process import ProcessBackend
from backends.teardown import stop_pool
from backends.workers import worker_initializer


class WatchedPool(Pool):
    """A ``Pool`` that keeps every worker process it starts, dead or alive.

    ``Pool`` forgets a dead worker as soon as its own thread notices, and
    starts another: a list taken from it, or from ``active_children``, even
    right after it starts, can already miss a worker killed meanwhile (and
    the task it held).
    """

    def __init__(self, *args, **kwargs) -> None:
        self.started: list[multiprocessing.process.BaseProcess] = []
        super().__init__(*args, **kwargs)

    def Process(self, ctx, *args, **kwargs):  # Pool makes each worker through this hook
        process = ctx.Process(*args, **kwargs)
        self.started.append(process)
        return process


class PoolBackend(ProcessBackend):
    """Runs tasks on ``workers`` processes of a ``multiprocessing.Pool``."""

    name = "pool"
    runs_apart = True
    _pool: WatchedPool | None = None

    def _start(self) -> None:
        self._pool = WatchedPool(
            processes=self.workers, initializer=worker_initializer(), context=self.context
        )

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

    def threads(self) -> list[threading.Thread]:
        pool = self._pool
        if pool is None:
            return []
        return [pool._worker_handler, pool._task_handler, pool._result_handler]

    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        """Every worker the pool started: one that died is a lost worker (its task with it),
        whatever ``Pool`` started in its place."""
        return list(self._pool.started) if self._pool is not None else []

    def _stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            stop_pool(pool, pool.started)
