"""Stopping signals as an exception that unwinds a run: the pool closed, partial files removed.

Ctrl-C (SIGINT), and in the CLI SIGTERM and SIGHUP too, raise ``Interrupted``
in the main thread.  It is a ``KeyboardInterrupt``, so code that stops on
Ctrl-C stops on it, but a distinct one: a ``KeyboardInterrupt`` that a job's
own code raises is a failure of its task, not a request to stop the run.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # kept out of the import a Ctrl-C may cut at start-up (``mapreduce.__main__``)
    from collections.abc import Callable, Iterator
    from types import FrameType
    from typing import Any


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


def raise_interrupted(signum: int, frame: FrameType | None) -> None:
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
    previous = {signum: signal.signal(signum, raise_interrupted) for signum in signums}
    hook = sys.unraisablehook
    sys.unraisablehook = ours = functools.partial(resend_swallowed, previous=hook)
    try:
        yield
    finally:
        if sys.unraisablehook is ours:  # else a hook set meanwhile calls this one: kept
            sys.unraisablehook = hook
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def ctrl_c_interrupting() -> contextlib.AbstractContextManager:
    """Ctrl-C raises ``Interrupted``, unless the program has a handler of its own for it."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        return interrupting(signal.SIGINT)
    return contextlib.nullcontext()
