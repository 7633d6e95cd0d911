"""``python -m mapreduce`` and the ``mapreduce`` command: see ``mapreduce.cli``.

A Ctrl-C while the command loads or reads its arguments ends it as one
during a run does: one line and status 130, not a traceback of the import it
cut.  This module imports nothing before it is ready for one (its own imports
are inside ``launch``), and the package imports the engine only when its
names are first used.
"""

INTERRUPTED = 130
"""The exit status of a run ended by Ctrl-C (128 + SIGINT)."""


def load_libgcc() -> None:
    """Load the library glibc needs the first time a thread ends (Linux).

    glibc loads it then, and a process that has run out of memory (``ulimit
    -v``) cannot: it aborts, "libgcc_s.so.1 must be installed for pthread_exit
    to work", after the run's own one-line error.
    """
    import contextlib
    import sys

    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError):
            ctypes.CDLL("libgcc_s.so.1")


def launch(program: str, module: str) -> int:
    """Import ``module``'s ``main`` and run it; a Ctrl-C before it takes over is one line.

    ``main`` answers a Ctrl-C during its command; one while it loads, or while
    it builds its parser and reads the arguments, ends here.  From the first
    import on, a Ctrl-C raises ``Interrupted``, which is sent again if Python
    swallowed it: an import can be cut inside the callback that drops its
    module lock, where the exception is printed and the import goes on.
    """
    import sys  # loaded with Python itself: nothing to cut

    try:
        import importlib

        from mapreduce.interrupts import ctrl_c_interrupting

        with ctrl_c_interrupting():
            load_libgcc()
            status = importlib.import_module(module).main()
    except BrokenPipeError:  # ``explain ... | head``: the reader left before the end
        stop_writing(sys.stdout)
        print(f"{program}: error: standard output was closed before the output was all written",
              file=sys.stderr)  # fmt: skip
        status = 1
    except BaseException as exc:
        stop = ctrl_c_of(exc)
        if stop is None:
            raise
        print(f"{program}: interrupted", file=sys.stderr)
        status = getattr(stop, "status", INTERRUPTED)
    if status == INTERRUPTED:
        keep_status()
    return status


def ctrl_c_of(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C that ``exc`` is, or was raised from: Python 3.11 raises a
    ``RuntimeError`` from one that cut a class's ``__set_name__`` as a module loaded."""
    seen: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and not any(link is s for s in seen):
        if isinstance(link, KeyboardInterrupt):
            return link
        seen.append(link)
        link = link.__cause__
    return None


def stop_writing(stream) -> None:
    """Point ``stream``'s descriptor at the null device, so that the flush at exit of what
    is still buffered for a closed pipe raises nothing more."""
    import os

    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, stream.fileno())
    os.close(null)


def keep_status() -> None:
    """Make sure an interrupted run exits with the status it chose.

    Python ends by sending itself a SIGINT, whatever status it was given, when
    a Ctrl-C it caught came while it ran code compiled from a string (a
    dataclass's ``__init__``, or a ``.pth`` line at start-up): blocked, that
    signal is never delivered, and the process exits with its own status.  The
    run is over by then, so a later Ctrl-C has nothing left to stop.
    """
    import signal

    if hasattr(signal, "pthread_sigmask"):  # POSIX
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def main() -> int:
    return launch("mapreduce", "mapreduce.cli")


if __name__ == "__main__":
    raise SystemExit(main())
