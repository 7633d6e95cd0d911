"""Jobs' default inputs: generated once from a seed, kept in a cache folder.

Nothing is downloaded: each job's generator writes its default input, and the
file is reused while its name (job, size, seed) matches.  The folder is
``.data/`` in the working directory, or ``$MAPREDUCE_STUDY_DATA``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from mapreduce.errors import InputError
from mapreduce.job import Job


def data_dir() -> Path:
    """Where generated inputs are kept."""
    return Path(os.environ.get("MAPREDUCE_STUDY_DATA", ".data"))


def default_input(job: type[Job], size: int | None = None, seed: int = 1) -> Path:
    """The path of ``job``'s generated input of ``size`` bytes, made if missing.

    Runs that want the same missing input at once make it once: one generates
    while the others wait for it (a lock on the folder), into a temporary file
    of its own renamed into place when complete, and removed if it is cut short.
    """
    size = size or job.default_size
    path = data_dir() / f"{job.name}-{size}-seed{seed}.txt"
    if path.exists():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path.parent):
            if not path.exists():  # another run may have made it while this one waited
                made_whole(path, lambda temporary: job.generate_input(temporary, size, seed))
    except OSError as exc:
        raise InputError(
            f"cannot write {job.name}'s generated input to {path}: {exc.strerror}; "
            "set MAPREDUCE_STUDY_DATA to a folder you can write to"
        ) from None
    return path


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (``flock``; where there is none, no lock)."""
    if fcntl is None:
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # and the lock with it


def made_whole(path: Path, write: Callable[[str], None]) -> None:
    """Make ``path`` by ``write``-ing a temporary file beside it and renaming it into place;
    on any failure or interruption the temporary file is removed."""
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}-", suffix=".partial"
    )
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
