"""joblib's ``Parallel`` on its default process backend, loky.

loky keeps one reusable pool of worker processes per interpreter, started by
fork+exec (its own start method, ``loky``), ``spawn`` or ``forkserver``; it
refuses plain ``fork``.  A worker that dies breaks the pool
(``TerminatedWorkerError``); the engine then starts a fresh one.  With one
worker joblib runs the tasks in the calling process, as joblib itself chooses.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future

import joblib
from joblib.externals.loky import get_reusable_executor

from backends.base import (
    ProcessBackend,
    R,
    T,
    broken_pool_is_worker_lost,
    call_indexed,
    environment_kept,
    worker_initializer,
)

QUIET_TRACKER = "ignore:resource_tracker:UserWarning"
"""A warnings filter for the messages of loky's resource tracker, which all begin so."""


class JoblibBackend(ProcessBackend):
    """Runs tasks on ``workers`` loky processes through ``joblib.Parallel``."""

    name = "joblib"
    start_methods = ("spawn", "forkserver")
    _parallel: joblib.Parallel | None = None

    def default_start_method(self) -> str:
        return "loky"

    @classmethod
    def available_start_methods(cls) -> list[str]:
        """loky's own fork+exec everywhere, and the platform's ``spawn`` or ``forkserver``."""
        return ["loky", *super().available_start_methods()]

    def open(self) -> JoblibBackend:
        # loky's resource tracker, started with the pool, prints "leaked semlock"
        # warnings when a run stopped during start-up leaves it a semaphore that
        # loky has already removed: noise after the one-line error.  The tracker
        # is told to keep its own warnings to itself; nothing else is filtered.
        with environment_kept():
            os.environ["PYTHONWARNINGS"] = ",".join(
                filter(None, [os.environ.get("PYTHONWARNINGS"), QUIET_TRACKER])
            )
            return super().open()

    def _start(self) -> None:
        with joblib.parallel_config(
            backend="loky", context=self.start_method, initializer=worker_initializer()
        ):
            self._parallel = joblib.Parallel(
                n_jobs=self.workers, batch_size=1, return_as="generator_unordered"
            )
        self._parallel.__enter__()

    def run(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        if self._parallel is None:
            raise RuntimeError(f"{self!r} is not open")
        indexed = functools.partial(call_indexed, fn)
        with broken_pool_is_worker_lost(self.name):
            yield from self._parallel(joblib.delayed(indexed)(pair) for pair in enumerate(tasks))

    @property
    def runs_apart(self) -> bool:
        """One worker runs the tasks in the calling process."""
        return self.workers > 1

    def submit(self, fn: Callable[[T], R], task: T) -> Future:
        """Straight to the loky executor that ``Parallel`` holds: ``Parallel`` has no
        way to hand over one task and watch it (``_backend._workers`` is joblib's own)."""
        if self._parallel is None:
            raise RuntimeError(f"{self!r} is not open")
        if not self.runs_apart:
            return super().submit(fn, task)
        with broken_pool_is_worker_lost(self.name):
            return self._parallel._backend._workers.submit(fn, task)

    def _stop(self) -> None:
        if self._parallel is None:
            return
        self._parallel.__exit__(None, None, None)
        self._parallel = None
        if self.workers > 1:
            # Parallel leaves loky's pool running for reuse by a later call;
            # a run owns its workers, so stop them now.
            get_reusable_executor(reuse=True).shutdown(wait=True, kill_workers=True)
