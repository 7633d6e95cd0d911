"""dask.distributed: a scheduler and worker processes, on this machine or a cluster.

With no scheduler address it starts a ``LocalCluster`` of ``workers``
single-threaded worker processes listening on 127.0.0.1 only, and stops it
at the end.  Given an address (``--scheduler tcp://HOST:8786``, or dask's own
``DASK_SCHEDULER_ADDRESS``) it connects to a running cluster, uses every
worker thread it has, and leaves it running.

dask looks after lost workers itself: the scheduler runs the tasks a dead
worker held again on the others, up to ``distributed.scheduler.allowed-failures``
deaths per task, so this backend raises ``WorkerLost`` only when a worker dies
while the local cluster starts: the cluster is then started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait

import dask.config
import distributed.utils
import psutil
from distributed import Client, LocalCluster, SpecCluster, as_completed
from distributed import Future as DaskFuture

from backends.base import Backend, R, T, settle
from backends.environment import (
    quiet_resource_tracker,
    restore_environment,
    start_resource_tracker,
)
from backends.errors import BackendError, WorkerLost, causes
from backends.folders import run_folder
from backends.signals import CUTTING_SIGNALS, receiving, stop_requested

CONNECT_SECONDS = 10
"""How long to try to reach a scheduler before giving up."""

DASK_LOG = logging.getLogger("distributed")

LARGE_GRAPH = "distributed.admin.large-graph-warning-threshold"
"""dask's setting: a task graph larger than this is warned about."""

LOCAL_ANY = "127.0.0.1:0"
"""Any free port, on this machine only."""

KILL_SECONDS = 0.2
"""How long a local worker may take to stop before it is killed."""

START_POLL_SECONDS = 0.05
"""How often a local cluster's start is checked for a stopping signal that abandons it."""

ABANDON_SECONDS = 1.0
"""How long an abandoned start may go on starting processes, each killed, before the run
stops regardless: a start gives up soon after its first worker is killed."""


def idle_offload_thread() -> None:
    """Stop the thread distributed keeps for the life of the process ("Dask-Offload").

    A process with a thread should not fork (Python 3.12 warns: a lock the
    thread held stays held in the child), and a pool started after dask
    would.  distributed's executor is replaced by a fresh one, whose thread
    starts only when dask next needs it (``distributed.utils._offload_executor``
    is distributed's own).
    """
    old = distributed.utils._offload_executor
    distributed.utils._offload_executor = ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="Dask-Offload"
    )
    old.shutdown(wait=True)


WORKER_DIED = (
    "Nanny failed to start worker process",
    "Status.starting",
)
"""What dask says when a worker process dies while its nanny starts it: the nanny's own
error, or, when the worker dies as it is handed its start, the failed check of dask's
``WorkerProcess.kill`` on the nanny's state."""


def made_no_process(exc: BaseException) -> bool:
    """Whether ``exc`` is the system refusing a process (too many, no memory): a failed
    start, not a lost worker.  A pipe broken by a new process that died as it started is
    a lost worker, as is a closed connection (an ``OSError`` with no errno, in dask)."""
    return (
        isinstance(exc, OSError) and exc.errno is not None and not isinstance(exc, ConnectionError)
    )


@contextlib.contextmanager
def worker_death_is_worker_lost() -> Iterator[None]:
    """Turn a local cluster that failed to start because a worker died into ``WorkerLost``,
    so that the cluster is started again, as it would be for a worker lost later."""
    try:
        yield
    except Exception as exc:
        chain = causes(exc, implicit=True)
        died = any(str(link) in WORKER_DIED for link in chain)
        unmade = any(made_no_process(link) for link in chain)
        if died and not unmade:
            raise WorkerLost(f"a dask worker died while the local cluster started: {exc}") from exc
        raise


def abandon(starter: threading.Thread, children: set[int], clusters: set[SpecCluster]) -> None:
    """Give up a local cluster half started by ``starter``: kill the processes it started
    (this process's children not in ``children``, and theirs), and those it starts after,
    until it gives up or ``ABANDON_SECONDS`` pass (one started after the kill would find
    its semaphores gone as this process ends, and print a traceback); then forget the
    cluster (dask would close it at exit, and wait on them)."""
    deadline = time.monotonic() + ABANDON_SECONDS
    while True:
        kill_new(children)
        if not starter.is_alive() or time.monotonic() > deadline:
            break
        starter.join(START_POLL_SECONDS)
    kill_new(children)
    for cluster in set(SpecCluster._instances) - clusters:
        SpecCluster._instances.discard(cluster)


