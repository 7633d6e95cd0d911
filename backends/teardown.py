"""Stopping a process pool at once, waiting on nothing a dead worker may have broken.

A worker killed while it sends a result (the out-of-memory killer picks the
workers that hold the most) leaves half a message in the pipe that every
worker shares, and may die holding that pipe's lock.  Whatever reads the
pipe afterwards waits for bytes that will never come: ``multiprocessing.Pool``'s
result thread, ``concurrent.futures``' and loky's executor manager thread,
and anything that joins them (``Pool.terminate``, ``shutdown(wait=True)``,
Python's own exit).  So a pool is stopped in an order that cannot wait:

1. no more replacement workers;
2. every worker killed (SIGTERM, then SIGKILL);
3. the locks a dead worker may hold freed, and this process's ends of the
   pipes that only workers used closed, so that a thread blocked on them gets
   EOF or ``EPIPE`` instead of silence;
4. the library's threads joined for a moment each, and those still blocked
   left behind (they are daemon threads), unknown to the joins that Python
   runs at exit.

The libraries offer no public way to do this: the attributes used here are
their own, named where they are used.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, InvalidStateError
from multiprocessing.pool import TERMINATE, Pool
from multiprocessing.process import BaseProcess
from typing import Any

STOP_GRACE_SECONDS = 0.5
"""How long a worker asked to stop (SIGTERM) has before it is killed (SIGKILL)."""

JOIN_SECONDS = 0.2
"""How long a library's thread has to end once the workers are dead, before it is left."""


def quiet_cut_buffers(unraisable: Any, previous: Callable[[Any], None]) -> None:
    """Hide one kind of noise, pass every other unraisable exception on: a ``BytesIO``
    freed while a message read that a teardown cut short still held its buffer (Python
    3.14 reports it as ``BufferError`` "while finalizing file <_io.BytesIO ...>", naming
    the file in its message, not as the unraisable's object)."""
    cut = isinstance(unraisable.exc_value, BufferError)
    named = unraisable.err_msg or ""
    buffer = isinstance(unraisable.object, io.BytesIO) or "<_io.BytesIO object" in named
    if not (cut and buffer):
        previous(unraisable)


sys.unraisablehook = functools.partial(quiet_cut_buffers, previous=sys.unraisablehook)


def stop_processes(processes: Iterable[BaseProcess], grace: float = STOP_GRACE_SECONDS) -> None:
    """Ask each process to stop (SIGTERM), then kill (SIGKILL) those still there after ``grace``.

    A frozen worker (SIGSTOP) or one that ignores SIGTERM cannot hold up a
    close: SIGKILL ends a stopped process too.  A process whose start failed
    (it died before it read what it was to run) has no pid, and nothing to stop.
    """
    alive = [p for p in processes if p.pid is not None and p.exitcode is None]
    for process in alive:
        send(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in alive:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in alive:
        send(process, signal.SIGKILL)
    for process in alive:
        process.join(grace)


def empty_pipe_end() -> int:
    """The reading end of a pipe whose writing end is closed: it reads as EOF, forever."""
    reading, writing = os.pipe()
    os.close(writing)
    return reading


STAND_IN = empty_pipe_end()
"""Made when the module loads, while descriptors are to be had: ``cut`` needs none of its
own, so it works when a run has used up its open files too."""


def cut(connection: Any) -> None:
    """Close this process's end of a pipe that a library's thread may still use or close.

    Closing the connection itself races with that thread's own close (which
    then fails, ``EBADF``, or closes a file that took the number meanwhile).
    Instead its descriptor is replaced (``dup2``) by a copy of ``STAND_IN``:
    the pipe it stood for loses this end (a reader blocked on it gets EOF),
    and whoever closes the connection later closes the copy.
    """
    if connection.closed:
        return
    os.dup2(STAND_IN, connection.fileno())


def send(process: BaseProcess, signum: int) -> None:
    """Send ``signum`` to a process not yet known to have ended (loky's processes have no
    ``kill``)."""
    if process.exitcode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signum)


