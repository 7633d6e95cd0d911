"""Stopping signals as an exception that unwinds a run: the pool closed, partial files removed.

Ctrl-C (SIGINT), and in the CLI SIGTERM and SIGHUP too, raise ``Interrupted``
in the main thread.  It is a ``KeyboardInterrupt``, so code that stops on
Ctrl-C stops on it, but a distinct one: a ``KeyboardInterrupt`` that a job's
own code raises is a failure of its task, not a request to stop the run.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType


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


def swallows_exceptions(frame: FrameType | None) -> bool:
    """Whether an exception raised in ``frame`` would be printed and lost, not raised.

    Python ignores (after printing them) exceptions from ``__del__`` methods,
    weakref callbacks, such as the one importlib runs as it frees a module's
    lock, and the garbage collector's callbacks (dask has one): an
    interruption raised there would not stop the run.
    """
    if frame is None:
        return False
    code = frame.f_code
    return (
        code.co_name == "__del__"
        or (code.co_filename.startswith("<frozen importlib") and code.co_name == "cb")
        or code in {getattr(getattr(c, "__func__", c), "__code__", None) for c in gc.callbacks}
    )


def raise_interrupted(signum: int, frame: FrameType | None) -> None:
    if swallows_exceptions(frame):  # send it again in a moment, to be raised somewhere safe
        threading.Timer(RETRY_SECONDS, os.kill, (os.getpid(), signum)).start()
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def interrupting(*signums: int) -> Iterator[None]:
    """While the block runs, each of ``signums`` raises ``Interrupted`` in the main thread.

    Elsewhere (signal handlers belong to the main thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, raise_interrupted) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def ctrl_c_interrupting() -> contextlib.AbstractContextManager:
    """Ctrl-C raises ``Interrupted``, unless the program has a handler of its own for it."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        return interrupting(signal.SIGINT)
    return contextlib.nullcontext()
