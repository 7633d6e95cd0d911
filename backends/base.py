"""The Backend interface: an executor of independent tasks.

A backend is shaped like ``concurrent.futures.Executor``: it is opened and
closed (a context manager, so that starting its workers is timed apart from the
work), and it runs one function over a batch of task descriptors, yielding
``(index, result)`` pairs in the order the tasks finish.  It knows nothing of
MapReduce: the engine decides what a task is.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import multiprocessing
import os
import re
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Future, InvalidStateError
from multiprocessing import resource_tracker
from multiprocessing.process import BaseProcess
from typing import Any, ClassVar, TypeVar

from backends import relay

T = TypeVar("T")
R = TypeVar("R")

START_METHODS = ("fork", "spawn", "forkserver")
"""Every start method ``multiprocessing`` knows; a platform has some of them
(``multiprocessing.get_all_start_methods()``: Windows has only ``spawn``)."""

MAX_WORKERS = 1024
"""More workers than this is a typing mistake, not a machine: each costs a process or a thread."""

POLL_SECONDS = 0.2
"""How long a process backend waits for a result before checking on its workers."""

START_ATTEMPTS = 3
"""Starts of a backend that lost a worker before ``open`` gives up (the default max attempts)."""

WARM_UP_SECONDS = 30
"""How long ``open`` waits for every worker process to take a task."""

STOPPING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Signals that stop a run: Ctrl-C, ``kill``, and the terminal closing."""

BLOCKS = hasattr(signal, "pthread_sigmask")
"""Whether this platform can block signals (POSIX)."""

PR_SET_PDEATHSIG = 1
"""Linux ``prctl`` option: the signal a process gets when the thread that started it ends."""


class BackendError(ValueError):
    """A backend was asked for something it cannot do (bad name, count or setting)."""


class PoolBroken(RuntimeError):
    """A thread of the library's own that the pool needs died (of a ``MemoryError``, say):
    no result can come back through it."""


class WorkerLost(RuntimeError):
    """A worker process died mid-run (killed, out of memory, crashed).

    The tasks it held are lost and the backend's pool is unusable: the caller
    restarts the backend and runs the unfinished tasks again.
    """


