"""The part shared by backends built on a ``concurrent.futures.Executor``."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future

from backends.base import POLL_SECONDS, Backend, R, T, broken_pool_is_worker_lost
from backends.signals import first_done


class ExecutorBackend(Backend):
    """Submits every task to an executor and yields results as they complete."""

    runs_apart = True

    _executor: Executor | None = None

    @abc.abstractmethod
    def _make_executor(self) -> Executor:
        """Create the executor that will run the tasks."""

    def _start(self) -> None:
        self._executor = self._make_executor()

    def run(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        if self._executor is None:
            raise RuntimeError(f"{self!r} is not open")
        futures: dict[Future, int] = {}
        try:
            # submit too raises BrokenProcessPool, when a worker died between two runs
            with broken_pool_is_worker_lost(self):
                for index, task in enumerate(tasks):
                    futures[self._executor.submit(fn, task)] = index
                pending = set(futures)
                while pending:
                    done, pending = first_done(pending, POLL_SECONDS)
                    for future in done:
                        yield futures[future], future.result()
                    self.check()
        finally:
            for future in futures:
                future.cancel()

    def submit(self, fn: Callable[[T], R], task: T) -> Future:
        if self._executor is None:
            raise RuntimeError(f"{self!r} is not open")
        with broken_pool_is_worker_lost(self):
            return self._executor.submit(fn, task)

    def _stop(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
