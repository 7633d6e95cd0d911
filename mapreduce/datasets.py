"""Jobs' default inputs: generated once from a seed, kept in a cache folder.

Nothing is downloaded: each job's generator writes its default input, and the
file is reused while its name (job, size, seed) matches.  The folder is
``.data/`` in the working directory, or ``$MAPREDUCE_STUDY_DATA``.
"""

from __future__ import annotations

import os
from pathlib import Path

from mapreduce.errors import InputError
from mapreduce.job import Job


def data_dir() -> Path:
    """Where generated inputs are kept."""
    return Path(os.environ.get("MAPREDUCE_STUDY_DATA", ".data"))


def default_input(job: type[Job], size: int | None = None, seed: int = 1) -> Path:
    """The path of ``job``'s generated input of ``size`` bytes, made if missing."""
    size = size or job.default_size
    path = data_dir() / f"{job.name}-{size}-seed{seed}.txt"
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            job.generate_input(str(partial), size, seed)
            partial.replace(path)
        except OSError as exc:
            raise InputError(
                f"cannot write {job.name}'s generated input to {path}: {exc.strerror}; "
                "set MAPREDUCE_STUDY_DATA to a folder you can write to"
            ) from None
    return path
