"""The Backend interface: an executor of independent tasks.

A backend is shaped like ``concurrent.futures.Executor``: it is opened and
closed (a context manager, so that starting its workers is timed apart from the
work), and it runs one function over a batch of task descriptors, yielding
``(index, result)`` pairs in the order the tasks finish.  It knows nothing of
MapReduce: the engine decides what a task is.  ``backends.process`` adds what
a backend with worker processes shares, as CPython's ``concurrent.futures``
keeps ``_base`` apart from ``process``.
"""

from __future__ import annotations

import abc
import contextlib
import signal
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Future, InvalidStateError
from typing import Any, ClassVar, TypeVar

from backends import relay
from backends.environment import forget_missing_main
from backends.errors import BackendError, WorkerLost, one_line, out_of_memory
from backends.signals import CUTTING_SIGNALS, held_back

T = TypeVar("T")


R = TypeVar("R")


MAX_WORKERS = 1024
"""More workers than this is a typing mistake, not a machine: each costs a process or a thread."""


POLL_SECONDS = 0.2
"""How long a process backend waits for a result before checking on its workers."""


START_ATTEMPTS = 3
"""Starts of a backend that lost a worker before ``open`` gives up (the default max attempts)."""


WARM_UP_SECONDS = 30
"""How long ``open`` waits for every worker process to take a task."""


@contextlib.contextmanager
def broken_pool_is_worker_lost(backend: Backend) -> Iterator[None]:
    """Turn an executor broken by a dead worker (``BrokenProcessPool``, loky's
    ``TerminatedWorkerError``) into ``WorkerLost``, and so the errors of starting a worker
    that died as it started: with ``forkserver`` and ``spawn`` the driver writes each new
    process what it is to run, and that write breaks (``BrokenPipeError``) if the process
    died before it read it, or finds the executor's pipes closed under it (``OSError``) if
    the executor's thread has meanwhile found a worker dead and broken the executor; the
    next process's start may then even pass it a descriptor number closed and made again
    (``ValueError: bad value(s) in fds_to_keep``).  An ``OSError`` or ``ValueError`` is a
    lost worker only while a worker process has ended."""
    try:
        yield
    except BrokenExecutor as exc:
        if out_of_memory(exc):  # the driver could not take a result in: no worker died
            raise
        raise WorkerLost(f"a {backend.name} worker died: {one_line(exc)}") from exc
    except BackendError:  # the backend's own word (a ValueError too): said already
        raise
    except (OSError, ValueError) as exc:
        lost = backend.ended()
        if lost is None and not isinstance(exc, BrokenPipeError):
            raise
        raise lost or WorkerLost(f"a {backend.name} worker died as it started") from exc


def call_indexed(fn: Callable[[T], R], indexed_task: tuple[int, T]) -> tuple[int, R]:
    """Run ``fn`` on one task and tag its result with the task's index.

    Module-level so that it pickles: pools that only return results (not which
    task they came from) send this instead of ``fn``.
    """
    index, task = indexed_task
    return index, fn(task)


def settle(future: Future, result: Any = None, error: BaseException | None = None) -> None:
    """Give a future made here the result (or exception) a library's own handle delivered,
    unless the future was cancelled meanwhile."""
    try:
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
    except InvalidStateError:  # cancelled: nobody waits for it
        pass


def _do_nothing(task: int) -> int:
    return task