def kill_new(children: set[int]) -> None:
    """Kill this process's children not in ``children``, and their descendants."""
    for child in psutil.Process().children():
        if child.pid not in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                for process in [child, *child.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        process.kill()


def answers(address: str, seconds: float = CONNECT_SECONDS) -> None:
    """Fail in one line unless the scheduler at a ``tcp://`` address greets a connection
    within ``seconds``: a dask server sends its handshake first, and dask's client waits
    for it without a time-out (a port that accepts and never answers would hang it)."""
    scheme, _, where = address.partition("://")
    if scheme != "tcp":
        return  # TLS and other transports greet otherwise: left to dask
    host, _, port = where.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=seconds) as probe:
            if not probe.recv(1):
                raise BackendError(f"the dask scheduler at {address} closed the connection")
    except TimeoutError:
        raise BackendError(
            f"the dask scheduler at {address} did not answer within {seconds:g} s: "
            "is it a dask scheduler?"
        ) from None
    except (OSError, ValueError) as exc:
        raise BackendError(f"cannot reach the dask scheduler at {address}: {exc}") from None


class DaskBackend(Backend):
    """Runs tasks as dask futures on a local or remote dask.distributed cluster."""

    name = "dask"
    runs_apart = True
    pickles = True
    starts_processes = True  # a local cluster's nannies and workers
    _client: Client | None = None
    _cluster: LocalCluster | None = None
    _scratch: str | None = None
    """The local cluster's working folder, removed with it."""
    _log_level: int | None = None
    """dask's logger's level before the backend quietened it, restored on close."""
    _quiet: dask.config.set | None = None
    """dask's warning about large task graphs held back, as its logs are; undone on close."""
    _environment: dict[str, str]
    """``os.environ`` before the local cluster started, restored after: a dask
    nanny writes its worker's settings (``PYTHONHASHSEED=6640``,
    ``OMP_NUM_THREADS=1``, ...) into the environment of the process it runs in,
    here this one, and every pool started later would inherit them."""

    def __init__(self, workers: int = 1, scheduler: str | None = None, dashboard: bool = False):
        super().__init__(workers)
        self._handles: dict[Future, DaskFuture] = {}
        """Each submitted execution's dask future, to cancel it by."""
        self.scheduler = scheduler or dask.config.get("scheduler-address", None)
        self.dashboard = dashboard

    @property
    def shares_local_files(self) -> bool:
        """Whether the workers run on this machine (a local cluster), so can read its files."""
        return self.scheduler is None

    @property
    def held_while_starting(self) -> tuple[int, ...]:
        """All while a local cluster starts (one that receives one is abandoned); none while
        connecting to a running cluster: a Ctrl-C may cut that short."""
        return CUTTING_SIGNALS if self.scheduler is None else ()

    def open(self) -> Backend:
        if self.scheduler is None:  # the local cluster's nannies start processes
            with quiet_resource_tracker():  # a start abandoned kills them holding semaphores
                start_resource_tracker()
        return super().open()

    def _start(self) -> None:
        # dask logs what it also raises (a task that failed, a result that did not
        # serialize) in blocks of its own; they are shown only to those who ask for logs
        self._log_level = DASK_LOG.level
        if not logging.getLogger().isEnabledFor(logging.INFO):
            DASK_LOG.setLevel(logging.CRITICAL + 1)
            # a memory shuffle's reduce tasks carry their pairs: a "large graph", by design
            self._quiet = dask.config.set({LARGE_GRAPH: "1 PiB"})
        if self.scheduler is None:
            self._start_local_cluster()
        else:
            self._connect(self.scheduler)

    def _start_local_cluster(self) -> None:
        # dask cannot stop a half-started cluster, so it starts in a thread of its own while
        # this one waits; a stopping signal (held back by ``open``) abandons it instead.
        self._scratch = run_folder("mapreduce-dask-")
        self._environment = dict(os.environ)
        children = {child.pid for child in psutil.Process().children()}
        clusters = set(SpecCluster._instances)
        started: Future = Future()
        starter = threading.Thread(
            target=self._make_cluster, args=(started,), name="mapreduce-dask-start", daemon=True
        )
        starter.start()  # it, and the processes it starts, inherit the block on Ctrl-C
        try:  # the environment is put back even when the cluster fails to start
            with receiving(signal.SIGINT):
                while not wait([started], START_POLL_SECONDS).done:
                    if stop_requested():
                        abandon(starter, children, clusters)
                        raise RuntimeError("the local cluster's start was abandoned")
            started.result()
        finally:
            restore_environment(self._environment)

    def _make_cluster(self, started: Future) -> None:
        """Start the local cluster and a client of it; ``started`` says how it went."""
        try:
            settings = dask.config.set({"temporary-directory": self._scratch})
            with settings, worker_death_is_worker_lost():
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:8787" if self.dashboard else None,
                    # with no dashboard the scheduler still serves its metrics: any free port
                    scheduler_kwargs=None if self.dashboard else {"dashboard_address": LOCAL_ANY},
                    silence_logs=DASK_LOG.getEffectiveLevel(),
                )
                self._client = Client(self._cluster)
        except BaseException as exc:
            settle(started, error=exc)
        else:
            settle(started)

    def _connect(self, address: str) -> None:
        answers(address)
        try:
            self._client = Client(address, timeout=CONNECT_SECONDS)
        except OSError as exc:
            raise BackendError(f"cannot reach the dask scheduler at {address}: {exc}") from None
        threads = sum(w["nthreads"] for w in self._client.scheduler_info()["workers"].values())
        if threads == 0:
            raise BackendError(f"the dask scheduler at {address} has no workers")
        self.workers = threads

    def run(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        if self._client is None:
            raise RuntimeError(f"{self!r} is not open")
        # pure=False: two equal task descriptors are still two tasks to run.
        futures = [self._client.submit(fn, task, pure=False) for task in tasks]
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                yield index[future.key], future.result()
        finally:
            self._client.cancel(futures)

    def submit(self, fn: Callable[[T], R], task: T) -> Future:
        """``client.submit``, its outcome handed to a ``concurrent.futures.Future``."""
        if self._client is None:
            raise RuntimeError(f"{self!r} is not open")
        handle = self._client.submit(fn, task, pure=False)
        future: Future = Future()
        self._handles[future] = handle
        handle.add_done_callback(lambda handle: self._deliver(future, handle))
        return future

    def _deliver(self, future: Future, handle: DaskFuture) -> None:
        """Pass a finished dask future's outcome on (dask calls this in a thread of its own)."""
        self._handles.pop(future, None)
        if handle.status == "cancelled":
            future.cancel()
            return
        try:
            settle(future, handle.result())
        except Exception as exc:
            settle(future, error=exc)

    def cancel(self, future: Future) -> None:
        """Cancel the dask future too: the scheduler frees its worker for other tasks."""
        future.cancel()
        handle = self._handles.pop(future, None)
        if handle is not None and self._client is not None:
            self._client.cancel([handle])

    def _stop(self) -> None:
        self._handles.clear()
        if self._log_level is not None:
            DASK_LOG.setLevel(self._log_level)
            self._log_level = None
        if self._quiet is not None:
            self._quiet.__exit__(None, None, None)
            self._quiet = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            # A nanny gives a busy worker 4 s to finish before killing it; a run
            # that is closing (perhaps interrupted) has no use for the task.  Closing
            # the nanny, not only killing its worker, keeps it from starting a new
            # worker, which the cluster's close would wait for (a second) to kill.
            nannies = list(self._cluster.workers.values())
            self._cluster.sync(
                lambda: asyncio.gather(*(n.close(timeout=KILL_SECONDS) for n in nannies))
            )
            self._cluster.close()
            self._cluster = None
            restore_environment(self._environment)  # a nanny that restarted its worker wrote it
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        idle_offload_thread()

    def __repr__(self) -> str:
        where = self.scheduler or "a local cluster"
        return f"<{type(self).__name__} workers={self.workers} on {where}>"