def ended(thread: threading.Thread | None, seconds: float = JOIN_SECONDS) -> bool:
    """Join ``thread`` for at most ``seconds``; whether it has ended (or never existed)."""
    if thread is not None:
        thread.join(seconds)
    return thread is None or not thread.is_alive()


def blocked_reading(thread: threading.Thread) -> bool:
    """Whether ``thread`` is, now, inside a ``multiprocessing`` connection's read of a
    message: waiting for bytes that, if a dead worker sent half of them, never come."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "_recv_bytes" and code.co_filename.endswith("connection.py"):
            return True
        frame = frame.f_back
    return False


def free(lock: Any) -> None:
    """Leave a ``multiprocessing`` lock unheld; whoever held it is dead."""
    if lock is not None:
        lock.acquire(False)
        lock.release()


def stop_pool(pool: Pool, workers: Iterable[BaseProcess]) -> None:
    """Stop a ``multiprocessing.Pool`` and its threads without ``Pool.terminate``.

    ``terminate`` joins the result thread, which may be blocked reading half
    a message forever, and first drains the task pipe (``_help_stuff_finish``),
    which may hold half a message too.
    """
    pool._state = TERMINATE
    pool._task_handler._state = TERMINATE
    pool._result_handler._state = TERMINATE
    pool._worker_handler._state = TERMINATE  # no more replacement workers
    pool._change_notifier.put(None)
    ended(pool._worker_handler, STOP_GRACE_SECONDS)
    pool._taskqueue.put(None)  # the task thread's last task (the worker thread sends one too)
    stop_processes({*workers, *pool._pool})
    free(pool._inqueue._rlock)  # only workers take it, and every worker is dead
    # A task thread blocked sending tasks to dead workers gets EPIPE once this
    # process's reading end of the task pipe is closed.
    cut(pool._inqueue._reader)
    if not ended(pool._task_handler):
        # Still there: waiting for the result pipe's lock, which a dead worker
        # held, to send the result thread its last message.
        free(pool._outqueue._wlock)
    if ended(pool._task_handler):
        # It has sent its last message, so nothing here writes to the result
        # pipe any more: closing this process's writing end gives a result
        # thread stuck in half a message EOF.
        cut(pool._outqueue._writer)
        cut(pool._inqueue._writer)
    if ended(pool._result_handler):
        cut(pool._outqueue._reader)
    pool._terminate.cancel()  # at exit, Pool's finalizer would join the threads left behind


def stop_executor(
    executor: Any,
    shutdown: Callable[[], None],
    wakeups: weakref.WeakKeyDictionary,
    lost: Callable[[], BaseException],
) -> None:
    """Stop a process pool executor, CPython's or loky's (which share its design), at once.

    ``shutdown`` asks it to stop without waiting; ``wakeups`` is its module's
    table of manager threads, which Python joins at exit; ``lost`` makes the
    exception that the futures still pending get if the manager thread is left
    behind (so that whoever waits for them, joblib's ``Parallel``, stops).
    """
    processes = list((executor._processes or {}).values())
    results = executor._result_queue
    manager = executor._executor_manager_thread
    shutdown()
    stop_processes(processes)
    if ended(manager):
        return
    # Blocked reading half a message that a dead worker sent: once this
    # process's writing end of the result pipe is closed too, it reads EOF,
    # and the executor breaks its own way.  Only then: a manager thread that
    # is merely slow closes that end itself as it finishes.
    if results is not None and blocked_reading(manager):
        cut(results._writer)
    if ended(manager, STOP_GRACE_SECONDS):
        return
    wakeups.pop(manager, None)
    pending = list(getattr(executor, "_pending_work_items", {}).values())
    for item in pending:
        with contextlib.suppress(InvalidStateError):  # done or cancelled meanwhile
            item.future.set_exception(lost())


def executor_processes(executor: Executor | None) -> list[BaseProcess]:
    """The worker processes of a process pool executor (CPython's or loky's), if open."""
    return list((getattr(executor, "_processes", None) or {}).values())