class Backend(abc.ABC):
    """Runs a function over a list of independent tasks on ``workers`` workers."""

    name: ClassVar[str]
    pickles: ClassVar[bool] = False
    """Whether tasks and results are pickled on their way to and from the workers."""
    blocked_while_starting: ClassVar[tuple[int, ...]] = (signal.SIGINT,)
    """Stopping signals blocked while the workers start, for them to inherit (``held_back``)."""
    starts_processes: ClassVar[bool] = False
    """Whether ``open`` starts processes, whose output goes through the ``relay``."""
    runs_apart: bool = False
    """Whether its ``submit`` starts a task apart from the caller (in a thread or a process),
    so that the caller can watch it and time it out; the default ``submit`` does not (a
    backend may decide it per instance: joblib with one worker runs tasks in the caller)."""

    def __init__(self, workers: int = 1) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise BackendError(f"workers must be a whole number of at least 1, not {workers!r}")
        if workers > MAX_WORKERS:
            raise BackendError(f"workers must be at most {MAX_WORKERS}, not {workers}")
        self.workers = workers

    @abc.abstractmethod
    def run(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        """Yield ``(index, fn(tasks[index]))`` for every task, as each one finishes.

        An exception raised by ``fn`` is raised here, with the worker's
        traceback chained as its cause where the library provides one.  A
        process backend raises ``WorkerLost`` if a worker dies; it never waits
        for a result that cannot come.
        """

    def submit(self, fn: Callable[[T], R], task: T) -> Future:
        """Start ``fn(task)`` on a worker; a future of its result.

        This is how the driver watches each execution of a task (time-outs,
        backup tasks); ``run`` is the plain way.  This default runs the task
        now, in this process.
        """
        future: Future = Future()
        try:
            settle(future, fn(task))
        except Exception as exc:
            settle(future, error=exc)
        return future

    def result(self, future: Future) -> Any:
        """The result of a finished ``submit``: its value, its task's exception, or
        ``WorkerLost`` where the library says its pool broke under it."""
        with broken_pool_is_worker_lost(self):
            return future.result()

    def cancel(self, future: Future) -> None:
        """Give up on a submitted execution: dropped if it has not started, else left to
        finish (a worker busy with it stays busy), its result unused."""
        future.cancel()

    def check(self) -> None:
        """Raise ``WorkerLost`` if a worker died holding a task whose future will never say so."""

    def ended(self) -> WorkerLost | None:
        """A ``WorkerLost`` naming a worker process that has ended, if one has."""
        return None

    def open(self) -> Backend:
        """Start the workers and wait until each can take a task; on failure, stop them.

        A worker lost while they start is lost like any other: they are
        started again, up to ``START_ATTEMPTS`` times in all.  A failure to
        start (the process limit reached, a bad setting) is a one-line
        ``BackendError``.  A stopping signal waits until the start is done
        (or undone).
        """
        lost: WorkerLost | None = None
        for _ in range(START_ATTEMPTS):
            try:
                return self._open_once()
            except WorkerLost as exc:
                lost = exc
        raise BackendError(
            f"{self.cannot_start}: a worker was lost each of the {START_ATTEMPTS} times they "
            f"started; last: {lost}"
        ) from lost

    def _open_once(self) -> Backend:
        """Start the workers once; on any failure, stop them.  What the processes started
        print is held meanwhile (``relay``): a failed start is its one-line error alone."""
        relayed = relay.starting(self.forks) if self.starts_processes else contextlib.nullcontext()
        if self.starts_processes:
            forget_missing_main()
        try:
            # The signals wait from before the relay swaps the driver's descriptors to after
            # it puts them back: a Ctrl-C between the two would leave them swapped.
            holding = held_back(*self.held_while_starting, blocked=self.blocked_while_starting)
            with holding, relayed:
                try:
                    with broken_pool_is_worker_lost(self):
                        self._start()
                    self._warm_up()
                except Exception:
                    self._undo_start()  # in the relay: what stopping prints is dropped too
                    raise
        except (WorkerLost, BackendError):
            raise
        except Exception as exc:
            raise BackendError(f"{self.cannot_start}: {one_line(exc)}") from exc
        except BaseException:
            self._undo_start()  # a stopping signal, held back until the start was done
            raise
        return self

    @property
    def forks(self) -> bool:
        """Whether ``open`` forks its workers (start method ``fork``)."""
        return False

    def _undo_start(self) -> None:
        """Stop what a failed start began, as well as can be: what failed the start (too few
        open files, say) may fail this too, and the start's error is the one to report."""
        with warnings.catch_warnings(), contextlib.suppress(Exception):
            warnings.simplefilter("ignore")
            self.close()

    @property
    def held_while_starting(self) -> tuple[int, ...]:
        """The signals held back while the workers start (the stopping ones and the
        deadline's timer): a pool half started cannot be stopped cleanly."""
        return CUTTING_SIGNALS

    @property
    def cannot_start(self) -> str:
        """The start of a one-line error about starting this backend."""
        return f"cannot start the {self.name} backend with {self.workers} worker(s)"

    def _warm_up(self) -> None:
        """Run an empty task per worker, so that the pool is ready before any work is timed."""
        for _ in self.run(_do_nothing, range(self.workers)):
            pass

    def close(self) -> None:
        """Stop the workers, at once even if tasks are running; none outlives this call.

        A stopping signal or the deadline's timer that arrives meanwhile waits
        until the workers are stopped: a close cut half way would leave a pool
        that hangs later.
        """
        with held_back(*CUTTING_SIGNALS):
            self._stop()
        if self.starts_processes:
            relay.flush()

    def _stop(self) -> None:
        """Stop the pool; subclasses that have one override this."""

    @property
    def shares_local_files(self) -> bool:
        """Whether the workers can read this machine's temporary files (the disk shuffle)."""
        return True

    def restart(self) -> None:
        """Replace every worker with a fresh one, after a ``WorkerLost``."""
        self.close()
        self.open()

    def _start(self) -> None:
        """Create the pool; subclasses that have one override this."""

    def __enter__(self) -> Backend:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} workers={self.workers}>"
