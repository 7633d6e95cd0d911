"""Where intermediate pairs travel between map and reduce: in memory, or through files.

In memory, each map task sends its R buckets back to the driver, which hands
bucket r of every map task to reduce task r: simple, and fine while the pairs
are small.  When the backend pickles what travels (processes), a map task
pickles each bucket itself: the driver then passes bytes along without
unpickling and pickling them again, and the bytes are counted.  Through
files, each map task writes one file per partition into a temporary folder
and sends back only the paths; each reduce task reads its own files and
writes its output to a file, which the driver merges lazily.
The driver then never holds the intermediate data or the output itself, so
memory stays bounded as inputs grow (the paper's map tasks write to local
disk for the same reason).
"""

from __future__ import annotations

import heapq
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

from backends.base import run_folder
from mapreduce.errors import MapReduceError
from mapreduce.partition import mixed_keys

Pair = tuple[Any, Any]
Spilled = list[Pair] | bytes | str
"""A partition's pairs: as they are, pickled, or the path of a file holding them."""

MODES = ("auto", "memory", "disk")
DISK_ABOVE = 64_000_000
"""``auto`` shuffles through files when the input is at least this many bytes."""
CHUNK = 10_000


FOLDER_PREFIX = "mapreduce-shuffle-"
"""A disk shuffle's folder is ``FOLDER_PREFIX<pid of the run>-<random>`` under TMPDIR."""


def make_folder() -> str:
    """A new folder for a run's disk shuffle, after removing those left by runs that died."""
    return run_folder(FOLDER_PREFIX)


def choose(mode: str, input_bytes: int) -> str:
    """``memory`` or ``disk`` for a run of ``input_bytes``, given the requested mode."""
    if mode not in MODES:
        raise ValueError(f"shuffle must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "auto":
        return "disk" if input_bytes >= DISK_ABOVE else "memory"
    return mode


def write_pairs(path: str, pairs: list[Pair]) -> None:
    """Write ``pairs`` to ``path`` in pickled chunks."""
    with open(path, "wb") as file:
        for at in range(0, len(pairs), CHUNK):
            pickle.dump(pairs[at : at + CHUNK], file, protocol=pickle.HIGHEST_PROTOCOL)


def read_pairs(spilled: Spilled) -> Iterator[Pair]:
    """The pairs of a partition held in memory or written by ``write_pairs``."""
    if isinstance(spilled, bytes):
        yield from pickle.loads(spilled)
        return
    if not isinstance(spilled, str):
        yield from spilled
        return
    with open(spilled, "rb") as file:
        while True:
            try:
                yield from pickle.load(file)
            except EOFError:
                return


def spill(pairs: list[Pair], folder: str | None, name: str, pack: bool = False) -> Spilled:
    """``pairs`` as they are or pickled (``pack``) for the memory shuffle, or written to
    ``folder/name`` for the disk shuffle."""
    if folder is None:
        return pickle.dumps(pairs, protocol=pickle.HIGHEST_PROTOCOL) if pack else pairs
    path = os.path.join(folder, name)
    try:
        write_pairs(path, pairs)
    except OSError as exc:
        raise MapReduceError(
            f"cannot write the shuffle file {path}: {exc.strerror}; the disk shuffle writes "
            f"under TMPDIR ({tempfile.gettempdir()}): make room there, set TMPDIR to a "
            "folder that has it, or use --shuffle memory"
        ) from None
    return path


def size_of(spilled: Spilled) -> int:
    """Bytes a partition takes on its way: pickled or in its file (0 if kept as objects)."""
    if isinstance(spilled, bytes):
        return len(spilled)
    return os.path.getsize(spilled) if isinstance(spilled, str) else 0


def merged(partitions: Iterable[Spilled]) -> Iterator[Pair]:
    """The pairs of key-sorted partitions merged into one key-sorted stream."""
    try:
        yield from heapq.merge(*(read_pairs(p) for p in partitions), key=itemgetter(0))
    except TypeError as exc:
        raise mixed_keys(exc) from None
