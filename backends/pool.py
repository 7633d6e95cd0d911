"""The classic process pool: ``multiprocessing.Pool``.

``Pool`` quietly replaces a worker that dies, but the task that worker held
never returns: waiting for its result would hang forever.  So this backend
waits in short slices and, between them, checks that every worker it started
is still alive; a dead one raises ``WorkerLost``.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.pool import Pool

from backends.base import (
    ProcessBackend,
    R,
    T,
    WorkerLost,
    call_indexed,
    describe_exit,
    leave_signals_to_parent,
)

POLL_SECONDS = 0.2
"""How long to wait for a result before checking on the workers."""


class PoolBackend(ProcessBackend):
    """Runs tasks on ``workers`` processes of a ``multiprocessing.Pool``."""

    name = "pool"
    _pool: Pool | None = None
    _processes: list[multiprocessing.process.BaseProcess]

    def _start(self) -> None:
        before = set(multiprocessing.active_children())
        self._pool = self.context.Pool(processes=self.workers, initializer=leave_signals_to_parent)
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
                self._check_workers()

    def _check_workers(self) -> None:
        for process in self._processes:
            if process.exitcode is not None:
                raise WorkerLost(f"pool worker {process.pid} {describe_exit(process.exitcode)}")

    def close(self) -> None:
        # As Pool.__exit__ does: terminate() stops the workers at once, where
        # close() would wait for queued work that nobody will collect.
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
