"""What every backend with worker processes shares: start methods, the pool's lifecycle,
and the watch on the library threads the pool needs."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import weakref
from multiprocessing.process import BaseProcess
from typing import Any, ClassVar

from backends.base import WARM_UP_SECONDS, Backend
from backends.environment import start_resource_tracker
from backends.errors import BackendError, PoolBroken, WorkerLost, one_line
from backends.signals import STOPPING_SIGNALS
from backends.workers import describe_exit


def own_pid(task: int) -> int:
    """The pid of the worker that runs it: which workers answer (``ProcessBackend``)."""
    return os.getpid()


START_METHODS = ("fork", "spawn", "forkserver")
"""Every start method ``multiprocessing`` knows; a platform has some of them
(``multiprocessing.get_all_start_methods()``: Windows has only ``spawn``)."""


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
            answered.update(pid for _, pid in self.run(own_pid, range(self.workers)))
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
