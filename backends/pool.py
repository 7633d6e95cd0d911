"""The classic process pool: ``multiprocessing.Pool``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.pool import Pool

from backends.base import ProcessBackend, R, T, call_indexed


class PoolBackend(ProcessBackend):
    """Runs tasks on ``workers`` processes of a ``multiprocessing.Pool``."""

    name = "pool"
    _pool: Pool | None = None

    def _start(self) -> None:
        self._pool = self.context.Pool(processes=self.workers)

    def run(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        if self._pool is None:
            raise RuntimeError(f"{self!r} is not open")
        # imap_unordered returns results as they finish but not which task
        # each came from, so every task carries its index there and back.
        indexed = functools.partial(call_indexed, fn)
        yield from self._pool.imap_unordered(indexed, enumerate(tasks), chunksize=1)

    def close(self) -> None:
        # As Pool.__exit__ does: terminate() stops the workers at once, where
        # close() would wait for queued work that nobody will collect.
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