@contextlib.contextmanager
def broken_pool_is_worker_lost(backend: Backend) -> Iterator[None]:
    """Turn an executor broken by a dead worker (``BrokenProcessPool``, loky's
    ``TerminatedWorkerError``) into ``WorkerLost``, and so the errors of starting a worker
    that died as it started: with ``forkserver`` and ``spawn`` the driver writes each new
    process what it is to run, and that write breaks (``BrokenPipeError``) if the process
    died before it read it, or finds the executor's pipes closed under it (``OSError``) if
    the executor's thread has meanwhile found a worker dead and broken the executor."""
    try:
        yield
    except BrokenExecutor as exc:
        if out_of_memory(exc):  # the driver could not take a result in: no worker died
            raise
        raise WorkerLost(f"a {backend.name} worker died: {one_line(exc)}") from exc
    except OSError as exc:
        lost = backend.ended()
        if lost is None and not isinstance(exc, BrokenPipeError):
            raise
        raise lost or WorkerLost(f"a {backend.name} worker died as it started") from exc


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` comes of a ``MemoryError``, raised here or carried as a traceback's
    text (a pool's ``_RemoteTraceback``)."""
    return any(
        isinstance(link, MemoryError) or re.search(MEMORY_ERROR, str(link), re.MULTILINE)
        for link in causes(exc, implicit=True)
    )


TRACEBACK = "Traceback (most recent call last):"

MEMORY_ERROR = r"^(\w+\.)*MemoryError(: .*)?$"
"""A traceback's line that says it ended in a ``MemoryError``."""

LONGEST_MESSAGE = 400
"""Characters of an exception's message kept in a one-line error."""


def one_line(exc: BaseException) -> str:
    """``ExceptionType: message`` with the message folded onto one line.

    A message that carries a traceback of its own (dask's do) keeps only its
    first part and the traceback's last line, the error it ends in.
    """
    message = str(exc)
    if TRACEBACK in message:
        head, _, trace = message.partition(TRACEBACK)
        message = f"{head.strip()} ({trace.strip().splitlines()[-1].strip()})"
    message = " ".join(message.split())
    if len(message) > LONGEST_MESSAGE:  # a repr of a whole result, say: keep both ends
        message = f"{message[: LONGEST_MESSAGE // 3]} ... {message[-LONGEST_MESSAGE // 2 :]}"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def causes(exc: BaseException, implicit: bool = False) -> list[BaseException]:
    """``exc``, then what it was raised from (``raise ... from``), and so on; with
    ``implicit``, also what was being handled when each was raised (``__context__``)."""
    chain = [exc]
    while True:
        last = chain[-1]
        cause = last.__cause__ or (last.__context__ if implicit else None)
        if cause is None or any(cause is seen for seen in chain):
            return chain
        chain.append(cause)


@contextlib.contextmanager
def held_back(*signums: int, blocked: Collection[int] = (signal.SIGINT,)) -> Iterator[None]:
    """Hold ``signums`` back until the block ends, then deliver the first that came.

    For code that must not be cut half way: starting workers (a half-started
    pool or dask cluster cannot be cleaned up) and stopping them (a
    half-closed pool hangs later).  The handlers are replaced (in the main
    thread) to note the signals instead.  Those of them in ``blocked`` are
    also blocked in this thread, so that threads and processes started
    meanwhile inherit the block (a blocked signal stays blocked across
    ``exec``) until their own code is ready for it: a worker that Python
    starts afresh (spawn, forkserver, loky) would otherwise print a
    ``KeyboardInterrupt`` traceback when a Ctrl-C, which reaches every
    process in the terminal's group, comes before its initializer ignores it,
    and a forked worker stopped (SIGTERM) before its initializer reset the
    handler it inherited would raise this process's ``Interrupted``.
    ``prepare_worker`` unblocks them.
    """
    received: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, lambda n, _: received.append(n)) for s in signums if main}
    block = set(blocked) & set(signums)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, block) if BLOCKS and block else None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            signal.raise_signal(received[0])


def forget_missing_main() -> None:
    """Drop the path of a main module that is no file (``python -`` names it ``<stdin>``):
    a worker that Python starts afresh would run it, and die.  A REPL, ``python -c`` and a
    notebook name none; their jobs reach the workers by value (``mapreduce.job``)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if isinstance(path, str) and not os.path.isfile(path):
        del main.__file__


def start_resource_tracker() -> None:
    """Start Python's resource tracker now, unless it runs already.

    Whoever starts it has SIGINT unblocked in the starting thread (Python 3.11
    to 3.13), which would undo ``open``'s hold on Ctrl-C for the workers that
    thread starts next; started before that hold, it leaves it alone.
    """
    resource_tracker.ensure_running()


def restore_environment(saved: dict[str, str]) -> None:
    """Put ``os.environ`` back as ``saved``, undoing what a library wrote into it."""
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def environment_kept() -> Iterator[None]:
    """Undo whatever the block writes to ``os.environ``.

    dask's schedulers set ``PYTHONHASHSEED`` (and more) in the calling process
    for their own workers; pools started afterwards would inherit it.
    """
    saved = dict(os.environ)
    try:
        yield
    finally:
        restore_environment(saved)


WATCHED: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
"""Library threads an open pool needs: if one dies, its backend says so in one line."""

DEATHS: weakref.WeakKeyDictionary[threading.Thread, BaseException] = weakref.WeakKeyDictionary()
"""The exception that ended each watched thread that died."""

POOLS: weakref.WeakSet[ProcessBackend] = weakref.WeakSet()
"""Every process backend made, to ask, as a thread dies, whether its pool needed it: a
library may start a thread (a queue's feeder) and lose it before ``check`` first sees it."""


def watched(thread: threading.Thread) -> bool:
    """Whether ``thread`` is one an open pool needs."""
    return thread in WATCHED or any(thread in pool.threads() for pool in list(POOLS))


def record_death(args: threading.ExceptHookArgs, previous=threading.excepthook) -> None:
    """Keep the exception that ended a watched thread for its backend to report (not a
    traceback on standard error); pass every other thread's on."""
    if args.exc_value is not None and args.thread is not None and watched(args.thread):
        DEATHS[args.thread] = args.exc_value
    else:
        previous(args)


threading.excepthook = record_death


def describe_exit(exitcode: int | None) -> str:
    """How a process ended, in words: ``killed by SIGKILL`` or ``exited with status 1``."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


def prepare_worker(run: int | None = None) -> None:
    """Worker initializer: leave signals to the parent, die with it (or with process ``run``,
    the run that started it), and print by the line.

    Ctrl-C reaches every process in the terminal's group; the workers ignore it
    and the parent stops the pool.  A forked worker would also inherit the
    parent's SIGTERM and SIGHUP handlers, so they are reset to the default.
    On Linux the worker is killed when its parent dies, even by SIGKILL, so
    no worker outlives the run that started it (elsewhere, a dead parent's
    workers end when they next talk to it).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in STOPPING_SIGNALS:
        if signum != signal.SIGINT:
            signal.signal(signum, signal.SIG_DFL)
    if BLOCKS:  # blocked by the parent while it started this worker (``held_back``)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING_SIGNALS)
    if sys.platform.startswith("linux"):
        # imported here, in worker processes only: the interpreters backend's
        # subinterpreters import this module too, and CPython 3.14.10 can crash
        # (a segmentation fault) importing ctypes in two of them at once
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if run is not None and run != os.getppid():
        die_with(run)
    # What a job prints goes out line by line: a worker stopped at close (SIGTERM) would
    # lose a block-buffered tail, as standard output is a pipe, not a terminal.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)


def die_with(run: int) -> None:
    """End this worker when process ``run`` ends, though it is not this worker's parent.

    A forkserver's workers are the forkserver's children, so the parent-death
    signal waits for the forkserver, which waits for its workers: they hold
    its "still alive" pipe open (CPython passes it to each, to start more).
    A killed run would leave them all running.  A thread waits on a Linux
    process descriptor for ``run`` instead (elsewhere, the workers end when
    they next talk to the dead run).
    """
    try:
        handle = os.pidfd_open(run)
    except (AttributeError, OSError):
        return

    def wait() -> None:
        select.select([handle], [], [])
        os._exit(1)

    threading.Thread(target=wait, name="run-watch", daemon=True).start()


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


def _worker_pid(task: int) -> int:
    return os.getpid()


class Backend(abc.ABC):
    """Runs a function over a list of independent tasks on ``workers`` workers."""

    name: ClassVar[str]
    pickles: ClassVar[bool] = False
    """Whether tasks and results are pickled on their way to and from the workers."""
    blocked_while_starting: ClassVar[tuple[int, ...]] = (signal.SIGINT,)
    """Stopping signals blocked while the workers start, for them to inherit (``held_back``)."""
    starts_processes: ClassVar[bool] = False
    """Whether ``open`` starts processes, whose output goes through the ``relay``."""

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

    def cancel(self, future: Future) -> None:
        """Give up on a submitted execution: dropped if it has not started, else left to
        finish (a worker busy with it stays busy), its result unused."""
        future.cancel()

    def check(self) -> None:
        """Raise ``WorkerLost`` if a worker died holding a task whose future will never say so."""

    def ended(self) -> WorkerLost | None:
        """A ``WorkerLost`` naming a worker process that has ended, if one has."""
        return None

    @property
    def runs_apart(self) -> bool:
        """Whether ``submit`` starts a task apart from the caller (in a thread or a process),
        so that the caller can watch it and time it out: not with the default ``submit``."""
        return type(self).submit is not Backend.submit

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
        """The stopping signals held back while the workers start: a pool half started
        cannot be stopped cleanly."""
        return STOPPING_SIGNALS

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

        A stopping signal that arrives meanwhile waits until the workers are
        stopped: a close cut half way would leave a pool that hangs later.
        """
        with held_back(*STOPPING_SIGNALS):
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


def default_start_method() -> str:
    """The platform's default start method, but ``forkserver`` for ``fork`` from Python 3.12.

    3.12 deprecated forking a process that has threads (a library's, a
    thread pool's): a lock a thread held stays held forever in the child.
    3.14 made ``forkserver`` Linux's default; this does the same on 3.12
    and 3.13.  ``--start-method fork`` still asks for ``fork``.
    """
    method = multiprocessing.get_start_method()
    forkserver = "forkserver" in multiprocessing.get_all_start_methods()
    if method == "fork" and sys.version_info >= (3, 12) and forkserver:
        return "forkserver"
    return method


class ProcessBackend(Backend):
    """A backend whose workers are processes, started by a chosen start method."""

    pickles = True
    starts_processes = True
    blocked_while_starting = STOPPING_SIGNALS  # each worker's ``prepare_worker`` unblocks them
    worker_pids: frozenset[int] | set[int] = frozenset()
    """The process ids of the workers, once open (as they answered the warm-up)."""
    start_methods: ClassVar[tuple[str, ...]] = START_METHODS
    """Start methods the library takes; ``available_start_methods``: those this platform has."""
    exits_when_idle: ClassVar[bool] = False
    """Whether a worker may end by itself, with status 0, while the pool is open."""

    def __init__(self, workers: int = 1, start_method: str | None = None) -> None:
        super().__init__(workers)
        available = self.available_start_methods()
        if start_method is not None and start_method not in available:
            raise BackendError(
                f"backend {self.name!r} cannot use start method {start_method!r} here; "
                f"choose from: {', '.join(available)}"
            )
        self.start_method = start_method or self.default_start_method()
        POOLS.add(self)

    @property
    def forks(self) -> bool:
        return self.start_method == "fork"

    def open(self) -> Backend:
        if self.start_method != "fork":
            start_resource_tracker()
        return super().open()

    def processes(self) -> list[BaseProcess]:
        """The worker processes of the open pool."""
        return []

    def threads(self) -> list[threading.Thread]:
        """The library's own threads that the open pool needs (to send tasks, to take
        results)."""
        return []

    def check(self) -> None:
        """Raise ``WorkerLost`` if a worker process has ended: a library that notices it
        itself may not (``Pool`` never does; an executor whose manager thread is stuck
        reading half a message the worker sent as it died does not).  Raise ``PoolBroken``
        if a thread of the library's that the pool needs has died."""
        lost = self.ended()
        if lost is not None:
            raise lost
        for thread in self.threads():
            WATCHED.add(thread)
            if not thread.is_alive():
                cause = DEATHS.get(thread)
                died = f"the {self.name} backend's thread {thread.name!r} died"
                raise PoolBroken(f"{died}: {one_line(cause)}" if cause else died) from cause

    def ended(self) -> WorkerLost | None:
        for process in self.processes():
            code = process.exitcode
            if code is not None and not (self.exits_when_idle and code == 0):
                return WorkerLost(f"{self.name} worker {process.pid} {describe_exit(code)}")
        return None

    def _warm_up(self) -> None:
        """Run empty tasks until every worker process has answered one.

        One worker may take every task while another is still starting; a
        worker stopped while it starts may print a traceback of its own (loky's
        do), and the start-up would not be all counted in its time.
        """
        answered: set[int] = set()
        deadline = time.monotonic() + WARM_UP_SECONDS
        while len(answered) < self.workers and time.monotonic() < deadline:
            answered.update(pid for _, pid in self.run(_worker_pid, range(self.workers)))
        self.check()  # a worker lost while the pool started, though others answered for it
        self.worker_pids = answered

    @classmethod
    def available_start_methods(cls) -> list[str]:
        """The start methods of this backend that this platform has."""
        platform = multiprocessing.get_all_start_methods()
        return [method for method in cls.start_methods if method in platform]

    def default_start_method(self) -> str:
        """The start method used when none is asked for: ``default_start_method()``."""
        return default_start_method()

    @property
    def context(self) -> Any:
        """The ``multiprocessing`` context for this backend's start method."""
        return multiprocessing.get_context(self.start_method)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} workers={self.workers} start_method={self.start_method}>"


RUN_FOLDER = re.compile(r"^mapreduce-[a-z]+-(\d+)-")
"""A run's temporary folder (shuffle, dask, multiprocessing), named for the run's pid."""


def run_folder(prefix: str) -> str:
    """A new temporary folder ``<prefix><pid>-<random>`` (prefix ``mapreduce-<kind>-``), after
    removing every run folder whose process no longer exists (killed before it could clean
    up)."""
    remove_dead(tempfile.gettempdir(), RUN_FOLDER)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")


def remove_dead(parent: str, pattern: re.Pattern[str]) -> None:
    """Remove the folders in ``parent`` whose names match ``pattern`` (its first group the
    pid of the run that made them) and whose runs no longer exist."""
    for name in os.listdir(parent):
        found = pattern.match(name)
        if found and not process_exists(int(found.group(1))):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def worker_initializer() -> Callable[[], None]:
    """``prepare_worker`` for the workers of a pool started by this process."""
    return functools.partial(prepare_worker, os.getpid())


def process_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists (perhaps another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and is another user's
        pass
    return True
