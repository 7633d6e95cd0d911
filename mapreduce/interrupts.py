"""Stopping signals as an exception that unwinds a run: the pool closed, partial files removed.

Ctrl-C (SIGINT), and in the CLI SIGTERM and SIGHUP too, raise ``Interrupted``
in the main thread.  It is a ``KeyboardInterrupt``, so code that stops on
Ctrl-C stops on it, but a distinct one: a ``KeyboardInterrupt`` that a job's
own code raises is a failure of its task, not a request to stop the run.

A signal that arrives while the main thread runs the standard library's locking
code (``concurrent.futures.wait`` takes every future's lock) is put off until
the driver is back in its own code: raised there, it leaves no lock held.
"""

from __future__ import annotations

import _thread
import contextlib
import functools
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # kept out of the import a Ctrl-C may cut at start-up (``mapreduce.__main__``)
    from collections.abc import Callable, Iterable, Iterator
    from types import FrameType
    from typing import Any

    Handler = Callable[[int, FrameType | None], Any]


class Interrupted(KeyboardInterrupt):
    """Signal ``signum`` arrived and stops the run."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def status(self) -> int:
        """The exit status a shell reports for a process killed by the signal."""
        return 128 + self.signum


RETRY_SECONDS = 0.01
"""How soon a signal that arrived where it could not be raised is sent again."""

DEFER_SECONDS = 1.0
"""How long a signal waits for the main thread to leave the standard library's locking code;
after that it is raised wherever it lands."""

STDLIB = os.path.dirname(threading.__file__)
LOCKING_CODE = tuple(
    os.path.join(STDLIB, name)
    for name in ("threading.py", "queue.py", "concurrent" + os.sep, "multiprocessing" + os.sep)
)
"""The standard library's code that takes the locks a run's teardown takes again (a future's,
an executor's, a queue's).  An exception raised between its taking a lock and the block that
releases it leaves the lock held, and the teardown waits on it forever."""

deferred_since: dict[int, float] = {}
"""The signals put off, each with when it first arrived."""


def in_locking_code(frame: FrameType | None) -> bool:
    """Whether ``frame`` or a frame that called it runs the standard library's locking code."""
    while frame is not None:
        if frame.f_code.co_filename.startswith(LOCKING_CODE):
            return True
        frame = frame.f_back
    return False


def deferred(signum: int, frame: FrameType | None) -> bool:
    """Put off a signal that arrived in the standard library's locking code (``frame``) until
    the driver calls ``deliver_deferred`` between two waits, or the signal, delivered again
    every moment, lands outside that code, or ``DEFER_SECONDS`` have passed.  False when the
    handler should act now."""
    now = time.monotonic()
    if in_locking_code(frame) and now - deferred_since.setdefault(signum, now) < DEFER_SECONDS:
        threading.Timer(RETRY_SECONDS, redeliver, (signum,)).start()
        return True
    deferred_since.pop(signum, None)
    return False


def redeliver(signum: int) -> None:
    """Deliver a signal still put off again, to this process's handler only."""
    if signum in deferred_since:
        _thread.interrupt_main(signum)


def deliver_deferred() -> None:
    """Act now on the signals put off (in the main thread, where their handlers run)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in list(deferred_since):
        deferred_since.pop(signum, None)
        handler = signal.getsignal(signum)
        if callable(handler):
            handler(signum, None)


def raise_interrupted(signum: int, frame: FrameType | None) -> None:
    if not deferred(signum, frame):
        raise Interrupted(signum)


def resend_swallowed(unraisable: Any, previous: Callable[[Any], None]) -> None:
    """Send again, in a moment, a signal whose ``Interrupted`` Python swallowed; pass any
    other unraisable exception on.

    Python prints and ignores an exception raised where nothing can catch it:
    in a ``__del__`` method, a weakref callback (a ``WeakSet``'s, importlib's),
    a garbage collector's callback (dask has one).  A signal handled there
    would not stop the run; sent again, it is raised somewhere that can.
    """
    if isinstance(unraisable.exc_value, Interrupted):
        signum = unraisable.exc_value.signum
        threading.Timer(RETRY_SECONDS, os.kill, (os.getpid(), signum)).start()
    else:
        previous(unraisable)


@contextlib.contextmanager
def interrupting(*signums: int) -> Iterator[None]:
    """While the block runs, each of ``signums`` raises ``Interrupted`` in the main thread.

    Elsewhere (signal handlers belong to the main thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    hook = sys.unraisablehook
    sys.unraisablehook = ours = functools.partial(resend_swallowed, previous=hook)
    try:
        with handling(signums, raise_interrupted):
            yield
    finally:
        if sys.unraisablehook is ours:  # else a hook set meanwhile calls this one: kept
            sys.unraisablehook = hook


@contextlib.contextmanager
def handling(signums: Iterable[int], handler: Handler) -> Iterator[None]:
    """While the block runs, ``handler`` handles each of ``signums``; then the handlers before
    it do again, and whatever of those signals is still put off is dropped with it."""
    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield
    finally:
        for signum, before in previous.items():
            deferred_since.pop(signum, None)
            signal.signal(signum, before)


def ctrl_c_interrupting() -> contextlib.AbstractContextManager:
    """Ctrl-C raises ``Interrupted``, unless the program has a handler of its own for it."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        return interrupting(signal.SIGINT)
    return contextlib.nullcontext()
