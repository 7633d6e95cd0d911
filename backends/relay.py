"""What worker processes print, passed on by the driver and held back while they start.

A worker that Python starts afresh (spawn, forkserver, loky, a dask nanny)
prints its own traceback when it fails before any code of ours runs in it: a
forkserver that cannot read its challenge, a loky worker that cannot rebuild
a semaphore (too few open files, say).  The start's error is then one line,
and those tracebacks would be printed around it.

So such processes start with pipes for their standard output and error, and
a thread of the driver reads them and writes what it reads to the driver's
own descriptors 1 and 2.  While workers start, what it reads is held back:
after a start that worked, it is written; after one that failed, it is
dropped.  A forkserver and a dask nanny start processes of their own later,
which inherit its pipes, so the pipes last as long as the driver.

Workers started by ``fork`` are not relayed: they print nothing before our
code runs in them.  The relay's threads are stopped while they are forked,
so that each fork finds the driver without threads (a lock another thread
holds at a fork stays held in the child; Python 3.12 warns of it).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

STREAMS = (1, 2)
"""The descriptors relayed: standard output and standard error."""

SETTLE_SECONDS = 1.0
"""How long the driver waits for the relay to reach what was written before a given moment."""

CHUNK = 65_536
"""Bytes read from a pipe at a time."""


class Stream:
    """One relayed descriptor: a pipe whose write end processes inherit as ``fd``, and the
    thread that reads it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.read, self.write = os.pipe()
        self.lock = threading.Lock()
        self.pending = bytearray()
        """Read and not yet passed on: a tail that may begin the next mark, or what came
        after the mark that stopped the thread."""
        self.held = bytearray()
        self.holding = False
        self.stopping = False
        self.marks: list[tuple[bytes, threading.Event]] = []
        """The marks written to the pipe and not yet read, in order, each with the event set
        when it is: one the driver stopped waiting for (a thread slow to be scheduled) is
        still taken out, never passed on as output."""
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread, unless one still reads: a stop that did not come in time is
        called off."""
        with self.lock:
            self.stopping = False
            if self.thread is not None:
                return
        self.thread = threading.Thread(target=self.pass_on, name=f"relay-{self.fd}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop the thread once it has passed on everything written before now."""
        thread, self.stopping = self.thread, True
        self.settle()
        if thread is not None:
            thread.join(SETTLE_SECONDS)

    def close(self) -> None:
        os.close(self.read)
        os.close(self.write)

    def pass_on(self) -> None:
        """Pass on what the pipe brings, until a mark reached while stopping."""
        data = b""
        while True:
            with self.lock:
                self.pending += data
                if self.step():
                    return
            data = os.read(self.read, CHUNK)

    def step(self) -> bool:
        """Pass on what is pending up to the next mark, taking the marks out; whether to
        stop."""
        while self.marks:
            mark, reached = self.marks[0]
            before, found, after = bytes(self.pending).partition(mark)
            if not found:  # keep what may be the mark's first bytes
                keep = len(mark) - 1
                self.dispatch(self.pending[:-keep])
                del self.pending[:-keep]
                return False
            self.dispatch(before)
            self.pending[:] = after
            self.marks.pop(0)
            reached.set()
            if self.stopping and not self.marks:
                self.thread = None  # under the lock: a start from now on makes a new one
                return True
        self.dispatch(self.pending)
        self.pending.clear()
        return False

    def dispatch(self, data: bytes | bytearray) -> None:
        if self.holding:
            self.held += data
        elif data:
            write_all(self.fd, bytes(data))

    def settle(self) -> None:
        """Wait until everything written to the pipe before now is passed on (or held)."""
        entry = (b"\0relay-" + os.urandom(8).hex().encode() + b"\0", threading.Event())
        with self.lock:
            self.marks.append(entry)
        if not write_all(self.write, entry[0]):
            with self.lock:  # a mark that never reaches the pipe is not waited for
                self.marks.remove(entry)
            return
        entry[1].wait(SETTLE_SECONDS)

    def hold(self) -> None:
        """Hold what comes from now on."""
        with self.lock:
            self.holding = True
            self.held.clear()

    def release(self, keep: bool) -> None:
        """Stop holding, once everything written before now is read; write what was held,
        unless ``keep`` is false."""
        self.settle()
        with self.lock:
            held, self.holding = bytes(self.held), False
            self.held.clear()
            if keep:
                write_all(self.fd, held)


def write_all(fd: int, data: bytes) -> bool:
    """Write ``data`` to ``fd``; whether it all went (a reader that went away, a closed
    terminal, takes nothing)."""
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        return False
    return True


_streams: list[Stream] | None = None
_lock = threading.RLock()
_held = False
"""Whether a start holds the relayed output now (a failed start closes its backend)."""


def streams() -> list[Stream]:
    """The relayed descriptors, their pipes and threads made on first use.  A descriptor
    that is closed is not relayed, nor any while the process is short of descriptors or
    threads (the start then fails on its own, in one line)."""
    global _streams
    if _streams is None:
        made: list[Stream] = []
        try:
            for fd in STREAMS:
                if is_open(fd):
                    made.append(Stream(fd))
                    made[-1].start()
        except (OSError, RuntimeError):
            for stream in made:
                if stream.thread is not None:
                    stream.stop()
                stream.close()
            return []
        _streams = made
    return _streams


def is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def starting(forks: bool) -> Iterator[None]:
    """While the block runs, processes started inherit the relay's pipes, and what they
    print is held: written when the block ends, dropped if it raises.  If the block
    ``forks`` its workers, the relay's threads stop instead, and start again after it.

    One start at a time: the descriptors swapped belong to the whole process.
    """
    with _lock:
        if forks:
            with paused():
                yield
            return
        with held():
            yield


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No relay thread runs while the block runs."""
    running = [stream for stream in _streams or [] if stream.thread is not None]
    for stream in running:
        stream.stop()
    try:
        yield
    finally:
        for stream in running:
            stream.start()


@contextlib.contextmanager
def held() -> Iterator[None]:
    global _held
    saved: list[tuple[Stream, int]] = []
    try:
        for stream in streams():
            saved.append((stream, os.dup(stream.fd)))
            stream.hold()
            os.dup2(stream.write, stream.fd)
    except OSError:  # too few descriptors: this start is not relayed
        restore(saved, keep=True)
        saved = []
    _held = True
    try:
        yield
    except BaseException:
        _held = False
        restore(saved, keep=False)
        raise
    _held = False
    restore(saved, keep=True)


def restore(saved: list[tuple[Stream, int]], keep: bool) -> None:
    """Put the driver's descriptors back and stop holding."""
    for stream, copy in saved:
        os.dup2(copy, stream.fd)
        os.close(copy)
        stream.release(keep)


def flush() -> None:
    """Write out now what workers printed before this call: they may be gone, and the
    driver may end, before the relay's threads come to it."""
    with _lock:
        if _held:  # a start that failed: what its processes printed is dropped with it
            return
        for stream in _streams or []:
            if stream.thread is not None:
                stream.settle()
