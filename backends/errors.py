"""The errors a backend raises, and how any exception is told in one line."""

from __future__ import annotations

import re


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
