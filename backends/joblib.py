"""joblib's ``Parallel`` on its default process backend, loky.

loky keeps one reusable pool of worker processes per interpreter, started by
fork+exec (its own start method, ``loky``), ``spawn`` or ``forkserver``; it
refuses plain ``fork``.  A worker that dies breaks the pool
(``TerminatedWorkerError``); the engine then starts a fresh one.  With one
worker joblib runs the tasks in the calling process, as joblib itself chooses.

loky notices a dead worker itself, unless its manager thread is stuck reading
half a message the worker sent as it died; ``Parallel`` would then wait for
its results forever.  So while ``Parallel`` waits, a thread checks the
workers, and on a dead one stops the pool (``backends.teardown``) so that
``Parallel`` stops waiting.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from multiprocessing.process import BaseProcess
from typing import Any

# joblib checks as it loads that this machine can make the semaphores its processes need
# (in /dev/shm), and if not, warns and runs everything in the calling process: the warning
# is kept, to refuse the backend in one line instead.
with warnings.catch_warnings(record=True) as loading:
    warnings.simplefilter("always")
    import joblib
import joblib._parallel_backends
from joblib._multiprocessing_helpers import mp
from joblib.externals.loky import process_executor

from backends.base import POLL_SECONDS, R, T, broken_pool_is_worker_lost, call_indexed
from backends.environment import quiet_resource_tracker
from backends.errors import BackendError, WorkerLost
from backends.process import ProcessBackend
from backends.teardown import executor_processes, stop_executor
from backends.workers import worker_initializer

SERIAL = ".  joblib will operate in serial mode"
"""How joblib's warning that it cannot start processes here ends."""

NO_SEMAPHORES = next((str(w.message) for w in loading if SERIAL in str(w.message)), "")
"""Why joblib cannot start processes here, as it said when it loaded."""


class JoblibBackend(ProcessBackend):
    """Runs tasks on ``workers`` loky processes through ``joblib.Parallel``."""

    name = "joblib"
    start_methods = ("spawn", "forkserver")
    exits_when_idle = True  # loky's workers end after long idle, and are started again
    _parallel: joblib.Parallel | None = None
    _lost: WorkerLost | None = None
    _folder: str | None = None
    """The temporary folder joblib was given (``tempfile``'s, if it could choose one)."""
    """The dead worker the watching thread found, for ``run`` to raise."""

    def default_start_method(self) -> str:
        return "loky"

    @classmethod
    def available_start_methods(cls) -> list[str]:
        """loky's own fork+exec everywhere, and the platform's ``spawn`` or ``forkserver``."""
        return ["loky", *super().available_start_methods()]

    def open(self) -> JoblibBackend:
        # loky's resource tracker starts with the pool; a run stopped during start-up
        # leaves it a semaphore that loky has already removed
        with quiet_resource_tracker():
            return super().open()

    def _start(self) -> None:
        if mp is None:
            raise BackendError(
                f"{self.cannot_start}: loky cannot make the semaphores its processes share "
                f"(in /dev/shm, which must be writable and not full): "
                f"{NO_SEMAPHORES.removesuffix(SERIAL)}"
            )
        # No memmapping (tasks hold no large arrays), and a temporary folder named, so that
        # joblib makes none: by default it makes one in /dev/shm as it starts, which a
        # driver killed before it closes leaves behind.
        try:
            folder = tempfile.gettempdir()
        except OSError:  # it writes there to choose: not under a descriptor limit, say
            folder = None  # joblib's default, and its own error for what is short
        self._folder = folder
        with joblib.parallel_config(
            backend="loky",
            context=self.start_method,
            initializer=worker_initializer(),
            max_nbytes=None,
            temp_folder=folder,
        ):
            parallel = joblib.Parallel(
                n_jobs=self.workers, batch_size=1, return_as="generator_unordered"
            )
        parallel.__enter__()  # only a Parallel that has entered can be exited
        self._parallel = parallel
        loky = isinstance(parallel._backend, joblib._parallel_backends.LokyBackend)
        if self.workers > 1 and not loky:  # with one, joblib runs tasks here on purpose
            raise BackendError(
                f"{self.cannot_start}: joblib chose its {type(parallel._backend).__name__} "
                "instead of loky's processes"
            )

    def run(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        if self._parallel is None:
            raise RuntimeError(f"{self!r} is not open")
        calls = (joblib.delayed(functools.partial(call_indexed, fn))(t) for t in enumerate(tasks))
        try:
            with broken_pool_is_worker_lost(self), self._watched():
                yield from self._parallel(calls)
        except Exception as exc:
            if self._lost is None:
                raise
            raise self._lost from exc

    @contextlib.contextmanager
    def _watched(self) -> Iterator[None]:
        """Check the workers from a thread while the block runs; on a dead one, stop the pool."""
        finished = threading.Event()
        self._lost = None

        def watch() -> None:
            while not finished.wait(POLL_SECONDS):
                try:
                    self.check()
                except WorkerLost as exc:
                    self._lost = exc
                    self._stop_executor()
                    return

        watcher = threading.Thread(target=watch, name="joblib-watch", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            finished.set()
            watcher.join()

    @property
    def _executor(self) -> Any:
        """The loky executor that ``Parallel`` holds (``_backend._workers`` is joblib's own)."""
        return getattr(getattr(self._parallel, "_backend", None), "_workers", None)

    def processes(self) -> list[BaseProcess]:
        return executor_processes(self._executor)

    def _stop_executor(self) -> None:
        executor = self._executor
        if executor is not None:
            stop_executor(
                executor,
                lambda: executor.shutdown(wait=False, kill_workers=True),
                process_executor._threads_wakeups,
                lambda: self._lost or WorkerLost("the joblib pool was stopped"),
            )

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
        with broken_pool_is_worker_lost(self):
            return self._executor.submit(fn, task)

    def _stop(self) -> None:
        if self._parallel is None:
            return
        if self.workers > 1:
            # Parallel leaves loky's pool running for reuse by a later call; a run
            # owns its workers, so stop them now, waiting on nothing they may have broken.
            self._stop_executor()
        self._parallel.__exit__(None, None, None)
        self._parallel = None
        remove_empty_folders(self._folder)


def remove_empty_folders(folder: str | None) -> None:
    """Remove the empty memmapping folders joblib made for this process: when a task raises,
    joblib starts its pool again with its defaults (``abort_everything``), the settings in
    ``_start`` lost, and the new pool makes one in /dev/shm that stopping it leaves."""
    mark = f"joblib_memmapping_folder_{os.getpid()}_*"
    for place in {"/dev/shm", folder or "/dev/shm"}:  # the folder ``_start`` named, no new choice
        for path in glob.glob(os.path.join(place, mark)):
            with contextlib.suppress(OSError):  # not empty: in use by something else
                os.rmdir(path)
